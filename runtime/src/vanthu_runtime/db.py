"""The async SQLAlchemy engine of one service: SQLite embedded, PostgreSQL in production."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event, text
from sqlalchemy.dialects import postgresql as _postgresql
from sqlalchemy.dialects import sqlite as _sqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_

from vanthu_runtime import sqlite_loop
from vanthu_runtime.sqlite_loop import SqliteDriver

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# PostgreSQL connections idle in the pool longer than this are pinged before use. SQLAlchemy's
# pool_pre_ping pings every checkout, and with asyncpg a ping is three round trips (BEGIN, a
# query, ROLLBACK) ahead of a transaction of four to ten: a third of a short transaction's cost.
# A connection checked in moments ago is alive unless the server went away in those moments; then
# its first statement fails as a disconnect, which invalidates the whole pool just as a failed ping
# does, and the next checkouts reconnect. Connections a restart, failover or idle timeout closed
# have sat idle longer than this by the time the server answers again, so they are pinged.
PING_AFTER_IDLE_S = 2.0

# How long a SQLite transaction waits for the write lock before "database is locked".
SQLITE_LOCK_TIMEOUT_S = 30.0


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def dialect_insert(dialect: str | AsyncConnection) -> Any:
    """The INSERT construct of the dialect (a name, or a connection's), the one with
    `on_conflict_do_nothing` / `on_conflict_do_update`: PostgreSQL's, else SQLite's."""
    name = dialect if isinstance(dialect, str) else dialect.dialect.name
    return _postgresql.insert if name == "postgresql" else _sqlite.insert


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def create_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, sqlite_driver: SqliteDriver = "loop"
) -> AsyncEngine:
    """Build the engine; for SQLite also switch on WAL and writer-first transactions.

    SQLite lets one writer in at a time. A deferred transaction that reads and then
    writes can fail with "database is locked" even with a busy timeout, because
    the lock upgrade cannot wait. Starting every transaction with BEGIN IMMEDIATE
    takes the write lock up front and makes concurrent writers queue politely,
    which is what keeps register numbers gapless under concurrency.
    """
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite(url):
        if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
            kwargs["poolclass"] = NullPool
        if sqlite_driver == "loop":
            [database], connect_args = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
            kwargs["async_creator"] = sqlite_loop.creator(
                database, queue=sqlite_loop.WriteQueue(), timeout_s=SQLITE_LOCK_TIMEOUT_S, **connect_args
            )
        else:
            kwargs["connect_args"] = {"timeout": SQLITE_LOCK_TIMEOUT_S}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        # On the loop, SQLite must not sleep in its busy handler: sqlite_loop waits instead.
        busy_timeout_ms = 0 if sqlite_driver == "loop" else int(SQLITE_LOCK_TIMEOUT_S * 1000)
        _configure_sqlite(engine, busy_timeout_ms=busy_timeout_ms)
    else:
        _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """pool_pre_ping, for connections idle longer than PING_AFTER_IDLE_S only."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")  # None: connected just now (info is cleared then)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if not dialect.is_disconnect(exc, dbapi_connection, None):
                raise
            # As a failed pre-ping: the server went away, so every older connection is gone
            # too; the pool reconnects this one and the others on their next checkout.
            raise InvalidatePoolError(str(exc)) from exc


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below (pysqlite's own is buggy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        driver = connection.connection.driver_connection
        if not isinstance(driver, sqlite_loop.Connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        # Straight to the driver: through SQLAlchemy's statement machinery (execution context,
        # cursor, result) a BEGIN cost as much CPU as a query. Errors are wrapped as that would.
        try:
            await_(driver.begin_immediate())
        except sqlite3.Error as error:
            raise DBAPIError.instance("BEGIN IMMEDIATE", None, error, sqlite3.Error) from error


class Database:
    """The engine of one service; built in its lifespan, disposed at shutdown."""

    def __init__(
        self, url: str, *, pool_size: int = 10, echo: bool = False, sqlite_driver: SqliteDriver = "loop"
    ) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size, echo=echo, sqlite_driver=sqlite_driver)
        # PostgreSQL only: connections that run each statement as its own transaction. A single
        # statement (a claim, an outcome with its event, a relay read or marking) then costs one
        # round trip, not three (BEGIN, the statement, COMMIT). None on SQLite, whose writes all go
        # through BEGIN IMMEDIATE (writer first) and stay inside transactions.
        self.autocommit: AsyncEngine | None = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.dialect == "postgresql"
            else None
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        async with self.engine.begin() as connection:
            yield connection

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def create_all(self, metadata: MetaData) -> None:
        """For tests only; services use Alembic migrations."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def dispose(self) -> None:
        await self.engine.dispose()
