"""Group commit on SQLite and PostgreSQL: batching, isolation of a bad request, retry alone, context."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, update

from vanthu_contracts.envelope import Envelope
from vanthu_runtime.db import Database, new_metadata
from vanthu_runtime.groupcommit import GroupCommit, Work
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.messaging.tables import messaging_tables
from vanthu_runtime.uow import Tx, UnitOfWork

REQUEST = contextvars.ContextVar("request", default="none")


class Numbered(BaseModel):
    name: str
    number: int


@dataclass
class Tables:
    metadata: MetaData
    counter: Table
    rows: Table
    outbox: Table


def tables() -> Tables:
    metadata = new_metadata()
    outbox_t, _ = messaging_tables(metadata)
    counter = Table("counter", metadata, Column("id", Integer, primary_key=True), Column("last", Integer))
    rows = Table(
        "rows",
        metadata,
        Column("name", String(40), primary_key=True),
        Column("number", Integer, nullable=True, unique=True),
        Column("seen_request", String(40)),
    )
    return Tables(metadata, counter, rows, outbox_t)


@dataclass(eq=False)
class Insert(Work):
    t: Tables
    name: str
    fail: bool = False
    runs: int = 0
    number: int | None = None

    async def apply(self, tx: Tx) -> None:
        self.runs += 1
        await tx.session.execute(self.t.rows.insert().values(name=self.name, seen_request=REQUEST.get()))
        if self.fail:
            raise ValueError(f"{self.name} is refused")


@pytest.fixture
async def uow(db_url: str) -> AsyncIterator[tuple[UnitOfWork, Tables]]:
    t = tables()
    db = Database(db_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(t.metadata.drop_all)
        await conn.run_sync(t.metadata.create_all)
        await conn.execute(t.counter.insert().values(id=1, last=0))
    try:
        yield UnitOfWork(db, Outbox(t.outbox), Inbox(messaging_tables(new_metadata())[1])), t
    finally:
        await db.dispose()


def numbering(t: Tables, fail_settle: set[str] | None = None):
    async def settle(tx: Tx, works: Sequence[Insert]) -> None:
        if fail_settle and any(w.name in fail_settle for w in works):
            raise RuntimeError("settle refused this batch")
        last = (
            await tx.session.execute(
                update(t.counter)
                .where(t.counter.c.id == 1)
                .values(last=t.counter.c.last + len(works))
                .returning(t.counter.c.last)
            )
        ).scalar_one()
        for offset, work in enumerate(works):
            work.number = last - len(works) + 1 + offset
            await tx.session.execute(
                update(t.rows).where(t.rows.c.name == work.name).values(number=work.number)
            )
        await tx.publish_many(
            [
                Envelope(
                    type="registry.row.numbered",
                    source="registry",
                    payload=Numbered(name=w.name, number=w.number or 0),
                )
                for w in works
            ],
            [w.context for w in works],
        )

    return settle


async def _numbers(uow: UnitOfWork, t: Tables) -> dict[str, int | None]:
    async with uow.read() as session:
        return dict((await session.execute(select(t.rows.c.name, t.rows.c.number))).all())


async def test_concurrent_requests_share_transactions_and_get_consecutive_numbers(
    uow: tuple[UnitOfWork, Tables],
) -> None:
    u, t = uow
    group: GroupCommit[Insert] = GroupCommit(u, numbering(t), max_batch=16)

    async def request(i: int) -> Insert:
        REQUEST.set(f"request-{i}")
        return await group.submit(Insert(t, f"r{i}"))

    done = await asyncio.gather(*(request(i) for i in range(40)))
    await group.aclose()
    assert sorted(w.number for w in done) == list(range(1, 41))
    assert group.committed == 40 and group.batches < 40, "concurrent requests must share batches"
    assert await _numbers(u, t) == {w.name: w.number for w in done}
    async with u.read() as session:
        seen = dict((await session.execute(select(t.rows.c.name, t.rows.c.seen_request))).all())
        outbox_rows = (await session.execute(select(func.count()).select_from(t.outbox))).scalar_one()
    # Each request's statements ran in its own context (trace, log fields), not the writer's.
    assert seen == {f"r{i}": f"request-{i}" for i in range(40)}
    assert outbox_rows == 40


async def test_a_failing_request_fails_alone_and_consumes_no_number(uow: tuple[UnitOfWork, Tables]) -> None:
    u, t = uow
    group: GroupCommit[Insert] = GroupCommit(u, numbering(t), max_batch=64)
    works = [Insert(t, f"r{i}", fail=(i == 3)) for i in range(10)]
    results = await asyncio.gather(*(group.submit(w) for w in works), return_exceptions=True)
    await group.aclose()
    assert isinstance(results[3], ValueError) and "r3 is refused" in str(results[3])
    numbered = await _numbers(u, t)
    assert "r3" not in numbered, "the refused request's row was rolled back to its savepoint"
    assert sorted(n for n in numbered.values() if n is not None) == list(range(1, 10))


class Announce(Work):
    """Publishes an event, then (when told to) fails after it."""

    def __init__(self, name: str, *, fail: bool = False) -> None:
        self.name = name
        self.fail = fail

    async def apply(self, tx: Tx) -> None:
        await tx.publish(
            Envelope(
                type="registry.row.numbered", source="registry", payload=Numbered(name=self.name, number=0)
            )
        )
        if self.fail:
            raise ValueError(f"{self.name} is refused")


async def test_events_of_a_request_rolled_back_to_its_savepoint_are_not_written(
    uow: tuple[UnitOfWork, Tables],
) -> None:
    """Events are written together just before the commit: those of a request that failed in
    its own savepoint must be forgotten with it, and its neighbours' kept."""
    u, t = uow
    group: GroupCommit[Announce] = GroupCommit(u, max_batch=64)
    works = [Announce(f"e{i}", fail=(i in (2, 5))) for i in range(8)]
    results = await asyncio.gather(*(group.submit(w) for w in works), return_exceptions=True)
    await group.aclose()
    assert [isinstance(r, ValueError) for r in results] == [i in (2, 5) for i in range(8)]
    assert group.batches < 8, "the requests must have shared a batch for this to test savepoints"
    async with u.read() as session:
        written = [
            Envelope[Numbered].model_validate_json(data).payload.name
            for (data,) in await session.execute(select(t.outbox.c.data))
        ]
    assert sorted(written) == [f"e{i}" for i in range(8) if i not in (2, 5)]


