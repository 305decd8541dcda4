"""Chaos: the platform under load while each of its processes is killed, and nothing is lost or doubled.

Under a load of documents entering the four ways they do (paper, electronic, issued, over the
axis) while leaders assign them: `kill -9` each of the five services in turn and `kill -9`
nats-server (`vanthu up` starts each again, nats-server on the same port and store, as an
operator's supervisor would), and stop the S3 server for ten seconds. Then, once the backlogs drain:
0 lost documents, 0 duplicate numbers, 0 duplicate deliveries to users, 0 duplicate status
packets, every backlog empty. The figures are printed as a table.

Sizes: the bounded CI run sends BOUNDED requests (more if the faults take longer to play out);
`--long` (or VANTHU_TEST_LONG=1) sends LONG, which with the deliveries inside the province
makes more than 5,000 documents.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from chaos_invariants import Figure, axis, backlogs, deliveries_to_users, documents, report
from chaos_load import Kind, LoadDriver
from chaos_monkey import Monkey
from chaos_platform import ChaosPlatform
from rich.console import Console

from vanthu_cli.services import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.nats, pytest.mark.postgres, pytest.mark.s3]

# (requests, concurrent clients, requests started per second). Both paced at about what the
# platform sustains on a shared 2-core machine (interop's ~4 packets/s, 1.5 packets a request),
# so the backlogs drain in seconds once the load stops: flat out (9 requests/s), a --long run
# left 2,000 packets queued and had not drained after ten minutes. Bounded: as many requests as the faults take to play out
# (the load runs until the last is over anyway). Long: one internal delivery per 8 requests
# comes on top, more than 5,000 documents.
BOUNDED = (300, 6, 2.5)
LONG = (4_500, 12, 3.0)
SIZE_ENV = "VANTHU_CHAOS_DOCUMENTS"  # overrides both sizes (a quick look, or a longer soak)


@pytest.fixture
def platform(tmp_path: Path, postgres_server_dsn: str) -> Iterator[ChaosPlatform]:
    running = ChaosPlatform(tmp_path, postgres_server_dsn)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.mark.timeout(3600)
async def test_nothing_is_lost_or_doubled_when_every_process_is_killed_under_load(
    platform: ChaosPlatform, long_run: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    total, concurrency, rate = LONG if long_run else BOUNDED
    total = int(os.environ.get(SIZE_ENV) or total)
    started = time.monotonic()
    driver = LoadDriver(
        {name: platform.url(name) for name in SERVICES},
        platform.sim_url,
        tmp_path / "load",
        total=total,
        concurrency=concurrency,
        rate=rate,
        run_id=uuid.uuid4().hex[:6].upper(),
    )
    monkey = Monkey(platform, total)
    try:
        await driver.prepare()
        chaos = asyncio.create_task(monkey.run(lambda: driver.ledger.done))
        load_started = time.monotonic()
        # The load goes on until the last fault has been recovered from: every fault is under load.
        await driver.run(keep_going=lambda: not chaos.done())
        load_s = time.monotonic() - load_started
        await chaos
        drain_started = time.monotonic()
        figures, timeline = await _drain(platform, driver, timeout=900.0 if long_run else 150.0)
        drain_s = time.monotonic() - drain_started
    finally:
        await driver.aclose()

    ledger = driver.ledger
    exits = platform.exits()
    kinds = {kind: sum(1 for a in ledger.accepted.values() if a.kind is kind) for kind in Kind}
    sent = ledger.done + 1  # and the one `prepare` stored
    run = [
        ("mode", "--long" if long_run else "bounded (CI)"),
        ("requests planned, sent (the load runs until the last fault is over)", f"{total:,}, {sent:,}"),
        ("paper / electronic / issued / over the axis",
         f"{kinds[Kind.PAPER]:,} / {kinds[Kind.ELECTRONIC]:,} / {kinds[Kind.OUTGOING]:,} / {len(ledger.axis_sent):,}"),
        ("load", f"{load_s:.0f} s ({sent / load_s:.1f} requests/s)"),
        ("drain after the load", f"{drain_s:.0f} s"),
        *timeline,
        ("whole scenario", f"{time.monotonic() - started:.0f} s"),
        ("HTTP requests, of which retries", f"{ledger.requests:,}, {ledger.retries:,}"),
        ("failures seen by clients", ", ".join(f"{k} ×{v}" for k, v in ledger.failures.most_common()) or "none"),
        ("ambiguous failures that had gone through (found by lookup)", f"{ledger.resolved_by_lookup}"),
        ("requests given up by clients", f"{ledger.gave_up}"),
        ("exits vanthu up saw and restarted", ", ".join(f"{name} ({code})" for name, code in exits)),
    ]  # fmt: skip
    events = [
        (event.name, f"at document {event.fired_at_document:,}, all ready again after {event.outage_s:.1f} s")
        for event in monkey.events
        if event.fired_at_document is not None and event.outage_s is not None
    ]
    with capsys.disabled():
        report(
            Console(width=140),
            "Chaos: invariants after recovery",
            [("Run", run), ("Faults (each under load)", events)],
            figures,
        )
    assert len(events) == len(monkey.events)
    assert ledger.gave_up == 0
    crashes = [f"{name} (exit {code})" for name, code in exits if code != -9]
    assert not crashes, f"service processes exited without being killed: {crashes}"
    failed = [
        f"{f.name}: {f.value} (must be {f.must_be}) e.g. {list(f.examples)}" for f in figures if not f.ok
    ]
    assert not failed, "\n".join(failed)


async def _drain(
    platform: ChaosPlatform, driver: LoadDriver, timeout: float
) -> tuple[list[Figure], list[tuple[str, str]]]:
    """Wait until every backlog is empty and every figure holds (or time is up), then measure.

    The leaders keep assigning meanwhile: documents still arriving over the axis or through a
    consumer's retry reach their boxes late. Returns the figures and what was still unsettled
    along the way (every 10 s, or a twentieth of the time allowed if longer).
    """
    started = time.monotonic()
    every = max(10.0, timeout / 20)
    timeline: list[tuple[str, str]] = []
    while True:
        figures = [*await documents(platform, driver.ledger), *await deliveries_to_users(platform)]
        waiting = await backlogs(platform)
        unsettled = [f for f in [*figures, *waiting] if not f.ok]
        elapsed = time.monotonic() - started
        if unsettled and (not timeline or elapsed >= every * len(timeline)):
            timeline.append(
                (f"  unsettled after {elapsed:.0f} s", "; ".join(_unsettled(f) for f in unsettled))
            )
        if not unsettled or elapsed > timeout:
            # The axis figures read every packet the simulator holds: only once the rest is settled.
            figures += await axis(platform, driver.ledger)
            if all(f.ok for f in figures) or time.monotonic() - started > timeout:
                await driver.stop_leaders()
                return figures + waiting, timeline
        await asyncio.sleep(2.0)


def _unsettled(figure: Figure) -> str:
    return f"{figure.name} {figure.value}" + (f" ({', '.join(figure.examples)})" if figure.examples else "")
