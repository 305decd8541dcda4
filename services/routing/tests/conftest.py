"""Fixtures: routing's app in-process on PostgreSQL and a real nats-server (see routing_support)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from asgi_lifespan import LifespanManager
from routing_support import Harness, random_agency

from vanthu_routing.app import create_app
from vanthu_routing.clock import FixedClock
from vanthu_routing.settings import RoutingSettings
from vanthu_runtime.auth import DevTokenIssuer, ensure_dev_keypair
from vanthu_runtime.messaging.provision import provision
from vanthu_testing.postgres import PostgresDatabase


async def _routing_app(
    tmp_path: Path, nats_url: str, postgres_dsn: str, **overrides: Any
) -> AsyncIterator[Harness]:
    server_dsn = postgres_dsn.rsplit("/", 1)[0] + "/postgres"
    db = PostgresDatabase(server_dsn=server_dsn)
    db.start()
    private_key, public_key = ensure_dev_keypair(tmp_path / "keys")
    issuer = DevTokenIssuer(private_key.read_bytes(), issuer="vanthu-dev", audience="vanthu")
    nc = await nats.connect(nats_url)
    report = await provision(nc.jetstream())
    assert report.ok, report.errors
    agency = random_agency()
    if overrides.pop("direct_forward", False):
        overrides["direct_forward_agencies"] = [agency]
    values: dict[str, Any] = {
        "database_url": db.url,
        "nats_url": nats_url,
        "jwt_public_key_file": public_key,
        "object_store_dir": tmp_path / "objects",
        "log_json": False,
        "reminder_interval_s": 0,
        "province_agency": agency,  # the test agency's administrator runs the province-wide sweep
        "outbox_poll_interval_s": 0.05,
    }
    settings = RoutingSettings(**(values | overrides))
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    app = create_app(settings, clock=clock)
    harness_holder: list[Harness] = []

    async def collect(msg: Any) -> None:
        data = json.loads(msg.data)
        if data.get("agency") == agency:
            harness_holder[0].received.append(data)

    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://routing") as client:
                harness = Harness(app, client, issuer, nc, agency, clock)
                harness_holder.append(harness)
                sub = await nc.subscribe("vanthu.evt.routing.>", cb=collect)
                try:
                    yield harness
                finally:
                    await sub.unsubscribe()
    finally:
        await nc.close()
        db.stop()


@pytest.fixture
async def routing(tmp_path: Path, nats_url: str, postgres_dsn: str) -> AsyncIterator[Harness]:
    async for harness in _routing_app(tmp_path, nats_url, postgres_dsn):
        yield harness


@pytest.fixture
def routing_factory(tmp_path: Path, nats_url: str, postgres_dsn: str):
    """For tests that need non-default settings: `async with routing_factory(smtp_host=...)`."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Harness]:
        gen = _routing_app(tmp_path, nats_url, postgres_dsn, **overrides)
        harness = await gen.__anext__()
        try:
            yield harness
        finally:
            await gen.aclose()

    return make
