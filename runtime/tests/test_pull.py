"""BatchPuller against a real nats-server: full batches, prompt first message, quiet timeout, errors."""

from __future__ import annotations

import asyncio
import time

import pytest
from nats.aio.client import Client as NATS

from vanthu_contracts.streams import ConsumerSpec, StreamSpec
from vanthu_runtime.messaging.provision import provision
from vanthu_runtime.messaging.pull import BatchPuller, PullError

pytestmark = [pytest.mark.nats]


@pytest.fixture
async def durable(nc: NATS, unique: str):
    js = nc.jetstream(timeout=10)
    stream = StreamSpec(name=f"P{unique.upper()}", subjects=(f"p{unique}.>",), duplicate_window_s=60)
    spec = ConsumerSpec(
        stream=stream.name, durable=f"p{unique}", service="registry", filter_subjects=(f"p{unique}.>",)
    )
    assert (await provision(js, streams=(stream,), consumer_specs=(spec,))).ok
    yield js, spec, f"p{unique}.x"
    await js.delete_stream(stream.name)


async def test_a_busy_stream_is_read_in_full_batches_and_every_message_once(durable) -> None:
    js, spec, subject = durable
    for n in range(250):
        await js.publish(subject, str(n).encode())
    puller = BatchPuller(js, spec.stream, spec.durable)
    await puller.start()
    try:
        sizes, seen = [], []
        while sum(sizes) < 250:
            msgs = await puller.fetch(100, timeout=2)
            sizes.append(len(msgs))
            for m in msgs:
                seen.append(int(m.data))
                await m.ack()
        assert sizes == [100, 100, 50]
        assert seen == list(range(250))
        started = time.monotonic()
        assert await puller.fetch(100, timeout=0.5) == []  # all acked: nothing, after about the timeout
        assert 0.4 < time.monotonic() - started < 2.5
    finally:
        await puller.stop()


async def test_a_message_published_while_a_fetch_waits_is_returned_at_once(durable) -> None:
    js, spec, subject = durable
    puller = BatchPuller(js, spec.stream, spec.durable)
    await puller.start()
    try:
        fetch = asyncio.create_task(puller.fetch(100, timeout=10))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await js.publish(subject, b"late")
        msgs = await asyncio.wait_for(fetch, 5)
        assert [m.data for m in msgs] == [b"late"]
        assert time.monotonic() - started < 2  # not the 10 s the request may linger
        assert msgs[0].metadata.num_delivered == 1
        await msgs[0].ack()
    finally:
        await puller.stop()


async def test_pulling_from_a_consumer_that_does_not_exist_is_an_error(durable) -> None:
    js, spec, _ = durable
    puller = BatchPuller(js, spec.stream, "no_such_durable")
    await puller.start()
    try:
        with pytest.raises(PullError):
            await puller.fetch(10, timeout=1)
    finally:
        await puller.stop()