async def test_a_failed_batch_step_is_retried_request_by_request(uow: tuple[UnitOfWork, Tables]) -> None:
    u, t = uow
    # The batch step refuses any batch holding "bad": the first (shared) batch fails as a whole,
    # then each request runs alone and only "bad" fails.
    group: GroupCommit[Insert] = GroupCommit(u, numbering(t, fail_settle={"bad"}), max_batch=64)
    works = [Insert(t, name) for name in ("a", "b", "bad", "c")]
    results = await asyncio.gather(*(group.submit(w) for w in works), return_exceptions=True)
    await group.aclose()
    assert isinstance(results[2], RuntimeError)
    assert [r.number for r in results if isinstance(r, Insert)] == [1, 2, 3]
    assert await _numbers(u, t) == {"a": 1, "b": 2, "c": 3}
    assert works[0].runs == 2, "shared batch first, then alone"


async def test_a_cancelled_caller_does_not_pull_its_work_out_of_the_batch(
    uow: tuple[UnitOfWork, Tables],
) -> None:
    u, t = uow
    group: GroupCommit[Insert] = GroupCommit(u, numbering(t))
    work = Insert(t, "left")
    future = group.enqueue(work)
    waiter = asyncio.ensure_future(asyncio.shield(future))
    waiter.cancel()
    assert (await future).number == 1, "the work committed although its caller left"
    await group.aclose()
    assert await _numbers(u, t) == {"left": 1}


async def test_a_refusal_is_told_after_the_batch_commits_and_a_closed_group_refuses_work(
    uow: tuple[UnitOfWork, Tables],
) -> None:
    """A refused request hears of it only once its neighbours' rows are committed (a caller that
    compensates must not race an uncommitted neighbour); after aclose, work fails as UNAVAILABLE."""
    from vanthu_runtime.errors import AppError

    u, t = uow
    group: GroupCommit[Insert] = GroupCommit(u, numbering(t), max_batch=64)
    committed_when_told: list[int] = []
    refused = group.enqueue(Insert(t, "refused", fail=True))
    refused.add_done_callback(lambda _: committed_when_told.append(group.batches))
    others = [group.enqueue(Insert(t, f"n{i}")) for i in range(3)]
    await asyncio.gather(refused, *others, return_exceptions=True)
    assert committed_when_told == [1] and isinstance(refused.exception(), ValueError)
    await group.aclose()
    with pytest.raises(AppError) as stopping:
        await group.submit(Insert(t, "late"))
    assert stopping.value.code == "service_unavailable"
    assert set(await _numbers(u, t)) == {"n0", "n1", "n2"}
