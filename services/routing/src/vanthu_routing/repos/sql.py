"""Small SQL helpers shared by the repositories (portable between SQLite and PostgreSQL)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.errors import VERSION_CONFLICT
from vanthu_runtime.db import dialect_insert
from vanthu_runtime.errors import AppError


async def upsert(session: AsyncConnection, table: Table, values: dict[str, Any], keys: list[str]) -> None:
    statement = dialect_insert(session)(table).values(**values)
    changes = {k: v for k, v in values.items() if k not in keys}
    await session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))


async def insert_ignore(
    session: AsyncConnection, table: Table, values: dict[str, Any], keys: list[str]
) -> bool:
    """Insert unless the key exists; True when a row was inserted."""
    statement = dialect_insert(session)(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return (await session.execute(statement)).rowcount == 1


async def update_versioned(
    session: AsyncConnection, table: Table, row_id: str, version: int, values: dict[str, Any]
) -> int:
    """Update the row only if nobody changed it since it was read; 409 otherwise.

    On PostgreSQL a concurrent writer waits for the first one's row lock, then sees the
    new version and updates nothing, so one of two conflicting actions fails and no update
    is lost."""
    unknown = values.keys() - _columns(table)
    if unknown:  # the cached statement takes its SET clause from the keys: a typo must not vanish
        raise ValueError(f"{table.name} has no column {', '.join(sorted(unknown))}")
    result = await session.execute(
        _versioned(table), {**values, "version": version + 1, "row_id": row_id, "read_version": version}
    )
    if result.rowcount != 1:
        raise AppError(VERSION_CONFLICT, {"id": row_id, "version": version})
    return version + 1


@cache
def _columns(table: Table) -> frozenset[str]:
    return frozenset(table.c.keys())


@cache
def _versioned(table: Table) -> Update:
    """One statement per table, built once: the SET clause comes from the parameters' keys, and
    SQLAlchemy compiles each key set once, so a hot update skips building and hashing a
    statement tree every time."""
    return update(table).where(
        table.c.id == bindparam("row_id"), table.c.version == bindparam("read_version")
    )


def check_expected(expected: int | None, actual: int, row_id: str) -> None:
    """The client said which version it acted on; refuse if it is stale."""
    if expected is not None and expected != actual:
        raise AppError(VERSION_CONFLICT, {"id": row_id, "version": actual, "expected": expected})
