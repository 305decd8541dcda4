"""Unit of work: one transaction that holds the state change, the outgoing events and the inbox claim."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import Context

from sqlalchemy.ext.asyncio import AsyncSession

from vanthu_contracts.envelope import Envelope
from vanthu_runtime.db import Database
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox


class Tx:
    """What a use case sees inside a unit of work."""

    def __init__(self, session: AsyncSession, outbox: Outbox, inbox: Inbox) -> None:
        self.session = session
        self._outbox = outbox
        self._inbox = inbox
        self.published = 0

    async def publish(self, envelope: Envelope, *, subject: str | None = None) -> None:
        """Queue an event (or a job, with its subject); it leaves only if the transaction commits."""
        await self._outbox.add(self.session, envelope, subject=subject)
        self.published += 1

    async def publish_many(self, envelopes: list[Envelope], contexts: list[Context] | None = None) -> None:
        """Queue several events in one statement; `contexts`: the context each was caused in."""
        await self._outbox.add_many(self.session, envelopes, contexts)
        self.published += len(envelopes)

    async def claim(self, consumer: str, event_id: object) -> bool:
        """Record that `consumer` applies `event_id` now; False if it already did."""
        return await self._inbox.claim(self.session, consumer, str(event_id))


class UnitOfWork:
    def __init__(self, db: Database, outbox: Outbox, inbox: Inbox) -> None:
        self.db = db
        self.outbox = outbox
        self.inbox = inbox

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Tx]:
        async with self.db.sessions() as session:
            async with session.begin():
                tx = Tx(session, self.outbox, self.inbox)
                yield tx
            if tx.published:
                self.outbox.wake()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries (no outbox, no commit of changes)."""
        async with self.db.sessions() as session:
            yield session
