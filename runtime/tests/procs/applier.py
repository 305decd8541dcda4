"""A consuming service: applies each event's effect once, guarded by the inbox.

Usage: applier.py DB_URL NATS_URL STREAM DURABLE SUBJECT
"""

from __future__ import annotations

import asyncio
import sys

import nats
from common import applier_metadata  # the script directory is on sys.path
from sqlalchemy import select, update

from vanthu_contracts.streams import ConsumerSpec
from vanthu_runtime.db import Database
from vanthu_runtime.messaging.consumer import Consumer, Delivery
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.uow import UnitOfWork


async def main(db_url: str, nats_url: str, stream: str, durable: str, subject: str) -> None:
    metadata, applied, totals = applier_metadata()
    db = Database(db_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with db.transaction() as session:
        if (await session.execute(select(totals.c.id))).first() is None:
            await session.execute(totals.insert().values(id=1, count=0))
    uow = UnitOfWork(db, Outbox(metadata.tables["outbox"]), Inbox(metadata.tables["inbox"]))

    async def apply(delivery: Delivery) -> None:
        async with uow.begin() as tx:
            if not await tx.claim(durable, delivery.envelope.id):
                return
            await tx.session.execute(applied.insert().values(item=delivery.envelope.payload["n"]))
            await tx.session.execute(update(totals).values(count=totals.c.count + 1))

    nc = await nats.connect(nats_url)
    spec = ConsumerSpec(
        stream=stream, durable=durable, service="registry", filter_subjects=(subject,), ack_wait_s=2
    )
    print("READY", flush=True)
    await Consumer(nc.jetstream(timeout=10), spec, apply, service="registry", batch_size=100).run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
