"""Outbox + inbox give exactly-once effects across kill -9 of both processes.

Real nats-server, real PostgreSQL (one database per "service"), real processes:
the producer is killed in the worst window (events acknowledged by JetStream,
batch not yet marked published), the consumer is killed mid-stream, both are
restarted, and afterwards every state change has exactly one effect.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS
from sqlalchemy import text

from vanthu_contracts.streams import ConsumerSpec, StreamSpec
from vanthu_runtime.db import Database
from vanthu_runtime.messaging.provision import provision
from vanthu_testing.postgres import PostgresDatabase

pytestmark = [pytest.mark.nats, pytest.mark.postgres, pytest.mark.slow]

PROCS = Path(__file__).parent / "procs"
TOTAL = 3000


def _spawn(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(PROCS / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


async def _count(url: str, sql: str) -> int:
    db = Database(url)
    try:
        async with db.engine.connect() as session:
            return int((await session.execute(text(sql))).scalar_one())
    except Exception:
        return -1  # tables not created yet
    finally:
        await db.dispose()


async def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_effects_are_exactly_once_across_kill_minus_nine(
    fresh_pg_url: str, postgres_dsn: str, nc: NATS, unique: str
) -> None:
    consumer_db = PostgresDatabase(server_dsn=postgres_dsn.rsplit("/", 1)[0] + "/postgres")
    consumer_db.start()
    nats_url = nc.connected_url.geturl() if nc.connected_url else ""
    js = nc.jetstream()
    subject = f"x{unique}.created"
    stream = StreamSpec(name=f"X{unique.upper()}", subjects=(f"x{unique}.>",), duplicate_window_s=300)
    durable = f"x{unique}"
    consumer = ConsumerSpec(
        stream=stream.name, durable=durable, service="registry", filter_subjects=(subject,), ack_wait_s=2
    )
    assert (await provision(js, streams=(stream,), consumer_specs=(consumer,))).ok
    procs: list[subprocess.Popen[str]] = []
    try:
        # 1. The producer dies right after JetStream acknowledged 1,234 events, before marking them.
        crashing = _spawn(
            "producer.py", fresh_pg_url, nats_url, subject, str(TOTAL), env={"CRASH_AFTER_PUBLISHES": "1234"}
        )
        procs.append(crashing)
        crashing.wait(timeout=120)
        assert crashing.returncode == -signal.SIGKILL, crashing.stderr.read() if crashing.stderr else ""
        # Publishes of the same batch still in flight when the kill lands may be stored too.
        stored = (await js.stream_info(stream.name)).state.messages
        assert 1234 <= stored < TOTAL
        marked = await _count(fresh_pg_url, "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
        assert marked < stored, "the crash should have left acknowledged events unmarked"

        # 2. The consumer starts, and is killed while it is applying.
        applier = _spawn("applier.py", consumer_db.url, nats_url, stream.name, durable, subject)
        procs.append(applier)
        await _wait_for(lambda: _positive(consumer_db.url), 60, "the applier to apply something")
        applier.send_signal(signal.SIGKILL)
        applier.wait(timeout=10)

        # 3. Both come back; the producer finishes the remaining state changes.
        producer = _spawn("producer.py", fresh_pg_url, nats_url, subject, str(TOTAL))
        applier = _spawn("applier.py", consumer_db.url, nats_url, stream.name, durable, subject)
        procs += [producer, applier]
        out, err = producer.communicate(timeout=180)
        assert producer.returncode == 0 and "DONE" in out, err

        async def all_applied() -> bool:
            return await _count(consumer_db.url, "SELECT count FROM totals") >= TOTAL

        await _wait_for(all_applied, 120, "every event to be applied")
        await asyncio.sleep(3)  # let any late redelivery land before counting

        assert await _count(fresh_pg_url, "SELECT count(*) FROM ledger") == TOTAL
        assert (await js.stream_info(stream.name)).state.messages == TOTAL  # republished ids were dropped
        assert await _count(consumer_db.url, "SELECT count(*) FROM applied") == TOTAL
        assert await _count(consumer_db.url, "SELECT count(DISTINCT item) FROM applied") == TOTAL
        assert await _count(consumer_db.url, "SELECT count FROM totals") == TOTAL
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        await js.delete_stream(stream.name)
        consumer_db.stop()


async def _positive(url: str) -> bool:
    return await _count(url, "SELECT count(*) FROM applied") > 0
