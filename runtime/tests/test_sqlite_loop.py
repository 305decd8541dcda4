"""SQLite on the event loop's thread (sqlite_loop.py): transactions queue on the loop, never in SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, text, update
from sqlalchemy.exc import OperationalError

from vanthu_runtime import db as db_module
from vanthu_runtime.db import Database

metadata = MetaData()
counter = Table(
    "counter", metadata, Column("id", Integer, primary_key=True), Column("n", Integer, nullable=False)
)


async def _database(path: Path, driver: str = "loop") -> Database:
    db = Database(f"sqlite+aiosqlite:///{path}", sqlite_driver=driver)  # type: ignore[arg-type]
    await db.create_all(metadata)
    async with db.transaction() as s:
        await s.execute(counter.insert().values(id=1, n=0))
    return db


async def _increment(db: Database, times: int) -> None:
    """Read, yield to the other tasks, write: lost updates show if transactions overlap."""
    for _ in range(times):
        async with db.transaction() as s:
            n = (await s.execute(select(counter.c.n))).scalar_one()
            await asyncio.sleep(0)
            await s.execute(update(counter).values(n=n + 1))


async def _count(db: Database) -> int:
    async with db.transaction() as s:
        return (await s.execute(select(counter.c.n))).scalar_one()


@pytest.mark.parametrize("driver", ["loop", "thread"])
async def test_concurrent_transactions_of_one_process_never_lose_an_update(
    tmp_path: Path, driver: str
) -> None:
    db = await _database(tmp_path / "c.db", driver)
    try:
        await asyncio.gather(*(_increment(db, 10) for _ in range(30)))
        assert await _count(db) == 300
    finally:
        await db.dispose()


async def test_a_lock_held_elsewhere_is_waited_for_without_blocking_the_loop(tmp_path: Path) -> None:
    db = await _database(tmp_path / "w.db")
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)  # as another process would
    try:
        other.execute("BEGIN IMMEDIATE")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        writer = asyncio.create_task(_increment(db, 1))
        await asyncio.sleep(0.3)
        assert not writer.done()  # still waiting for the lock...
        assert ticks >= 10  # ...while the loop runs everything else
        other.execute("COMMIT")
        await asyncio.wait_for(writer, 5)
        ticking.cancel()
        assert await _count(db) == 1
    finally:
        other.close()
        await db.dispose()


async def test_a_lock_never_given_up_fails_with_database_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "SQLITE_LOCK_TIMEOUT_S", 0.3)
    db = await _database(tmp_path / "t.db")
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            await asyncio.wait_for(_increment(db, 1), 5)
        other.execute("ROLLBACK")
        await _increment(db, 1)  # the failed BEGIN gave its turn back
        assert await _count(db) == 1
    finally:
        other.close()
        await db.dispose()


async def test_the_turn_is_given_back_after_a_failure_or_a_cancelled_wait(tmp_path: Path) -> None:
    db = await _database(tmp_path / "f.db")
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as s:
                await s.execute(update(counter).values(n=100))
                raise RuntimeError("the use case failed")
        started = asyncio.Event()
        release = asyncio.Event()

        async def holder() -> None:
            async with db.transaction() as s:
                await s.execute(text("SELECT 1"))
                started.set()
                await release.wait()

        holding = asyncio.create_task(holder())
        await started.wait()
        waiting = asyncio.create_task(_increment(db, 1))
        await asyncio.sleep(0.05)
        waiting.cancel()  # gave up while queued behind the holder
        await asyncio.gather(waiting, return_exceptions=True)
        release.set()
        await holding
        await asyncio.wait_for(_increment(db, 1), 5)
        assert await _count(db) == 1  # the rolled-back 100 is not there; one increment is
    finally:
        await db.dispose()


_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {tests!r})
    from test_sqlite_loop import _increment
    from vanthu_runtime.db import Database

    async def main():
        db = Database("sqlite+aiosqlite:///" + sys.argv[1])
        await asyncio.gather(*(_increment(db, 20) for _ in range(5)))
        await db.dispose()

    asyncio.run(main())
    """
)


async def test_two_processes_on_one_file_queue_for_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    db = await _database(path)
    await db.dispose()
    script = _PROCESS.format(tests=str(Path(__file__).parent))
    processes = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", script, str(path), stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for process in processes:
        _, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()[-2000:]
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        assert await _count(db) == 200
    finally:
        await db.dispose()
