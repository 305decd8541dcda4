"""Writing, sealing and verifying the hash-chained audit log.

A change (or a read) writes its entry into `audit_pending` inside its own transaction,
so a rolled-back change leaves no entry and a committed one always has its entry. The
sealer then moves pending entries into `audit_log` in order: it locks the head row
(the last sequence number and hash), gives each entry the next number and its hash
`SHA-256(hash(n-1) ‖ canonical JSON of entry n)`, and deletes it from pending, all in
one transaction. Requests never wait on the chain's single lock; one sealer at a time
(per database) holds it. Entries are sealed within about a second; `verify` checks the
sealed chain and reports how many wait.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.envelope import new_event_id
from vanthu_registry.caller import Caller
from vanthu_registry.domain.audit import AuditEntry, Problem, chain_hash, verify
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


async def seal(uow: UnitOfWork, batch: int = 250) -> int:
    """Chain up to `batch` pending entries; returns how many were sealed.

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
    return len(rows)


class Sealer:
    """Background task: seal pending entries every `interval_s` seconds."""

    def __init__(self, uow: UnitOfWork, interval_s: float = 0.5) -> None:
        self.uow = uow
        self.interval_s = interval_s

    async def run(self) -> None:
        while True:
            try:
                sealed = await seal(self.uow)
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


async def verify_log(session: AsyncConnection) -> tuple[int, list[Problem], int]:
    """(sealed entries checked, problems found, entries still waiting to be sealed)."""
    head = (await session.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1))).one()
    collected = [e async for e in entries(session)]
    waiting = (await session.execute(select(func.count()).select_from(audit_pending))).scalar_one()
    return len(collected), verify(collected, head.seq, head.hash), waiting


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
