"""SQLite on the event loop's own thread, behind SQLAlchemy's aiosqlite dialect.

aiosqlite runs every call (cursor, execute, fetch, close, commit) on a thread of its own and hands
each result back through the event loop: four or five thread hops per statement, about 0.8 ms of
CPU, where SQLite itself takes microseconds (WAL with synchronous=NORMAL: a commit appends to the
WAL without an fsync). Here the same calls run where they are awaited, so a statement costs what
SQLAlchemy costs. `create_engine(..., sqlite_driver="thread")` keeps aiosqlite.

The loop must never wait inside SQLite. The one wait is for the write lock, and every transaction
takes it first, with BEGIN IMMEDIATE (`vanthu_runtime.db`):
- the connections of one engine queue for it on an asyncio lock, held from BEGIN until the
  transaction ends, so they never meet inside SQLite;
- when a connection of another engine or process holds it, BEGIN fails at once (busy timeout 0)
  and is tried again after an asyncio sleep, until the connection's timeout; then it fails with
  "database is locked", as SQLite's own busy handler would have.
Each statement itself does run on the loop, so a scan of a large table holds the loop while it
runs. SQLite is the embedded default for a small site; a province runs PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar

T = TypeVar("T")

# "loop": this module; "thread": aiosqlite's thread per connection, which keeps a long statement
# off the loop at ~0.8 ms of CPU per statement. Chosen per service (`VANTHU_<SERVICE>_SQLITE_DRIVER`).
SqliteDriver = Literal["loop", "thread"]

_BEGIN = re.compile(r"\s*BEGIN\b", re.IGNORECASE)
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_FIRST_RETRY_S = 0.001
_LONGEST_RETRY_S = 0.05


class WriteQueue:
    """Where one engine's connections wait for SQLite's write lock: an asyncio lock per event loop."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        # Extended codes (SQLITE_BUSY_RECOVERY, ...) keep the primary code in their low byte.
        return code & 0xFF in _BUSY_CODES
    message = str(error).lower()
    return "locked" in message or "busy" in message


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy's isolation-level setter feeds."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class Connection:
    """The subset of `aiosqlite.Connection` that SQLAlchemy's aiosqlite dialect uses."""

    def __init__(self, connection: sqlite3.Connection, queue: WriteQueue, timeout_s: float) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # aiosqlite's "still open" marker
        self._tx = _RunNow()
        self._queue = queue
        self._timeout_s = timeout_s
        self._held: asyncio.Lock | None = None

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self, self._conn.cursor())

    async def commit(self) -> None:
        try:
            self._conn.commit()
        finally:
            self._release_after_transaction()

    async def rollback(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self._release_after_transaction()

    async def create_function(
        self, name: str, num_params: int, func: Callable[..., Any], **kwargs: Any
    ) -> None:
        self._conn.create_function(name, num_params, func, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close now (also what SQLAlchemy calls to terminate a connection); a held turn is given back."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()
        self._release()

    async def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, as `run` does it for a cursor's statement (db.py's begin hook calls it)."""
        await self.run("BEGIN IMMEDIATE", lambda: self._conn.execute("BEGIN IMMEDIATE"))

    async def run(self, sql: str, call: Callable[[], T]) -> T:
        """Run one statement: a BEGIN first waits for this engine's turn, and for other processes'."""
        if self._held is None and not self._conn.in_transaction and _BEGIN.match(sql):
            await self._wait_for_turn()
        try:
            if self._conn.in_transaction:
                return call()
            return await self._retry_while_locked(call)
        finally:
            self._release_after_transaction()

    async def _wait_for_turn(self) -> None:
        lock = self._queue.lock()
        try:
            async with asyncio.timeout(self._timeout_s):
                await lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._held = lock

    async def _retry_while_locked(self, call: Callable[[], T]) -> T:
        """Outside a transaction nothing is half done when SQLite says busy, so trying again is safe."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        delay = _FIRST_RETRY_S
        while True:
            try:
                return call()
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or self._conn.in_transaction or loop.time() >= deadline:
                    raise
            await asyncio.sleep(min(delay, max(0.0, deadline - loop.time())))
            delay = min(delay * 2, _LONGEST_RETRY_S)

    def _release_after_transaction(self) -> None:
        if self._held is not None and (self._connection is None or not self._conn.in_transaction):
            self._release()

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is not None and held.locked():
            held.release()


class Cursor:
    """The subset of `aiosqlite.Cursor` that SQLAlchemy uses; every call completes without waiting,
    but for a BEGIN, which may wait for its turn."""

    def __init__(self, connection: Connection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None) -> Cursor:
        if parameters is None:
            await self._connection.run(sql, lambda: self._cursor.execute(sql))
        else:
            await self._connection.run(sql, lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Any]) -> Cursor:
        await self._connection.run(sql, lambda: self._cursor.executemany(sql, seq_of_parameters))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aiter__(self) -> AsyncIterator[Any]:
        while (row := self._cursor.fetchone()) is not None:
            yield row

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


def creator(database: str, *, queue: WriteQueue, timeout_s: float, **kwargs: Any) -> Callable[[], Any]:
    """SQLAlchemy's `async_creator` for one engine: connections that share its write queue."""

    async def connect() -> Connection:
        # timeout=0: SQLite never sleeps in its busy handler on the loop; `run` waits instead.
        connection = sqlite3.connect(database, timeout=0, **(kwargs | {"check_same_thread": False}))
        return Connection(connection, queue, timeout_s)

    return connect
