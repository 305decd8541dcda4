"""The outbox relay: publishes committed outbox rows to JetStream, in order, exactly once per id.

One relay is active per service database. On PostgreSQL the active one holds a
session advisory lock, so replicas stand by instead of interleaving batches
(which would reorder events); on SQLite there is only one process anyway.
Publishes are pipelined (a whole batch in flight, acknowledgements awaited
together); a batch is marked published only up to its first failure, so the
rest is retried in order and JetStream's de-duplication drops any repeat.
On PostgreSQL, marking batch k runs while batch k+1 is read and published
(the rows being marked are skipped when reading), which hides the database
round trips; SQLite's single writer makes the relay do them in turn.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.js import JetStreamContext
from sqlalchemy import Integer, Table, bindparam, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_runtime.db import Database
from vanthu_runtime.messaging.outbox import Outbox

log = logging.getLogger("vanthu.outbox")
# How often an idle leader checks the connection that holds its advisory lock.
LOCK_CHECK_INTERVAL_S = 1.0


def _lock_key(service: str) -> int:
    # A stable signed 64-bit key per service for pg_try_advisory_lock.
    return int.from_bytes(
        hashlib.sha256(f"vanthu-outbox:{service}".encode()).digest()[:8], "big", signed=True
    )


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        outbox: Outbox,
        *,
        service: str,
        batch_size: int = 500,
        poll_interval_s: float = 0.2,
        publish_timeout_s: float = 10.0,
        keep_published_for: timedelta = timedelta(days=2),
        metrics: Any = None,
    ) -> None:
        self.db = db
        self.js = js
        self.outbox = outbox
        self.table: Table = outbox.table
        self.service = service
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.publish_timeout_s = publish_timeout_s
        self.keep_published_for = keep_published_for
        self.metrics = metrics
        self.is_leader = False
        self.published_total = 0
        self._last_purge = 0.0
        self._marking: set[str] = set()
        self._mark_task: asyncio.Task[None] | None = None
        self._prefetch: asyncio.Task[list[Any]] | None = None
        # Overlapping reads and marking with publishing needs concurrent transactions: PostgreSQL.
        # SQLite has one writer at a time (every transaction starts IMMEDIATE), so there the relay
        # reads, publishes and marks in turn.
        self._overlap = db.dialect == "postgresql"
        # Each read and each marking is one statement: on PostgreSQL it runs outside a transaction
        # (`Database.autocommit`). A crash between two marking chunks leaves rows published but
        # unmarked, which is the case the relay already handles: they are published again and
        # JetStream drops them.
        self._single = db.autocommit
        # Built once, bound per batch: building them anew cost more than running them at one event a batch.
        table = self.table
        self._read = (
            select(table.c.id, table.c.subject, table.c.type, table.c.data, table.c.headers)
            .where(table.c.published_at.is_(None))
            .order_by(table.c.id)
            .limit(bindparam("n", type_=Integer))
        )
        self._marked = (
            update(table)
            .where(table.c.id.in_(bindparam("ids", expanding=True)))
            .values(published_at=bindparam("now"))
        )

    async def run(self) -> None:
        """Relay until cancelled. Never raises: errors are logged and retried."""
        while True:
            try:
                if self.db.dialect == "postgresql":
                    await self._run_as_pg_leader()
                else:
                    self.is_leader = True
                    try:
                        await self._loop(None)
                    finally:
                        await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.is_leader = False
                log.exception("outbox relay failed; retrying in 1 s")
                await asyncio.sleep(1.0)

    async def _run_as_pg_leader(self) -> None:
        async with self.db.engine.connect() as lock_conn:
            while True:
                got = (
                    await lock_conn.execute(
                        text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key(self.service)}
                    )
                ).scalar()
                await lock_conn.commit()
                if got:
                    break
                self.is_leader = False
                await asyncio.sleep(max(self.poll_interval_s, 1.0))
            self.is_leader = True
            log.info("outbox relay for %s is active", self.service)
            try:
                await self._loop(lock_conn)
            finally:
                self.is_leader = False
                await self.flush()

    async def _loop(self, lock_conn: AsyncConnection | None) -> None:
        checked = time.monotonic()
        while True:
            sent = await self.relay_once()
            if lock_conn is not None and sent == 0 and time.monotonic() - checked >= LOCK_CHECK_INTERVAL_S:
                # Cheap liveness check of the connection that holds the lock. Not after every
                # empty read: a commit's wake-up often finds its rows already published, and a
                # check per wake-up cost a busy worker a round trip per event.
                await lock_conn.execute(text("SELECT 1"))
                await lock_conn.commit()
                checked = time.monotonic()
            await self._purge_if_due()
            if sent < self.batch_size:
                await self.outbox.wait(self.poll_interval_s)

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many were marked published."""
        started = time.perf_counter()
        prefetch, self._prefetch = self._prefetch, None
        rows = await prefetch if prefetch is not None else []
        if not rows:  # a prefetch can be stale-empty after an idle wait: look again
            rows = await self._pending_rows(set(self._marking))
        if not rows:
            return 0
        if self._overlap and len(rows) >= self.batch_size:
            # Read the next batch while this one is on the wire (its rows and the ones being marked skipped).
            # A short batch was all there was: what commits next wakes the relay, and a read ahead
            # would only find nothing, or be read again as stale (two reads per event at low rates).
            self._prefetch = asyncio.create_task(self._pending_rows(self._marking | {row.id for row in rows}))

        async def publish(row: Any) -> None:
            headers = dict(row.headers or {})
            headers["Nats-Msg-Id"] = row.id
            await self.js.publish(row.subject, row.data, headers=headers, timeout=self.publish_timeout_s)

        results = await asyncio.gather(*(publish(row) for row in rows), return_exceptions=True)
        done: list[str] = []
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("publish of %s to %s failed: %r; will retry", row.id, row.subject, result)
                break
            done.append(row.id)
        if done and self._overlap:
            await self._settle_marking()  # at most one marking in flight
            self._marking = set(done)
            self._mark_task = asyncio.create_task(self._mark(done))
        elif done:
            await self._mark(done)
        self.published_total += len(done)
        if self.metrics is not None:
            self.metrics.outbox_relay_seconds.observe(time.perf_counter() - started)
            self._count_published(rows[: len(done)])
        if len(done) < len(rows):
            await self._drop_prefetch()  # the failed tail goes first next time, to keep the order
            await asyncio.sleep(0.5)  # back off a little before retrying it
        return len(done)

    async def _pending_rows(self, skip: set[str]) -> list[Any]:
        limit = {"n": self.batch_size + len(skip)}
        if self._single is not None:
            async with self._single.connect() as conn:
                rows = (await conn.execute(self._read, limit)).all()
        else:
            async with self.db.engine.connect() as conn:
                rows = (await conn.execute(self._read, limit)).all()
        return [row for row in rows if row.id not in skip][: self.batch_size]

    async def _drop_prefetch(self) -> None:
        # Let a read-ahead finish rather than cancel it mid-query: a cancelled database call
        # can leave its connection in a transaction until it is collected.
        task, self._prefetch = self._prefetch, None
        if task is not None:
            await asyncio.gather(asyncio.shield(task), return_exceptions=True)

    async def _mark(self, ids: list[str]) -> None:
        now = datetime.now(UTC)
        chunks = [{"ids": ids[start : start + 500], "now": now} for start in range(0, len(ids), 500)]
        if self._single is not None:
            async with self._single.connect() as conn:
                for chunk in chunks:
                    await conn.execute(self._marked, chunk)
            return
        async with self.db.transaction() as session:
            for chunk in chunks:
                await session.execute(self._marked, chunk)

    async def _settle_marking(self) -> None:
        """Wait for the marking in flight. If it failed, those rows are simply published again later."""
        task, self._mark_task = self._mark_task, None
        if task is not None:
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning(
                    "marking a published batch failed; it will be re-published (deduplicated)", exc_info=True
                )
        self._marking = set()

    async def flush(self) -> None:
        """Finish marking what was published and drop any read-ahead (tests, shutdown)."""
        await self._drop_prefetch()
        await self._settle_marking()

    def _count_published(self, rows: list[Any]) -> None:
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.type] = counts.get(row.type, 0) + 1
        for event_type, n in counts.items():
            self.metrics.events_published_total.labels(self.service, event_type).inc(n)

    async def pending(self) -> int:
        await self.flush()
        async with self.db.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(self.table)
                        .where(self.table.c.published_at.is_(None))
                    )
                ).scalar_one()
            )

    async def _purge_if_due(self) -> None:
        if time.monotonic() - self._last_purge < 60:
            return
        self._last_purge = time.monotonic()
        cutoff = datetime.now(UTC) - self.keep_published_for
        async with self.db.transaction() as session:
            await session.execute(
                delete(self.table).where(
                    self.table.c.published_at.is_not(None), self.table.c.published_at < cutoff
                )
            )
