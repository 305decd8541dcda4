"""A user's notifications, their e-mail preference, and the reminders already sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_routing.repos.sql import upsert
from vanthu_routing.repository import dir_users, notification_prefs, notifications, reminders_sent
from vanthu_runtime.db import dialect_insert

# Rows per INSERT … RETURNING: two parameters each, far below SQLite's and asyncpg's limits.
REMEMBER_CHUNK = 1000


class NotificationRepo:
    def __init__(self, session: AsyncConnection) -> None:
        self.session = session

    async def page(self, user_id: str, unread_only: bool, limit: int, offset: int) -> tuple[list[dict[str, Any]], int, int]:
        conditions = [notifications.c.user_id == user_id]
        if unread_only:
            conditions.append(notifications.c.read_at.is_(None))
        rows = (
            await self.session.execute(
                select(notifications)
                .where(*conditions)
                .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ).mappings().all()
        total = (await self.session.execute(select(func.count()).where(*conditions))).scalar_one()
        unread = (
            await self.session.execute(
                select(func.count()).where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
            )
        ).scalar_one()
        return [dict(r) for r in rows], total, unread

    async def mark_read(self, user_id: str, ids: list[str] | None, at: datetime) -> int:
        statement = update(notifications).where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
        if ids is not None:
            statement = statement.where(notifications.c.id.in_(ids))
        return (await self.session.execute(statement.values(read_at=at))).rowcount

    async def set_prefs(self, user_id: str, email: str, enabled: bool) -> None:
        await upsert(
            self.session, notification_prefs, {"user_id": user_id, "email": email, "email_enabled": enabled}, ["user_id"]
        )

    async def prefs(self, user_id: str) -> dict[str, Any]:
        row = (
            await self.session.execute(select(notification_prefs).where(notification_prefs.c.user_id == user_id))
        ).mappings().first()
        return dict(row) if row else {"user_id": user_id, "email": "", "email_enabled": True}

    async def pending_mail(self, limit: int) -> list[dict[str, Any]]:
        """Notifications waiting for e-mail, with the address to use (preference, else directory)."""
        rows = (
            await self.session.execute(
                select(
                    notifications,
                    notification_prefs.c.email.label("pref_email"),
                    notification_prefs.c.email_enabled,
                    dir_users.c.email.label("dir_email"),
                    dir_users.c.full_name,
                )
                .outerjoin(notification_prefs, notification_prefs.c.user_id == notifications.c.user_id)
                .outerjoin(dir_users, dir_users.c.id == notifications.c.user_id)
                .where(notifications.c.email_state == "pending")
                .order_by(notifications.c.created_at)
                .limit(limit)
            )
        ).mappings().all()
        return [dict(r) for r in rows]

    async def mail_outcome(self, notification_id: str, state: str, attempts: int) -> None:
        await self.session.execute(
            update(notifications)
            .where(notifications.c.id == notification_id)
            .values(email_state=state, email_attempts=attempts)
        )

    async def remember_reminders(self, keys: list[str], at: datetime) -> set[str]:
        """The keys seen here for the first time (each reminder goes out once), in one statement
        per `REMEMBER_CHUNK` keys instead of one per key: a sweep may find thousands due."""
        new: set[str] = set()
        insert = dialect_insert(self.session)
        for start in range(0, len(keys), REMEMBER_CHUNK):
            chunk = list(dict.fromkeys(keys[start : start + REMEMBER_CHUNK]))
            statement = (
                insert(reminders_sent)
                .values([{"key": key, "at": at} for key in chunk])
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(reminders_sent.c.key)
            )
            new.update((await self.session.execute(statement)).scalars())
        return new
