"""A service-shaped process: each state change and its event commit together; a relay publishes.

Usage: producer.py DB_URL NATS_URL SUBJECT TOTAL
Env CRASH_AFTER_PUBLISHES=K: SIGKILL itself right after the K-th publish is
acknowledged by JetStream and before the relay marks the batch published,
which is exactly the window where a naive relay would deliver twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import nats
from common import producer_metadata  # the script directory is on sys.path
from pydantic import BaseModel
from sqlalchemy import func, select

from vanthu_contracts.envelope import Envelope
from vanthu_runtime.db import Database
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.messaging.relay import OutboxRelay
from vanthu_runtime.uow import UnitOfWork


class Item(BaseModel):
    n: int


async def main(db_url: str, nats_url: str, subject: str, total: int) -> None:
    crash_after = int(os.environ.get("CRASH_AFTER_PUBLISHES", "0"))
    metadata, ledger = producer_metadata()
    db = Database(db_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    outbox = Outbox(metadata.tables["outbox"])
    uow = UnitOfWork(db, outbox, Inbox(metadata.tables["inbox"]))
    nc = await nats.connect(nats_url)
    js = nc.jetstream(timeout=10)

    if crash_after:
        published = 0
        real_publish = js.publish

        async def publish_then_maybe_die(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal published
            ack = await real_publish(*args, **kwargs)
            published += 1
            if published >= crash_after:
                os.kill(os.getpid(), signal.SIGKILL)
            return ack

        js.publish = publish_then_maybe_die  # type: ignore[method-assign]

    relay = OutboxRelay(db, js, outbox, service="registry", batch_size=200, poll_interval_s=0.05)
    relay_task = asyncio.create_task(relay.run())
    async with db.engine.connect() as session:
        done = (await session.execute(select(func.count()).select_from(ledger))).scalar_one()
    for item in range(done, total):
        async with uow.begin() as tx:
            await tx.session.execute(ledger.insert().values(item=item))
            await tx.publish(
                Envelope[Item](type="registry.item.created", source="registry", payload=Item(n=item)),
                subject=subject,
            )
    while await relay.pending():
        await asyncio.sleep(0.05)
    print("DONE", flush=True)
    relay_task.cancel()
    await asyncio.gather(relay_task, return_exceptions=True)
    await nc.close()
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
