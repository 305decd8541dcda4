"""Writing, sealing and verifying the hash-chained audit log.

A change (or a read) writes its entry into `audit_pending` inside its own transaction,
so a rolled-back change leaves no entry and a committed one always has its entry. The
sealer then moves pending entries into `audit_log` in order: it locks the head row
(the last sequence number and hash), gives each entry the next number and its hash
`SHA-256(hash(n-1) ‖ canonical JSON of entry n)`, and deletes it from pending, all in
one transaction. Requests never wait on the chain's single lock; one sealer at a time
(per database) holds it. Entries are sealed within about a second; `verify` checks the
sealed chain and reports how many wait.

Every `anchor_interval_s` (and at the first sealing after start) the sealing transaction also
queues `registry.audit.sealed` with the head it reached: anchors kept outside this database,
against which `verify_log` can check a log whose chain was rewritten consistently or cut.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.envelope import Envelope, new_event_id
from vanthu_contracts.events import registry as contract
from vanthu_registry.caller import Caller
from vanthu_registry.domain.audit import Anchor, AuditEntry, Problem, chain_hash, check_anchors, verify
from vanthu_registry.tables import audit_head, audit_log, audit_pending
from vanthu_runtime.uow import UnitOfWork

log = logging.getLogger("vanthu.registry.audit")
FIELDS = ("at", "actor", "on_behalf_of", "agency_code", "action", "target_type", "target_id", "source_ip", "details")


def _utc_naive(at: datetime) -> datetime:
    # SQLite gives datetimes back without a zone; hashing UTC wall time keeps both back ends equal.
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


async def append(
    session: AsyncConnection,
    caller: Caller,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Record who did what to which target, from where, in the caller's transaction."""
    # Round-trip through JSON so what is hashed later is exactly what the JSON column gives back.
    clean = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
    await session.execute(
        audit_pending.insert(),
        {
            "id": str(new_event_id()),
            "at": datetime.now(UTC),
            "actor": caller.user_id,
            "on_behalf_of": caller.on_behalf_of,
            "agency_code": caller.agency,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "source_ip": caller.source_ip,
            "details": clean,
        },
    )


def _entry(row: Any, seq: int, prev_hash: str, digest: str = "") -> AuditEntry:
    return AuditEntry(
        seq=seq,
        at=_utc_naive(row.at),
        actor=row.actor,
        on_behalf_of=row.on_behalf_of,
        agency=row.agency_code,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        source_ip=row.source_ip,
        details=row.details,
        prev_hash=prev_hash,
        hash=digest,
    )


async def seal(uow: UnitOfWork, batch: int = 250, *, anchor: bool = False) -> int:
    """Chain up to `batch` pending entries; returns how many were sealed. With `anchor`, the
    head reached is published (`registry.audit.sealed`) in the same transaction.

    Small batches keep each pass short, so the event loop it shares with requests is
    never held for long."""
    async with uow.begin() as tx:
        session = tx.session
        head = (
            await session.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update())
        ).one()
        rows = (
            await session.execute(select(audit_pending).order_by(audit_pending.c.at, audit_pending.c.id).limit(batch))
        ).all()
        if not rows:
            return 0
        seq, prev = head.seq, head.hash
        values = []
        for row in rows:
            seq += 1
            entry = _entry(row, seq, prev)
            prev = chain_hash(prev, entry)
            values.append({"seq": seq, "prev_hash": entry.prev_hash, "hash": prev, **{k: getattr(row, k) for k in FIELDS}})
        await session.execute(audit_log.insert(), values)
        await session.execute(delete(audit_pending).where(audit_pending.c.id.in_([r.id for r in rows])))
        await session.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=prev))
        if anchor:
            first = values[0]["hash"] if head.seq == 0 else await _first_hash(session)
            payload = contract.AuditSealed(chain=first, seq=seq, hash=prev, sealed_at=datetime.now(UTC))
            await tx.publish(Envelope(type=contract.AUDIT_SEALED.type, source="registry", payload=payload))
    return len(rows)


async def _first_hash(session: AsyncConnection) -> str:
    return (await session.execute(select(audit_log.c.hash).where(audit_log.c.seq == 1))).scalar_one()


class Sealer:
    """Background task: seal pending entries every `interval_s` seconds; anchor the head at the
    first sealing and then at most every `anchor_interval_s` (0: every sealing)."""

    def __init__(self, uow: UnitOfWork, interval_s: float = 0.5, anchor_interval_s: float = 30.0) -> None:
        self.uow = uow
        self.interval_s = interval_s
        self.anchor_interval_s = anchor_interval_s
        self._anchored_at: float | None = None

    def _anchor_due(self) -> bool:
        now = asyncio.get_running_loop().time()
        return self._anchored_at is None or now - self._anchored_at >= self.anchor_interval_s

    async def run(self) -> None:
        while True:
            try:
                anchor = self._anchor_due()
                sealed = await seal(self.uow, anchor=anchor)
                if sealed and anchor:
                    self._anchored_at = asyncio.get_running_loop().time()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sealing the audit log failed")
                sealed = 0
            if sealed == 0:
                await asyncio.sleep(self.interval_s)


async def entries(session: AsyncConnection, batch: int = 5000) -> AsyncIterator[AuditEntry]:
    """Every sealed entry in storage order (by sequence), streamed in batches."""
    after = 0
    while True:
        rows = (
            await session.execute(select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(batch))
        ).all()
        if not rows:
            return
        for row in rows:
            yield _entry(row, row.seq, row.prev_hash, row.hash)
        after = rows[-1].seq


@dataclass
class Verification:
    checked: int  # sealed entries
    problems: list[Problem]
    waiting: int  # entries not sealed yet
    anchors: int | None = None  # anchors of this log checked; None: not asked for


async def verify_log(session: AsyncConnection, anchors: list[Anchor] | None = None) -> Verification:
    """Check the sealed chain against itself and its head, and against `anchors` if given."""
    head = (await session.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1))).one()
    collected = [e async for e in entries(session)]
    waiting = (await session.execute(select(func.count()).select_from(audit_pending))).scalar_one()
    report = Verification(len(collected), verify(collected, head.seq, head.hash), waiting)
    if anchors is not None:
        report.anchors, problems = check_anchors({e.seq: e.hash for e in collected}, anchors)
        report.problems += problems
    return report


async def trail(session: AsyncConnection, target_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """A target's entries, newest first, sealed or not yet."""
    columns = [*(getattr(audit_log.c, k) for k in FIELDS)]
    sealed = select(*columns, audit_log.c.seq.label("seq")).where(audit_log.c.target_id == target_id)
    pending = select(*(getattr(audit_pending.c, k) for k in FIELDS), func.cast(None, audit_log.c.seq.type).label("seq")).where(
        audit_pending.c.target_id == target_id
    )
    both = union_all(sealed, pending).subquery()
    rows = (await session.execute(select(both).order_by(both.c.at.desc()).limit(limit))).mappings().all()
    return [dict(r) | {"on_behalf_of": r["on_behalf_of"], "sealed": r["seq"] is not None} for r in rows]
