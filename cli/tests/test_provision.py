"""`vanthu provision` against a real nats-server: create, leave alone, repair drift, refuse the impossible."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from nats.js import JetStreamContext, api
from typer.testing import CliRunner

from vanthu_cli.main import build_app
from vanthu_contracts.streams import STREAMS, consumers
from vanthu_testing.procs import NatsServer, reserve_free_ports

pytestmark = pytest.mark.nats
T = TypeVar("T")


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[NatsServer]:
    # A server of its own: this test deletes and re-creates streams.
    with NatsServer(tmp_path / "nats") as server:
        yield server


def _provision(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(plugins=False), ["provision", *args], env=env)
    return result.exit_code, result.output


async def _jetstream(url: str, action: Callable[[JetStreamContext], Awaitable[T]]) -> T:
    import nats

    nc = await nats.connect(url)
    try:
        return await action(nc.jetstream())
    finally:
        await nc.close()


def test_creates_then_leaves_alone_then_repairs_drift(nats: NatsServer) -> None:
    code, output = _provision("--nats-url", nats.url)
    assert code == 0, output
    expected = len(STREAMS) + len(consumers())
    assert f"{expected} created, 0 updated, 0 unchanged, 0 errors" in output

    async def names(js: JetStreamContext) -> set[str]:
        return {info.config.name for info in await js.streams_info()}

    assert asyncio.run(_jetstream(nats.url, names)) == {spec.name for spec in STREAMS}

    code, output = _provision(env={"VANTHU_NATS_URL": nats.url})  # the env var, as compose sets it
    assert code == 0, output
    assert f"0 created, 0 updated, {expected} unchanged, 0 errors" in output

    victim = consumers()[0]

    async def drift(js: JetStreamContext) -> None:
        info = await js.consumer_info(victim.stream, victim.durable)
        config = info.config
        config.max_deliver = victim.max_deliver + 3
        await js.add_consumer(victim.stream, config)

    asyncio.run(_jetstream(nats.url, drift))
    code, output = _provision("--nats-url", nats.url)
    assert code == 0, output
    assert f"updated   consumer {victim.stream}/{victim.durable} (max_deliver)" in output

    async def max_deliver(js: JetStreamContext) -> int | None:
        return (await js.consumer_info(victim.stream, victim.durable)).config.max_deliver

    assert asyncio.run(_jetstream(nats.url, max_deliver)) == victim.max_deliver


def test_a_difference_jetstream_cannot_apply_fails_the_command(nats: NatsServer) -> None:
    dlq = next(spec for spec in STREAMS if spec.name == "VANTHU_DLQ")

    async def wrong_retention(js: JetStreamContext) -> None:
        await js.add_stream(
            api.StreamConfig(
                name=dlq.name, subjects=list(dlq.subjects), retention=api.RetentionPolicy.WORK_QUEUE
            )
        )

    asyncio.run(_jetstream(nats.url, wrong_retention))
    code, output = _provision("--nats-url", nats.url)
    assert code == 1
    assert "error" in output and "VANTHU_DLQ" in output and "retention" in output


def test_unreachable_nats_is_a_clear_error() -> None:
    (port,) = reserve_free_ports(1)
    code, output = _provision("--nats-url", f"nats://127.0.0.1:{port}", "--wait", "0")
    assert code == 1
    assert f"cannot connect to NATS at nats://127.0.0.1:{port}" in output
