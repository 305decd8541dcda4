"""The hash chain of the audit log.

Entry n stores hash(n) = SHA-256(hash(n-1) ‖ canonical JSON of entry n, its
sequence number included). Changing an entry breaks its own hash; moving one
breaks the links around it; deleting one leaves a hole in the sequence and a
link that points at nothing; cutting the tail disagrees with the head record
kept beside the log. `verify` finds the first of each.

Someone able to write the database can also rewrite entries and compute every hash (and the
head) again, or cut the newest entries and move the head back: the chain stays consistent.
Anchors (the hash the log had at some entry, published outside the database as the log grows)
catch both: `check_anchors` compares the log with them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
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
    kind: str  # modified | reordered | deleted | truncated | rewritten | unanchored
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


@dataclass(frozen=True)
class Anchor:
    """The log `chain` (its first entry's hash) had reached entry `seq`, with `hash`, at `sealed_at`."""

    chain: str
    seq: int
    hash: str
    sealed_at: datetime


def check_anchors(hashes: Mapping[int, str], anchors: Iterable[Anchor]) -> tuple[int, list[Problem]]:
    """(anchors of this log checked, problems). `hashes` maps each entry of the log to its stored
    hash. Anchors of other logs (other registries on the same event stream) are left aside. A log
    with entries and no anchor of its own is a problem: its first entry was changed (when anchors
    of another log are there), or its anchors were removed (the registry anchors at its first
    sealing)."""
    problems: list[Problem] = []
    first = hashes.get(1)
    head = max(hashes, default=0)
    ours = others = 0
    for anchor in sorted(anchors, key=lambda a: a.seq):
        if anchor.chain != first:
            others += 1
            continue
        ours += 1
        if anchor.seq > head:
            problems.append(
                Problem(anchor.seq, "truncated", f"anchored at entry {anchor.seq} on {anchor.sealed_at:%Y-%m-%d %H:%M}, the log ends at {head}")
            )
        elif hashes.get(anchor.seq) != anchor.hash:
            problems.append(
                Problem(anchor.seq, "rewritten", f"the entry differs from the one anchored on {anchor.sealed_at:%Y-%m-%d %H:%M}")
            )
    if first is not None and not ours:
        why = f"{others} name another log: its first entry was changed" if others else "the anchors are missing"
        problems.append(Problem(1, "unanchored", f"no anchor names this log; {why}"))
    return ours, problems
