"""Inbox: a consumer records each event id it applied, in the effect's own transaction.

JetStream delivers at least once (and the outbox may publish a message twice
outside the de-duplication window), so the effect is guarded by the primary key
(consumer, event_id): the second claim inserts nothing and the handler skips.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_runtime.db import dialect_insert


class Inbox:
    def __init__(self, table: Table) -> None:
        self.table = table
        # One statement per dialect, built once: a claim runs with every event applied, and
        # building it anew cost SQLAlchemy about as much CPU as running it.
        self._claims: dict[str, Any] = {}

    async def claim(self, session: AsyncConnection, consumer: str, event_id: str) -> bool:
        """True when this is the first time `consumer` applies `event_id`."""
        dialect = session.dialect.name
        statement = self._claims.get(dialect)
        if statement is None:
            statement = self._claims[dialect] = dialect_insert(dialect)(self.table).on_conflict_do_nothing(
                index_elements=["consumer", "event_id"]
            )
        result = await session.execute(
            statement, {"consumer": consumer, "event_id": str(event_id), "applied_at": datetime.now(UTC)}
        )
        return result.rowcount == 1
