"""The report benchmark's fill: big batches from a generator process give exactly the rows that
consumer-sized batches of the same events give."""

from __future__ import annotations

import json

import pytest
from analytics_tables import TABLES, figures_sql
from sqlalchemy import text

from vanthu_analytics.app import MIGRATIONS
from vanthu_analytics.fill import fill, generated_batches, json_batches
from vanthu_analytics.generator import province_year
from vanthu_analytics.ingest import FactPipeline
from vanthu_analytics.publish import to_wire
from vanthu_analytics.repository import inbox, outbox
from vanthu_analytics.wire import decode
from vanthu_runtime.db import Database
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.migrations import upgrade
from vanthu_runtime.uow import UnitOfWork

pytestmark = [pytest.mark.postgres]

SMALL = {"units": 30, "users": 120, "events": 4000}


async def _migrated(url: str) -> UnitOfWork:
    await upgrade(MIGRATIONS, url)
    return UnitOfWork(Database(url), Outbox(outbox), Inbox(inbox))


async def _rows(uow: UnitOfWork) -> dict[str, list[tuple]]:
    async with uow.read() as session:
        rows = {t: sorted(tuple(r) for r in await session.execute(text(figures_sql(t)))) for t in TABLES}
        rows["inbox"] = sorted(
            tuple(r) for r in await session.execute(text("SELECT consumer, event_id FROM inbox"))
        )
    return rows


async def test_big_batches_write_the_rows_consumer_batches_write(fresh_pg_url: str) -> None:
    bodies = [body for _, _, body in to_wire(province_year(**SMALL))]
    uow = await _migrated(fresh_pg_url)
    try:
        pipeline = FactPipeline(uow)
        for start in range(0, len(bodies), 1000):
            await pipeline.apply([decode(b) for b in bodies[start : start + 1000]])
        expected = await _rows(uow)
        async with uow.begin() as tx:  # the same database, emptied, filled the benchmark's way
            await tx.session.execute(text(f"TRUNCATE {', '.join(TABLES)}, inbox"))
        outcome = await fill(FactPipeline(uow), json_batches(bodies, size=1500))
        assert outcome.applied == len(bodies) and outcome.duplicates == 0
        got = await _rows(uow)
        assert len(expected["unit_daily"]) > 100 and len(expected["documents"]) > 100
        assert got == expected
    finally:
        await uow.db.dispose()


async def test_the_generator_process_writes_the_province_year() -> None:
    in_process = [json.loads(body) for _, _, body in to_wire(province_year(**SMALL))]
    from_child = [json.loads(b) async for batch in generated_batches(**SMALL, size=700) for b in batch]
    assert len(from_child) == len(in_process)
    # The same events in the same order; only the ids (UUIDv7, drawn when built) differ.
    assert [{**e, "id": ""} for e in from_child] == [{**e, "id": ""} for e in in_process]
    assert len({e["id"] for e in from_child}) == len(from_child)
