"""Who may read each secret document: routing's projection of the registry's secret grants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_routing.repos.sql import insert_ignore
from vanthu_routing.repository import secret_readers


class SecretReaderRepo:
    def __init__(self, session: AsyncConnection) -> None:
        self.session = session

    async def add(self, document_id: str, user_id: str, source: str, at: datetime) -> bool:
        """Record a reader; False when already recorded (a grant announced twice)."""
        return await insert_ignore(
            self.session,
            secret_readers,
            {"document_id": document_id, "user_id": user_id, "source": source, "granted_at": at},
            ["document_id", "user_id"],
        )

    async def of(self, document_id: str) -> set[str]:
        rows = await self.session.execute(
            select(secret_readers.c.user_id).where(secret_readers.c.document_id == document_id)
        )
        return set(rows.scalars())
