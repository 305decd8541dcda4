"""Outbox, relay, inbox, consumers and provisioning against a real nats-server and both databases."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest
from nats.aio.client import Client as NATS
from nats.js.errors import NotFoundError
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text, update

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.streams import DEAD_LETTER_STREAM, ConsumerSpec, Retention, StreamSpec
from vanthu_contracts.subjects import dlq_subject
from vanthu_runtime.db import Database, new_metadata
from vanthu_runtime.messaging.consumer import Consumer, Delivery, Reject
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.messaging.provision import provision
from vanthu_runtime.messaging.relay import OutboxRelay
from vanthu_runtime.messaging.tables import messaging_tables
from vanthu_runtime.uow import UnitOfWork

pytestmark = [pytest.mark.nats]


class Item(BaseModel):
    n: int


def envelope(n: int) -> Envelope[Item]:
    return Envelope[Item](type="registry.item.created", source="registry", actor="tester", payload=Item(n=n))


class Harness:
    """A service-shaped set of kit objects over one database and one test stream."""

    def __init__(self, db_url: str, nc: NATS, unique: str) -> None:
        self.metadata: MetaData = new_metadata()
        self.outbox_t, self.inbox_t = messaging_tables(self.metadata)
        self.effects = Table(
            "effects",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("n", Integer, nullable=False),
            Column("event_id", String(36), nullable=False),
        )
        self.db = Database(db_url)
        self.outbox = Outbox(self.outbox_t)
        self.inbox = Inbox(self.inbox_t)
        self.uow = UnitOfWork(self.db, self.outbox, self.inbox)
        self.js = nc.jetstream(timeout=10)
        self.subject_root = f"t{unique}"
        self.stream = StreamSpec(
            name=f"T{unique.upper()}", subjects=(f"{self.subject_root}.>",), duplicate_window_s=120
        )
        # Dead letters go to the platform's dead-letter stream, on this consumer's own subject.
        self.dlq_subject = dlq_subject("registry", f"c{unique}")
        self.consumer = ConsumerSpec(
            stream=self.stream.name,
            durable=f"c{unique}",
            service="registry",
            filter_subjects=(f"{self.subject_root}.>",),
            ack_wait_s=5,
            max_deliver=3,
            backoff_s=(0.05, 0.05, 0.05),
        )
        self.relay = OutboxRelay(self.db, self.js, self.outbox, service="registry", batch_size=50)

    async def setup(self) -> None:
        async with self.db.engine.begin() as conn:
            await conn.run_sync(self.metadata.drop_all)
            await conn.run_sync(self.metadata.create_all)
        report = await provision(
            self.js, streams=(self.stream, DEAD_LETTER_STREAM), consumer_specs=(self.consumer,)
        )
        assert report.ok, report.errors

    async def teardown(self) -> None:
        try:
            await self.js.delete_stream(self.stream.name)
        except NotFoundError:
            pass
        await self.js.purge_stream(DEAD_LETTER_STREAM.name, subject=self.dlq_subject)
        await self.db.dispose()

    async def dead_letters(self) -> list:
        info = await self.js.stream_info(DEAD_LETTER_STREAM.name, subjects_filter=self.dlq_subject)
        count = (info.state.subjects or {}).get(self.dlq_subject, 0)
        if not count:
            return []
        sub = await self.js.subscribe(self.dlq_subject, stream=DEAD_LETTER_STREAM.name, ordered_consumer=True)
        msgs = [await sub.next_msg(timeout=5) for _ in range(count)]
        await sub.unsubscribe()
        return msgs

    @property
    def subject(self) -> str:
        return f"{self.subject_root}.created"

    async def write(self, numbers: list[int], *, fail: bool = False) -> None:
        async with self.uow.begin() as tx:
            for n in numbers:
                await tx.publish(envelope(n), subject=self.subject)
            if fail:
                raise RuntimeError("use case failed after queueing events")

    async def stream_messages(self) -> list[tuple[str, dict]]:
        info = await self.js.stream_info(self.stream.name)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            raw = await self.js.get_msg(self.stream.name, seq)
            out.append((raw.headers.get("Nats-Msg-Id"), json.loads(raw.data)))
        return out


async def _harness(url: str, nc: NATS, unique: str):
    harness = Harness(url, nc, unique)
    await harness.setup()
    yield harness
    await harness.teardown()


@pytest.fixture
async def h(db_url: str, nc: NATS, unique: str):
    async for harness in _harness(db_url, nc, unique):
        yield harness


async def test_only_committed_events_leave_in_order_with_their_id_as_msg_id(h: Harness) -> None:
    for start in range(0, 200, 10):
        await h.write(list(range(start, start + 10)))
    with pytest.raises(RuntimeError):
        await h.write([9999], fail=True)
    while await h.relay.relay_once():
        pass
    messages = await h.stream_messages()
    assert [m[1]["payload"]["n"] for m in messages] == list(range(200))
    assert all(msg_id == body["id"] for msg_id, body in messages)
    assert await h.relay.pending() == 0


async def test_republishing_after_a_crash_before_marking_is_deduplicated(h: Harness) -> None:
    await h.write(list(range(30)))
    assert await h.relay.relay_once() == 30
    await h.relay.flush()
    # The process "died" after publishing but before marking: the rows look unpublished again.
    async with h.db.transaction() as session:
        await session.execute(update(h.outbox_t).values(published_at=None))
    assert await h.relay.relay_once() == 30
    info = await h.js.stream_info(h.stream.name)
    assert info.state.messages == 30


async def test_only_a_full_batch_reads_the_next_one_ahead(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    real = h.relay._pending_rows

    async def counting(skip: set[str]) -> list:
        rows = await real(skip)
        reads.append(len(rows))
        return rows

    monkeypatch.setattr(h.relay, "_pending_rows", counting)
    # A short batch is everything pending: a read ahead would find nothing (one event per job
    # is the common case, and it used to cost two reads).
    await h.write([1, 2, 3])
    assert await h.relay.relay_once() == 3
    await h.relay.flush()
    assert reads == [3]
    # A full batch (50 here) may have more behind it: on PostgreSQL the next one is read while
    # this one is published, and the next relay_once starts from it.
    reads.clear()
    await h.write(list(range(60)))
    assert await h.relay.relay_once() == 50
    assert await h.relay.relay_once() == 10
    await h.relay.flush()
    assert reads == [50, 10]  # and no empty read behind the short batch of 10
    assert [m[1]["payload"]["n"] for m in await h.stream_messages()] == [1, 2, 3, *range(60)]


async def test_relay_run_loop_is_woken_by_commits(h: Harness) -> None:
    task = asyncio.create_task(h.relay.run())
    try:
        await h.write([1, 2, 3])
        for _ in range(100):
            if (await h.js.stream_info(h.stream.name)).state.messages == 3:
                break
            await asyncio.sleep(0.05)
        assert (await h.js.stream_info(h.stream.name)).state.messages == 3
        assert h.relay.is_leader
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _advisory_lock_holders(db: Database) -> set[int]:
    async with db.engine.connect() as conn:
        # pg_locks is the whole cluster's: only this test's database counts.
        rows = await conn.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
        return {row[0] for row in rows}


@pytest.fixture
async def pg_h(fresh_pg_url: str, nc: NATS, unique: str):
    """The harness on PostgreSQL only: the relay's advisory lock is PostgreSQL's."""
    async for harness in _harness(fresh_pg_url, nc, unique):
        yield harness


async def test_a_leader_that_lost_its_lock_connection_steps_down_and_takes_the_lock_again(
    pg_h: Harness,
) -> None:
    """The idle leader checks its lock connection (at most once a second, not per empty read): when
    the connection is gone, so is the lock, and the relay must notice and take it again."""
    h = pg_h
    task = asyncio.create_task(h.relay.run())
    try:
        for _ in range(100):
            holders = await _advisory_lock_holders(h.db)
            if h.relay.is_leader and holders:
                break
            await asyncio.sleep(0.05)
        [first] = holders
        async with h.db.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": first})
        for _ in range(200):  # the next check (≤ 1 s), the retry pause (1 s), the new lock
            holders = await _advisory_lock_holders(h.db)
            if holders and first not in holders and h.relay.is_leader:
                break
            await asyncio.sleep(0.05)
        assert holders and first not in holders and h.relay.is_leader
        await h.write([1, 2])
        for _ in range(100):
            if (await h.js.stream_info(h.stream.name)).state.messages == 2:
                break
            await asyncio.sleep(0.05)
        assert (await h.js.stream_info(h.stream.name)).state.messages == 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_inbox_claims_an_event_once_per_consumer(h: Harness) -> None:
    async with h.uow.begin() as tx:
        assert await tx.claim("alpha", "e1") is True
        assert await tx.claim("beta", "e1") is True
    async with h.uow.begin() as tx:
        assert await tx.claim("alpha", "e1") is False
    # A claim in a rolled-back transaction does not count.
    with pytest.raises(RuntimeError):
        async with h.uow.begin() as tx:
            assert await tx.claim("alpha", "e2") is True
            raise RuntimeError("effect failed")
    async with h.uow.begin() as tx:
        assert await tx.claim("alpha", "e2") is True


async def _run_until(consumer: Consumer, predicate, timeout: float = 15.0) -> None:
    task = asyncio.create_task(consumer.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.05)
    finally:
        consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_redelivered_and_republished_events_apply_once(h: Harness) -> None:
    await h.write(list(range(20)))
    await h.relay.relay_once()
    # The same envelopes published again under other message ids (outside any dedupe window).
    for _, body in await h.stream_messages():
        await h.js.publish(
            h.subject, json.dumps(body).encode(), headers={"Nats-Msg-Id": "again-" + body["id"]}
        )
    seen = 0

    async def apply(delivery: Delivery) -> None:
        nonlocal seen
        seen += 1
        async with h.uow.begin() as tx:
            if not await tx.claim(h.consumer.durable, delivery.envelope.id):
                return
            await tx.session.execute(
                h.effects.insert().values(
                    n=delivery.envelope.payload["n"], event_id=str(delivery.envelope.id)
                )
            )

    consumer = Consumer(h.js, h.consumer, apply, service="registry", batch_size=16)

    async def all_seen() -> bool:
        return seen >= 40

    await _run_until(consumer, all_seen)
    async with h.db.engine.connect() as session:
        count = (await session.execute(select(func.count()).select_from(h.effects))).scalar_one()
        distinct = (await session.execute(select(func.count(h.effects.c.n.distinct())))).scalar_one()
    assert (count, distinct) == (20, 20)


async def test_failing_handler_is_retried_with_backoff_then_dead_lettered(h: Harness) -> None:
    await h.write([7])
    await h.relay.relay_once()
    attempts: list[int] = []

    async def always_fails(delivery: Delivery) -> None:
        attempts.append(delivery.num_delivered)
        raise RuntimeError("downstream is broken")

    consumer = Consumer(h.js, h.consumer, always_fails, service="registry")

    async def dead_lettered() -> bool:
        return len(await h.dead_letters()) == 1

    await _run_until(consumer, dead_lettered)
    assert attempts == [1, 2, 3]
    [dead] = await h.dead_letters()
    assert dead.headers["Vanthu-Error-Code"] == "unhandled.RuntimeError"
    assert dead.headers["Vanthu-Original-Subject"] == h.subject
    assert dead.headers["Vanthu-Deliveries"] == "3"
    assert json.loads(dead.data)["payload"] == {"n": 7}
    # Terminated, so the consumer has nothing pending for it any more.
    cinfo = await h.js.consumer_info(h.stream.name, h.consumer.durable)
    assert cinfo.num_pending == 0 and cinfo.num_ack_pending == 0


async def test_rejected_and_unparseable_messages_go_straight_to_the_dead_letter_stream(h: Harness) -> None:
    await h.js.publish(h.subject, b"{not json", headers={"Nats-Msg-Id": "garbage-1"})
    await h.write([1])
    await h.relay.relay_once()
    calls = 0

    async def rejects(delivery: Delivery) -> None:
        nonlocal calls
        calls += 1
        raise Reject("test.never_valid", "this can never succeed")

    consumer = Consumer(h.js, h.consumer, rejects, service="registry")

    async def both_dead() -> bool:
        return len(await h.dead_letters()) == 2

    await _run_until(consumer, both_dead)
    assert calls == 1
    codes = {m.headers["Vanthu-Error-Code"] for m in await h.dead_letters()}
    assert codes == {"consumer.unparseable", "test.never_valid"}


async def test_batch_consumer_applies_batches_in_one_transaction(h: Harness) -> None:
    await h.write(list(range(100)))
    while await h.relay.relay_once():
        pass
    batches: list[int] = []

    async def apply_batch(deliveries: list[Delivery]) -> None:
        async with h.uow.begin() as tx:
            for d in deliveries:
                if await tx.claim(h.consumer.durable, d.envelope.id):
                    await tx.session.execute(
                        h.effects.insert().values(n=d.envelope.payload["n"], event_id=str(d.envelope.id))
                    )
        batches.append(len(deliveries))

    consumer = Consumer(h.js, h.consumer, batch_handler=apply_batch, service="registry", batch_size=40)

    async def done() -> bool:
        return sum(batches) >= 100

    await _run_until(consumer, done)
    assert max(batches) > 1
    async with h.db.engine.connect() as session:
        assert (await session.execute(select(func.count()).select_from(h.effects))).scalar_one() == 100


async def test_a_consumer_may_decode_its_messages_its_own_way(h: Harness) -> None:
    await h.js.publish(h.subject, b"[1, 2", headers={"Nats-Msg-Id": "cut-short-1"})
    await h.write([5])
    await h.relay.relay_once()
    seen: list[int] = []

    async def apply_batch(deliveries: list[Delivery]) -> None:
        seen.extend(d.envelope["payload"]["n"] for d in deliveries)

    # json.loads returns a dict (not a RawEnvelope) and raises ValueError for the cut-short body.
    consumer = Consumer(h.js, h.consumer, batch_handler=apply_batch, service="registry", decode=json.loads)

    async def done() -> bool:
        return seen == [5] and len(await h.dead_letters()) == 1

    await _run_until(consumer, done)
    [dead] = await h.dead_letters()
    assert dead.headers["Vanthu-Error-Code"] == "consumer.unparseable"


async def test_provisioning_reconciles_changed_settings_and_refuses_impossible_ones(
    nc: NATS, unique: str
) -> None:
    js = nc.jetstream()
    stream = StreamSpec(name=f"P{unique.upper()}", subjects=(f"p{unique}.>",), duplicate_window_s=60)
    consumer = ConsumerSpec(
        stream=stream.name,
        durable=f"p{unique}",
        service="registry",
        filter_subjects=(f"p{unique}.>",),
        ack_wait_s=5,
    )
    try:
        first = await provision(js, streams=(stream,), consumer_specs=(consumer,))
        assert first.created == [f"stream {stream.name}", f"consumer {stream.name}/{consumer.durable}"]
        again = await provision(js, streams=(stream,), consumer_specs=(consumer,))
        assert again.created == [] and again.updated == []
        changed = replace(consumer, ack_wait_s=60, max_deliver=11)
        third = await provision(
            js, streams=(replace(stream, duplicate_window_s=300),), consumer_specs=(changed,)
        )
        assert len(third.updated) == 2
        info = await js.consumer_info(stream.name, consumer.durable)
        assert (info.config.ack_wait, info.config.max_deliver) == (60, 11)
        assert (await js.stream_info(stream.name)).config.duplicate_window == 300
        impossible = await provision(
            js,
            streams=(replace(stream, duplicate_window_s=300, retention=Retention.WORK_QUEUE),),
            consumer_specs=(),
        )
        assert not impossible.ok and "retention" in impossible.errors[0]
    finally:
        await js.delete_stream(stream.name)
