"""A second service process for the trace test: consumes registry events with tracing to a jsonl file.

Usage: trace_consumer.py NATS_URL DURABLE SPANS_FILE
"""

from __future__ import annotations

import asyncio
import sys

import nats

from vanthu_contracts.streams import EVENTS_STREAM, ConsumerSpec
from vanthu_runtime.messaging.consumer import Consumer, Delivery
from vanthu_runtime.telemetry import setup_tracing


async def main(nats_url: str, durable: str, spans_file: str) -> None:
    setup_tracing("analytics", exporter=f"jsonl:{spans_file}")
    nc = await nats.connect(nats_url)
    spec = ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable=durable,
        service="analytics",
        filter_subjects=("vanthu.evt.registry.agency.upserted",),
    )

    async def note(delivery: Delivery) -> None:
        print(delivery.envelope.payload["code"], flush=True)

    await Consumer(nc.jetstream(), spec, note, service="analytics").run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
