"""`vanthu bench outbox`: outbox relay throughput to JetStream vs raw async JetStream publish.

Both sides publish the same envelopes, with the same Nats-Msg-Id headers, to a
file-storage stream with a de-duplication window, in batches of the same size
with every message of a batch in flight at once. The relay additionally reads
the batch from the database and marks it published, which is its whole cost.
"""

from __future__ import annotations

import asyncio
import time

import nats
from pydantic import BaseModel

from vanthu_bench.infra import bench_infrastructure
from vanthu_bench.report import BenchResult, Row
from vanthu_contracts.envelope import Envelope
from vanthu_contracts.streams import StreamSpec
from vanthu_runtime.db import Database, new_metadata
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.messaging.provision import provision
from vanthu_runtime.messaging.relay import OutboxRelay
from vanthu_runtime.messaging.tables import messaging_tables
from vanthu_runtime.uow import UnitOfWork

BATCH = 500


class DocumentRegistered(BaseModel):
    document_id: str
    register_id: str
    number: int
    subject: str


def _envelope(i: int) -> Envelope[DocumentRegistered]:
    return Envelope[DocumentRegistered](
        type="registry.document.registered",
        source="registry",
        agency="000.00.00.H99",
        actor="bench",
        payload=DocumentRegistered(
            document_id=f"doc-{i}",
            register_id="den-2026",
            number=i,
            subject="V/v báo cáo tình hình thực hiện",
        ),
    )


async def _fill(uow: UnitOfWork, count: int) -> None:
    for start in range(0, count, 1000):
        async with uow.begin() as tx:
            for i in range(start, min(count, start + 1000)):
                await tx.publish(_envelope(i), subject="bench.relay.registered")


async def _relay_rate(db_url: str, nats_url: str, count: int) -> float:
    metadata = new_metadata()
    outbox_t, inbox_t = messaging_tables(metadata)
    db = Database(db_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    outbox = Outbox(outbox_t)
    await _fill(UnitOfWork(db, outbox, Inbox(inbox_t)), count)
    nc = await nats.connect(nats_url)
    relay = OutboxRelay(db, nc.jetstream(timeout=30), outbox, service="registry", batch_size=BATCH)
    started = time.perf_counter()
    sent = 0
    while sent < count:
        sent += await relay.relay_once()
    elapsed = time.perf_counter() - started
    await nc.close()
    await db.dispose()
    return count / elapsed


async def _floor_rate(nats_url: str, count: int) -> float:
    payloads = [(str(env.id), env.model_dump_json().encode()) for env in (_envelope(i) for i in range(count))]
    nc = await nats.connect(nats_url)
    js = nc.jetstream(timeout=30)
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        chunk = payloads[start : start + BATCH]
        await asyncio.gather(
            *(
                js.publish("bench.floor.registered", data, headers={"Nats-Msg-Id": msg_id})
                for msg_id, data in chunk
            )
        )
    elapsed = time.perf_counter() - started
    await nc.close()
    return count / elapsed


async def run(quick: bool) -> BenchResult:
    """Outbox relay → JetStream throughput, beside raw async JetStream publish."""
    count = 20_000 if quick else 100_000
    with bench_infrastructure("outbox", nats=True, postgres=1) as infra:
        nc = await nats.connect(infra.nats.url)
        report = await provision(
            nc.jetstream(),
            streams=(
                StreamSpec(name="BENCH_RELAY", subjects=("bench.relay.>",), duplicate_window_s=600),
                StreamSpec(name="BENCH_FLOOR", subjects=("bench.floor.>",), duplicate_window_s=600),
                StreamSpec(name="BENCH_SQLITE", subjects=("bench.sqlite.>",), duplicate_window_s=600),
            ),
            consumer_specs=(),
        )
        await nc.close()
        assert report.ok, report.errors
        floor = await _floor_rate(infra.nats.url, count)
        relay_pg = await _relay_rate(infra.pg.url, infra.nats.url, count)
        relay_sqlite = await _relay_rate(f"sqlite+aiosqlite:///{infra.tmp}/bench.db", infra.nats.url, count)
    return BenchResult(
        name="outbox",
        value=relay_pg,
        unit="events/s",
        floor=floor,
        goal="≥ 2,000 events/s and ≥ 50 % of the floor",
        rows=[
            Row(
                "raw JetStream publish (floor)",
                floor,
                "msgs/s",
                f"{count:,} msgs, {BATCH} in flight, Nats-Msg-Id",
            ),
            Row("outbox relay, PostgreSQL", relay_pg, "events/s", "read batch, publish, mark published"),
            Row("outbox relay, SQLite (embedded)", relay_sqlite, "events/s", "same, embedded default"),
        ],
        notes=[f"{count:,} events of ~330 bytes; nats-server and the benchmark share the machine's cores"],
    )
