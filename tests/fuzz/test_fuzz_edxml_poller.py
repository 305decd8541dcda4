"""Hostile packets through the whole receiving path: axis simulator → poller → PostgreSQL and files.

Each packet is delivered to the axis simulator and one poll round runs: the packet is
downloaded (base64 in a streamed JSON answer), parsed, its files stored, imported in a
transaction on PostgreSQL (whose column lengths SQLite would not enforce), or refused with a
stable code; then it is acknowledged to the axis, `done` or `fail`. No round may end in an
unexpected error (the poller would retry such a packet forever) or take 5 s, and the outcome
must agree with the in-process read of the same bytes. The corpus goes in whole but for its
multi-megabyte specimens (timed in process by test_fuzz_edxml), with 100 generated packets
(2,000 under --long).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from edxml_corpus import ACCEPTED, HOSTED, SENDER, corpus
from edxml_outcome import read
from edxml_strategies import hostile_batches, snippets
from fuzz_checks import Timings, defined_code, draw_examples
from fuzz_watch import Canary, WatchServer
from sqlalchemy import select, update

from vanthu_interop.app import MIGRATIONS
from vanthu_interop.axis.client import AxisClient, AxisConnection
from vanthu_interop.repository import axis_packets, inbox, outbox
from vanthu_interop.settings import InteropSettings, OwnAgency
from vanthu_interop.simulator.app import create_sim_app
from vanthu_interop.simulator.state import AxisState
from vanthu_interop.storage import FileStorage
from vanthu_interop.usecases.context import Context
from vanthu_interop.usecases.directory import Directory
from vanthu_interop.usecases.polling import AxisPoller
from vanthu_runtime.db import Database
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.migrations import upgrade
from vanthu_runtime.objectstore import LocalObjectStore, UrlSigner
from vanthu_runtime.uow import UnitOfWork
from vanthu_testing.postgres import PostgresDatabase

US = ("00.41.W00", "dXMtc3lzdGVtLXNlY3JldC1mb3ItdGhlLWZ1enotdGVzdHM=")
THEM = ("00.22.W00", "dGhlbS1zeXN0ZW0tc2VjcmV0LWZvci10aGUtZnV6ei10ZXN0cw==")
LEFT = "left-listed"  # a simulator state of our own: neither pending nor acknowledged
GENERATED_CI = 100
SMALL = 1 << 20
GENERATED_LONG = 2_000


class Rig:
    def __init__(self, state: AxisState, poller: AxisPoller, db: Database, settings: InteropSettings) -> None:
        self.state = state
        self.poller = poller
        self.db = db
        self.settings = settings

    def deliver(self, data: bytes) -> str:
        """Hand the simulator a packet as delivered to us (it would refuse to route an unreadable one)."""
        doc_id, path = self.state.new_packet_path()
        path.write_bytes(data)
        delivery = self.state.deliver(sender_doc_id=doc_id, sender_system=THEM[0], message_type="edoc",
                                      from_code=SENDER, to_code=HOSTED, packet=path, title="", notation="")  # fmt: skip
        return delivery.receiver_doc_id

    def set_aside(self, doc_id: str) -> None:
        """A packet the poller left listed: out of later rounds' way (each round sees one packet)."""
        delivery = self.state.deliveries[doc_id]
        if delivery.status == "pending":
            delivery.status = LEFT

    async def relay(self) -> None:
        """Stand-in for the outbox relay: the poller acknowledges only what has left."""
        async with self.db.transaction() as session:
            await session.execute(update(outbox).values(published_at=datetime.now(UTC)))

    async def row(self, doc_id: str) -> dict[str, object] | None:
        async with self.db.transaction() as session:
            found = await session.execute(select(axis_packets).where(axis_packets.c.axis_doc_id == doc_id))
            row = found.mappings().first()
        return dict(row) if row is not None else None


