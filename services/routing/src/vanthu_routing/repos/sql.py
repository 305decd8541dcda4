"""Small SQL helpers shared by the repositories (portable between SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from vanthu_contracts.errors import VERSION_CONFLICT
from vanthu_runtime.errors import AppError


def _insert(session: AsyncSession):
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert


async def upsert(session: AsyncSession, table: Table, values: dict[str, Any], keys: list[str]) -> None:
    statement = _insert(session)(table).values(**values)
    changes = {k: v for k, v in values.items() if k not in keys}
    await session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))


async def insert_ignore(session: AsyncSession, table: Table, values: dict[str, Any], keys: list[str]) -> bool:
    """Insert unless the key exists; True when a row was inserted."""
    statement = _insert(session)(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return (await session.execute(statement)).rowcount == 1


async def update_versioned(
    session: AsyncSession, table: Table, row_id: str, version: int, values: dict[str, Any]
) -> int:
    """Update the row only if nobody changed it since it was read; 409 otherwise.

    On PostgreSQL a concurrent writer waits for the first one's row lock, then sees the
    new version and updates nothing, so one of two conflicting actions fails and no update
    is lost."""
    result = await session.execute(
        update(table)
        .where(table.c.id == row_id, table.c.version == version)
        .values(**values, version=version + 1)
    )
    if result.rowcount != 1:
        raise AppError(VERSION_CONFLICT, {"id": row_id, "version": version})
    return version + 1


def check_expected(expected: int | None, actual: int, row_id: str) -> None:
    """The client said which version it acted on; refuse if it is stale."""
    if expected is not None and expected != actual:
        raise AppError(VERSION_CONFLICT, {"id": row_id, "version": actual, "expected": expected})
