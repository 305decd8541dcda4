"""Fixtures of the analytics tests: a migrated database (SQLite or PostgreSQL) and its unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from vanthu_analytics.repository import inbox, outbox
from vanthu_runtime.db import Database
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.migrations import upgrade
from vanthu_runtime.uow import UnitOfWork
from vanthu_testing.postgres import PostgresDatabase

MIGRATIONS = Path(__file__).resolve().parents[1] / "src" / "vanthu_analytics" / "migrations"


@pytest.fixture
def fresh_pg_url(postgres_dsn: str) -> Iterator[str]:
    """A database of its own for one test."""
    db = PostgresDatabase(server_dsn=postgres_dsn.rsplit("/", 1)[0] + "/postgres")
    db.start()
    try:
        yield db.url
    finally:
        db.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The pipeline and the reports are checked on both database adapters."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'analytics.db'}"
    return request.getfixturevalue("fresh_pg_url")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'analytics.db'}"


async def _migrated_uow(url: str) -> UnitOfWork:
    await upgrade(MIGRATIONS, url)
    return UnitOfWork(Database(url), Outbox(outbox), Inbox(inbox))


@pytest.fixture
async def uow(db_url: str) -> AsyncIterator[UnitOfWork]:
    unit_of_work = await _migrated_uow(db_url)
    yield unit_of_work
    await unit_of_work.db.dispose()


@pytest.fixture
async def sqlite_uow(sqlite_url: str) -> AsyncIterator[UnitOfWork]:
    unit_of_work = await _migrated_uow(sqlite_url)
    yield unit_of_work
    await unit_of_work.db.dispose()
