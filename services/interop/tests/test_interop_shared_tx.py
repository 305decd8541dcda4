"""Send-side bookkeeping in shared transactions: units that arrive together commit together, and
a unit that fails fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from vanthu_interop.repository import inbox, metadata, outbox, status_log
from vanthu_runtime.db import Database
from vanthu_runtime.groupcommit import SharedTransactions
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.uow import Tx, UnitOfWork


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}")
    await database.create_all(metadata)
    yield database
    await database.dispose()


def _unit(key: str, *, fail: bool = False) -> Callable[[Tx], Awaitable[str]]:
    async def unit(tx: Tx) -> str:
        await tx.session.execute(insert(status_log).values(dedupe_key=key, received_at=datetime.now(UTC)))
        if fail:
            raise ValueError(f"{key} is refused")
        return key

    return unit


async def _keys(db: Database) -> set[str]:
    async with db.transaction() as session:
        return set((await session.execute(select(status_log.c.dedupe_key))).scalars())


async def test_units_that_arrive_together_share_a_transaction_and_fail_alone(db: Database) -> None:
    shared = SharedTransactions(UnitOfWork(db, Outbox(outbox), Inbox(inbox)))
    assert await shared.run(_unit("alone")) == "alone"
    assert (shared.transactions, shared.units) == (1, 1)

    results = await asyncio.gather(
        *(shared.run(_unit(f"k{i}", fail=i == 3)) for i in range(6)), return_exceptions=True
    )
    assert results[:3] == ["k0", "k1", "k2"] and results[4:] == ["k4", "k5"]
    assert isinstance(results[3], ValueError) and "k3 is refused" in str(results[3])
    # The shared transaction rolled back, then each ran alone: k3's row is not there, the others are.
    assert await _keys(db) == {"alone", "k0", "k1", "k2", "k4", "k5"}

    before = shared.transactions
    await asyncio.gather(*(shared.run(_unit(f"m{i}")) for i in range(10)))
    assert shared.transactions == before + 1  # queued in the same moment: one transaction for all ten
    assert {f"m{i}" for i in range(10)} <= await _keys(db)
