"""Transactional outbox: events are rows written in the same transaction as the state change.

A relay (relay.py) later publishes them to JetStream with the envelope id as
`Nats-Msg-Id`. If the process dies between publishing and marking, the row is
published again after restart with the same id, and JetStream drops the copy.
"""

from __future__ import annotations

import asyncio
from contextvars import Context
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events.registry import publish_subject


class Outbox:
    def __init__(self, table: Table) -> None:
        from vanthu_runtime.telemetry import tracer

        self.table = table
        self._wake = asyncio.Event()
        # Built once: the statement (its compiled form is cached) and the tracer (a proxy until
        # tracing is set up, then the real one) cost more than the row itself when made per event.
        self._insert = insert(table)
        self._tracer = tracer("vanthu.outbox")

    async def add(
        self,
        session: AsyncConnection,
        envelope: Envelope,
        *,
        subject: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue one message inside the caller's transaction, written at once.

        Events go to the subject their type names; jobs pass their subject. The
        current trace context is saved with the row, so the consumer's span joins
        the trace of the request that caused the event, not the relay's.
        """
        await self.insert(session, [self.row(envelope, subject, headers)])

    def rows(self, envelopes: list[Envelope], contexts: list[Context] | None = None) -> list[dict[str, Any]]:
        """Rows of several events; `contexts[i]` is the context (trace) event i was caused in,
        when that is not this one."""
        if contexts is None:
            return [self.row(e) for e in envelopes]
        return [c.run(self.row, e) for e, c in zip(envelopes, contexts, strict=True)]

    async def insert(self, session: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        """Write rows made by `row`/`rows` in the caller's transaction: one statement for all."""
        if rows:
            await session.execute(self._insert, rows)

    def row(
        self, envelope: Envelope, subject: str | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """The outbox row of one message, with the trace context of this moment."""
        from opentelemetry.trace import SpanKind

        from vanthu_runtime.telemetry import inject_headers

        # A secret document's events go under vanthu.evt.secret.> (contracts decide which).
        subject = subject or publish_subject(envelope.type, envelope.payload)
        # A short PRODUCER span, child of the request's span; its context travels with the row.
        with self._tracer.start_as_current_span(
            f"{subject} create",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": subject,
                "messaging.message.id": envelope.msg_id,
            },
        ):
            stored_headers = inject_headers(dict(headers or {}))
        return {
            "id": envelope.msg_id,
            "subject": subject,
            "type": envelope.type,
            "data": envelope.model_dump_json().encode(),
            "headers": stored_headers,
            "created_at": datetime.now(UTC),
            "published_at": None,
        }

    def wake(self) -> None:
        """Tell the relay something committed; call after the transaction commits."""
        self._wake.set()

    async def wait(self, seconds: float) -> None:
        """Sleep until woken or `seconds` pass, whichever is first."""
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            pass
        self._wake.clear()