@pytest.fixture
async def rig(tmp_path: Path, postgres_dsn: str) -> AsyncIterator[Rig]:
    database = PostgresDatabase(server_dsn=postgres_dsn.rsplit("/", 1)[0] + "/postgres")
    database.start()
    state = AxisState(tmp_path / "sim")
    state.add_system(*US, routes=["H41"])
    state.add_system(*THEM, routes=["G22"])
    await upgrade(MIGRATIONS, database.url)
    db = Database(database.url)
    settings = InteropSettings(database_url=database.url, ack_publish_wait_s=0.0, poll_concurrency=2,
                               work_dir=str(tmp_path / "work"))  # fmt: skip
    store = LocalObjectStore(tmp_path / "objects", UrlSigner(b"k" * 32), "http://unused")
    await store.prepare()
    ctx = Context(UnitOfWork(db, Outbox(outbox), Inbox(inbox)), settings, FileStorage(store))
    await Directory(ctx).seed([OwnAgency(code=HOSTED, name="UBND tỉnh Nghệ An")])
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sim_app(state)), base_url="http://axis")
    axis = AxisClient(AxisConnection("http://axis", *US), http=http)
    poller = AxisPoller(ctx, axis)
    try:
        yield Rig(state, poller, db, settings)
    finally:
        await poller.aclose()
        await http.aclose()
        await db.dispose()
        database.stop()


async def test_hostile_packets_through_the_axis_poller_on_postgresql(
    rig: Rig, tmp_path: Path, canary: Canary, watch_server: WatchServer, long_run: bool
) -> None:
    # The multi-megabyte specimens are timed in process (test_fuzz_edxml); here the path matters.
    packets = [(c.name, c.data) for c in corpus(canary.url, watch_server.url)
               if c.max_packet_bytes is None and len(c.data) <= SMALL]  # fmt: skip
    batches = draw_examples(hostile_batches(snippets(canary.url, watch_server.url)),
                            (GENERATED_LONG if long_run else GENERATED_CI) // 5)  # fmt: skip
    packets += [(f"generated #{i}", data) for i, data in enumerate(p for batch in batches for p in batch)]  # type: ignore[attr-defined]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    timings = Timings()
    problems: list[str] = []
    delivered: dict[str, tuple[str, str]] = {}  # axis docId -> (case, in-process outcome)
    for name, data in packets:
        expected = read(data, scratch, rig.settings.max_packet_bytes, canary)
        doc_id = rig.deliver(data)
        delivered[doc_id] = (name, expected)
        with timings.case(name):
            report = await rig.poller.poll_once()
        await rig.relay()
        row = await rig.row(doc_id)
        if row is not None and not report.errors:
            with timings.case(f"{name} (acknowledgement)"):
                report.errors += (await rig.poller.poll_once()).errors
        rig.set_aside(doc_id)
        if report.errors:
            problems.append(f"{name}: the round failed: {report.errors}")
            continue
        if expected == ACCEPTED:
            # Imported, or left on the axis because none of its To is ours (then no row).
            if row is not None and row["outcome"] == "rejected":
                problems.append(f"{name}: read in process but refused by the poller: {row['detail']}")
        elif row is None or row["outcome"] != "rejected":
            problems.append(f"{name}: refused in process ({expected}) but the poller recorded {row}")
        else:
            code = str(row["detail"]).split(":", 1)[0]
            defined_code(code)
            if code != expected:
                problems.append(f"{name}: poller refused with {code}, in process {expected}")
    print(f"\naxis poller: {timings.summary()}")
    assert not problems, "\n".join(problems[:30])
    timings.assert_within_budget()
    assert watch_server.requests == []
    acknowledged = {d.receiver_doc_id: d.status for d in rig.state.deliveries.values()}
    for doc_id, (name, expected) in delivered.items():
        row = await rig.row(doc_id)
        if row is None:
            assert expected == ACCEPTED and acknowledged[doc_id] == LEFT, name  # not for us
        else:
            assert acknowledged[doc_id] == ("fail" if row["outcome"] == "rejected" else "done"), (name, row)
