"""Shared helpers for the runtime kit's tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS

from vanthu_testing.postgres import PostgresDatabase


@pytest.fixture
def fresh_pg_url(request: pytest.FixtureRequest, postgres_dsn: str) -> Iterator[str]:
    """A database of its own for one test (services never share a database)."""
    server_dsn = postgres_dsn.rsplit("/", 1)[0] + "/postgres"
    db = PostgresDatabase(server_dsn=server_dsn)
    db.start()
    try:
        yield db.url
    finally:
        db.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every outbox/inbox behaviour is checked on both database adapters."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    return request.getfixturevalue("fresh_pg_url")


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_url)
    yield client
    await client.close()


@pytest.fixture
def unique() -> str:
    return os.urandom(4).hex()
