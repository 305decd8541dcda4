"""Done-when: a recorded stream replayed twice — the second time with kill -9 of the analytics
process half way — gives identical roll-ups and reports. Real nats-server, PostgreSQL, processes."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nats
import pytest
from analytics_tables import TABLES, figures_sql
from sqlalchemy import text

from vanthu_analytics.compliance import ComplianceService, thresholds_of
from vanthu_analytics.domain.periods import Period
from vanthu_analytics.generator import province_year
from vanthu_analytics.publish import publish, record, recorded, to_wire
from vanthu_analytics.reports import Grouping, ReportService, Scope
from vanthu_analytics.repository import inbox, outbox
from vanthu_analytics.settings import AnalyticsSettings
from vanthu_contracts.events.analytics import FACTS_CONSUMER
from vanthu_contracts.streams import EVENTS_STREAM, STREAMS
from vanthu_runtime.auth import ensure_dev_keypair
from vanthu_runtime.db import Database
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.messaging.provision import provision
from vanthu_runtime.uow import UnitOfWork
from vanthu_testing._process import reserve_free_ports
from vanthu_testing.nats_server import NatsServer
from vanthu_testing.postgres import PostgresDatabase

pytestmark = [pytest.mark.nats, pytest.mark.postgres, pytest.mark.slow]

BUDGET = 12_000


async def _count(url: str) -> int:
    db = Database(url)
    try:
        async with db.engine.connect() as session:
            return int((await session.execute(text("SELECT COUNT(*) FROM inbox"))).scalar_one())
    except Exception:
        return -1  # not migrated yet
    finally:
        await db.dispose()


async def _wait(predicate, timeout: float, what: str, processes_alive=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
        if processes_alive is not None and not processes_alive():
            raise AssertionError(f"the analytics process exited while waiting for {what}")
    raise AssertionError(f"timed out waiting for {what}")


def _spawn(db_url: str, nats_url: str, log: Path) -> subprocess.Popen[bytes]:
    """Start `python -m vanthu_analytics`; a port taken between reserving and binding means another try."""
    _, public_key = ensure_dev_keypair(log.parent / "keys")
    for _ in range(5):
        [port] = reserve_free_ports(1)
        env = {
            **os.environ,
            "VANTHU_JWT_PUBLIC_KEY_FILE": str(public_key),
            "VANTHU_NATS_URL": nats_url,
            "VANTHU_ANALYTICS_DATABASE_URL": db_url,
            "VANTHU_ANALYTICS_PORT": str(port),
            "VANTHU_ANALYTICS_LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "vanthu_analytics"],
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return process
            except httpx.HTTPError:
                time.sleep(0.1)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    raise AssertionError("the analytics process did not start")


async def _snapshot(url: str) -> dict[str, object]:
    """Every roll-up and timeline row, plus the reports built on them."""
    db = Database(url)
    try:
        snapshot: dict[str, object] = {}
        async with db.engine.connect() as session:
            for table in TABLES:
                rows = (await session.execute(text(figures_sql(table)))).all()
                snapshot[table] = sorted(json.dumps([str(v) for v in row]) for row in rows)
        reports = ReportService(UnitOfWork(db, Outbox(outbox), Inbox(inbox)), AnalyticsSettings())
        compliance = ComplianceService(reports)
        for month in ("2026-01", "2026-03", "2026-06"):
            period = Period.of_month(month)
            snapshot[f"units {month}"] = [
                dataclasses.asdict(r) for r in await reports.usage(period, Scope(), Grouping.UNIT)
            ]
            snapshot[f"flags {month}"] = [
                dataclasses.asdict(f)
                for f in await compliance.flags(period, Scope(), thresholds_of(reports.settings))
            ]
            snapshot[f"ranking {month}"] = [
                dataclasses.asdict(a) for a in await compliance.ranking(period, Scope())
            ]
        return snapshot
    finally:
        await db.dispose()


async def _replay(nats_url: str, stream: Path, times: int, events: int) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream(timeout=30)
    # The durable of the spec, with a short ack wait so the batch in flight at the kill comes back soon.
    spec = dataclasses.replace(FACTS_CONSUMER, ack_wait_s=3.0)
    assert (await provision(js, streams=STREAMS, consumer_specs=(spec,))).ok
    for _ in range(times):  # publishing twice: JetStream keeps one copy of each id
        async for _ in publish(js, recorded(stream)):
            pass
    assert (await js.stream_info(EVENTS_STREAM.name)).state.messages == events
    await nc.close()


async def test_replaying_twice_with_a_kill_in_the_middle_gives_identical_reports(
    postgres_dsn: str, tmp_path: Path
) -> None:
    stream = tmp_path / "province.jsonl"
    events = record(to_wire(province_year(units=40, users=400, events=BUDGET, seed=7)), stream)
    assert BUDGET * 0.9 <= events <= BUDGET
    server_dsn = postgres_dsn.rsplit("/", 1)[0] + "/postgres"
    databases = [PostgresDatabase(server_dsn=server_dsn), PostgresDatabase(server_dsn=server_dsn)]
    processes: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "analytics.log"
    try:
        for db in databases:
            db.start()
        snapshots = []
        for run, db in enumerate(databases):
            with NatsServer(tmp_path / f"nats-{run}") as server:
                await _replay(server.url, stream, times=run + 1, events=events)
                process = _spawn(db.url, server.url, log)
                processes.append(process)
                if run == 1:
                    await _wait(
                        lambda url=db.url: _above(url, events // 3),
                        120,
                        "a third of the events",
                        lambda p=process: p.poll() is None,
                    )
                    process.send_signal(signal.SIGKILL)
                    process.wait(timeout=10)
                    at_kill = await _count(db.url)
                    assert at_kill < events, "the kill came too late to be in the middle"
                    process = _spawn(db.url, server.url, log)
                    processes.append(process)
                await _wait(
                    lambda url=db.url: _above(url, events - 1),
                    180,
                    "every event to be applied",
                    lambda p=process: p.poll() is None,
                )
                await asyncio.sleep(4)  # past the ack wait: a late redelivery would land now
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
                assert await _count(db.url) == events
                snapshots.append(await _snapshot(db.url))
        first, second = snapshots
        assert first["unit_monthly"], "the replay produced no figures"
        assert len(first["units 2026-03"]) > 10 and first["flags 2026-06"]
        for key in first:
            assert first[key] == second[key], key
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        for db in databases:
            db.stop()
        if log.exists():
            print(log.read_text(errors="replace")[-3000:])


async def _above(url: str, count: int) -> bool:
    return await _count(url) > count
