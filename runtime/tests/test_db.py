"""The PostgreSQL pool: busy connections are not pinged, dead ones are replaced (db.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from vanthu_runtime import db as db_module
from vanthu_runtime.db import Database


@pytest.fixture
async def pool(fresh_pg_url: str) -> AsyncIterator[Database]:
    db = Database(fresh_pg_url, pool_size=2)
    yield db
    await db.dispose()


@pytest.fixture
def pings(pool: Database, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every ping the pool sends, by connection."""
    dialect = pool.engine.sync_engine.dialect
    seen: list[object] = []
    real = dialect.do_ping

    def counting(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    return seen


async def _backend(db: Database) -> int:
    async with db.transaction() as s:
        return (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def _kill(url: str, pids: list[int]) -> None:
    """Terminate those backends, as a server restart or an idle timeout would, and wait for it."""
    other = Database(url, pool_size=1)
    try:
        async with other.engine.connect() as conn:
            for pid in pids:
                # The timeout makes PostgreSQL wait until the backend is gone.
                await conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_a_connection_checked_in_moments_ago_is_not_pinged(pool: Database, pings: list[object]) -> None:
    for _ in range(5):
        await _backend(pool)
    assert pings == []


async def test_a_connection_idle_longer_than_the_limit_is_pinged(
    pool: Database, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    await _backend(pool)  # connects: a new connection is not pinged
    assert pings == []
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.0)
    await _backend(pool)
    await _backend(pool)
    assert len(pings) == 2


async def test_an_idle_connection_killed_by_the_server_is_replaced_before_use(
    pool: Database, fresh_pg_url: str, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend(pool)
    await _kill(fresh_pg_url, [first])
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.0)  # it has sat idle "long enough"
    # The ping finds it dead; the pool reconnects and the transaction never sees it.
    assert await _backend(pool) != first
    assert len(pings) == 1


async def test_a_connection_killed_just_after_use_fails_once_then_the_whole_pool_reconnects(
    pool: Database, fresh_pg_url: str, pings: list[object]
) -> None:
    # Two connections in the pool, both killed moments after their last use (no ping then).
    async with pool.engine.connect() as a, pool.engine.connect() as b:
        pids = [(await c.execute(text("SELECT pg_backend_pid()"))).scalar_one() for c in (a, b)]
    await _kill(fresh_pg_url, pids)
    with pytest.raises(DBAPIError) as failed:
        await _backend(pool)
    assert failed.value.connection_invalidated
    # That disconnect invalidated the pool: both the next transactions get new connections.
    async with pool.engine.connect() as a, pool.engine.connect() as b:
        now = [(await c.execute(text("SELECT pg_backend_pid()"))).scalar_one() for c in (a, b)]
    assert not set(now) & set(pids)
    assert pings == []
