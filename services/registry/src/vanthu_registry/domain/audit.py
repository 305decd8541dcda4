"""The hash chain of the audit log.

Entry n stores hash(n) = SHA-256(hash(n-1) ‖ canonical JSON of entry n, its
sequence number included). Changing an entry breaks its own hash; moving one
breaks the links around it; deleting one leaves a hole in the sequence and a
link that points at nothing; cutting the tail disagrees with the head record
kept beside the log. `verify` finds the first of each.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    on_behalf_of: str | None
    agency: str | None
    action: str
    target_type: str
    target_id: str
    source_ip: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str = ""

    def canonical(self) -> bytes:
        body = {
            "seq": self.seq,
            "at": self.at.isoformat(timespec="microseconds"),
            "actor": self.actor,
            "on_behalf_of": self.on_behalf_of,
            "agency": self.agency,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "source_ip": self.source_ip,
            "details": self.details,
        }
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + entry.canonical()).hexdigest()


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # modified | reordered | deleted | truncated
    detail: str


def verify(entries: Iterable[AuditEntry], head_seq: int, head_hash: str) -> list[Problem]:
    """Walk the log in storage order; report what does not chain."""
    problems: list[Problem] = []
    expected_prev = GENESIS
    expected_seq = 1
    last_seq = 0
    last_hash = GENESIS
    for entry in entries:
        if entry.seq != expected_seq:
            kind = "deleted" if entry.seq > expected_seq else "reordered"
            problems.append(Problem(entry.seq, kind, f"expected entry {expected_seq}, found {entry.seq}"))
        elif entry.prev_hash != expected_prev:
            problems.append(Problem(entry.seq, "reordered", "link to the previous entry does not match"))
        if chain_hash(entry.prev_hash, entry) != entry.hash:
            problems.append(Problem(entry.seq, "modified", "content does not match its hash"))
        expected_prev = entry.hash
        expected_seq = entry.seq + 1
        last_seq, last_hash = entry.seq, entry.hash
    if last_seq != head_seq or last_hash != head_hash:
        problems.append(
            Problem(last_seq, "truncated", f"the log ends at {last_seq} but the head says {head_seq}")
        )
    return problems
