"""The axis poller against the simulator: acknowledge only after the import's events left,
refuse unreadable packets, leave packets for unknown agencies, sync the partner directory."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cachetools import TTLCache
from interop_edxml_samples import axis_2019_packet, status_packet
from sqlalchemy import delete, func, select, update

from vanthu_interop.app import MIGRATIONS
from vanthu_interop.axis.client import AxisClient, AxisConnection
from vanthu_interop.repository import Repository, inbox, metadata, outbox, partners, receipts
from vanthu_interop.settings import InteropSettings, OwnAgency
from vanthu_interop.simulator.app import create_sim_app
from vanthu_interop.simulator.state import AxisState, SimAgency
from vanthu_interop.storage import FileStorage
from vanthu_interop.usecases.context import PARTNER_CACHE_S, Context
from vanthu_interop.usecases.directory import Directory
from vanthu_interop.usecases.polling import AxisPoller
from vanthu_runtime.db import Database
from vanthu_runtime.logs import setup_logging
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.migrations import upgrade
from vanthu_runtime.objectstore import LocalObjectStore, UrlSigner
from vanthu_runtime.uow import UnitOfWork

SENDER = ("00.22.W00", "c2VuZGVyLXN5c3RlbS1zZWNyZXQtZm9yLXRlc3RzLTAwMQ==")
US = ("00.41.W00", "dXMtc3lzdGVtLXNlY3JldC1mb3ItdGhlLXRlc3RzLTAwMg==")


class Rig:
    def __init__(
        self, state: AxisState, poller: AxisPoller, db: Database, sender: AxisClient, directory: Directory
    ) -> None:
        self.state = state
        self.poller = poller
        self.db = db
        self.sender = sender
        self.directory = directory

    async def publish_outbox(self) -> None:
        """Stand-in for the relay: what the poller must wait for before acknowledging."""
        async with self.db.transaction() as session:
            await session.execute(update(outbox).values(published_at=datetime.now(UTC)))


def _client(state: AxisState, system: tuple[str, str]) -> AxisClient:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sim_app(state)), base_url="http://axis")
    return AxisClient(AxisConnection("http://axis", *system), http=http)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    state = AxisState(tmp_path / "sim")
    state.add_system(*SENDER, routes=["G22"])
    state.add_system(*US, routes=["H41", "H14"])
    state.add_agency(
        SimAgency(code="000.00.00.G22", name="Văn phòng Chính phủ", system_id=SENDER[0], old_code="01.02.G22")
    )
    url = f"sqlite+aiosqlite:///{tmp_path / 'interop.db'}"
    await upgrade(MIGRATIONS, url)
    db = Database(url)
    settings = InteropSettings(database_url=url, ack_publish_wait_s=0.0, poll_concurrency=2)
    store = LocalObjectStore(tmp_path / "objects", UrlSigner(b"k" * 32), "http://unused")
    await store.prepare()
    ctx = Context(UnitOfWork(db, Outbox(outbox), Inbox(inbox)), settings, FileStorage(store))
    await Directory(ctx).seed([OwnAgency(code="000.00.00.H41", name="UBND tỉnh Nghệ An")])
    assert metadata.tables["receipts"] is receipts
    rig = Rig(state, AxisPoller(ctx, _client(state, US)), db, _client(state, SENDER), Directory(ctx))
    yield rig
    await rig.poller.aclose()  # its import writer task, which would otherwise be destroyed pending
    await db.dispose()


async def _send(rig: Rig, tmp_path: Path, data: bytes, to: str = "000.00.00.H41", kind: str = "edoc") -> None:
    packet = tmp_path / f"p{len(rig.state.deliveries)}.edxml"
    packet.write_bytes(data)
    await rig.sender.send_edoc(packet, from_code="000.00.00.G22", message_type=kind, to_codes=[to])


def _from_g22(data: bytes) -> bytes:
    return data.replace(b"01.02.G22", b"000.00.00.G22")


async def _count(db: Database, table: Any) -> int:
    async with db.transaction() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


async def test_a_packet_is_acknowledged_only_after_its_events_left(rig: Rig, tmp_path: Path) -> None:
    await _send(rig, tmp_path, _from_g22(axis_2019_packet()))
    report = await rig.poller.poll_once()
    assert report.imported == 1 and report.waiting == 1 and report.acknowledged == 0
    [delivery] = rig.state.deliveries.values()
    assert delivery.status == "pending"  # stored, but its event has not reached NATS yet
    again = await rig.poller.poll_once()
    assert again.imported == 0 and again.acknowledged == 0 and await _count(rig.db, receipts) == 1
    await rig.publish_outbox()
    last = await rig.poller.poll_once()
    assert last.acknowledged == 1 and delivery.status == "done"
    assert await _count(rig.db, receipts) == 1
    async with rig.db.transaction() as session:
        [receipt] = await Repository(session).receipts_for("9fbfbad2-6c4b-4b8e-a3a4-2f7b0e9d1c55")
        assert (
            receipt["agency_code"] == "000.00.00.H41" and receipt["axis_doc_id"] == delivery.receiver_doc_id
        )
        assert receipt["sender"]["organ_id"] == "000.00.00.G22"


async def test_a_copy_under_a_new_docid_is_not_imported_twice(rig: Rig, tmp_path: Path) -> None:
    await _send(rig, tmp_path, _from_g22(axis_2019_packet()))
    await _send(
        rig,
        tmp_path,
        _from_g22(axis_2019_packet()).replace(b"<edXML:TraceHeaderList>", b"<edXML:TraceHeaderList id='x'>"),
    )
    first = await rig.poller.poll_once()
    await rig.publish_outbox()
    second = await rig.poller.poll_once()
    assert first.imported + first.duplicates == 2 and await _count(rig.db, receipts) == 1
    assert first.acknowledged + second.acknowledged == 2
    assert all(d.status == "done" for d in rig.state.deliveries.values())


async def test_an_empty_poll_is_quiet_and_one_that_imports_says_so(rig: Rig, tmp_path: Path) -> None:
    """Polls come every few seconds: only those that changed something are worth an INFO line."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    at_info, at_debug = io.StringIO(), io.StringIO()
    try:
        setup_logging("interop", level="INFO", stream=at_info)
        await rig.poller.poll_once()  # nothing on the axis: not a line (not even httpx's requests)
        assert at_info.getvalue() == ""
        await _send(rig, tmp_path, _from_g22(axis_2019_packet()))
        await rig.poller.poll_once()
        [line] = [json.loads(text) for text in at_info.getvalue().splitlines()]
        assert (line["level"], line["logger"]) == ("INFO", "vanthu.interop.poller"), line
        assert "1 imported" in line["msg"] and "1 awaiting their events" in line["msg"], line
        await rig.publish_outbox()
        assert (await rig.poller.poll_once()).acknowledged == 1

        setup_logging("interop", level="DEBUG", stream=at_debug)
        assert (await rig.poller.poll_once()).imported == 0
        lines = [json.loads(text) for text in at_debug.getvalue().splitlines()]
        [quiet] = [entry for entry in lines if entry["logger"].startswith(("vanthu.", "httpx"))]
        assert quiet["level"] == "DEBUG" and "nothing new" in quiet["msg"], quiet
    finally:
        for handler in list(root.handlers):
            if handler not in saved_handlers:
                root.removeHandler(handler)
        root.setLevel(saved_level)


async def test_unreadable_and_misaddressed_packets(rig: Rig, tmp_path: Path) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><edXML>&a;</edXML>'
    await _send(
        rig,
        tmp_path,
        _from_g22(axis_2019_packet()).replace(
            b"000.00.00.H41</edXML:OrganId>", b"000.00.00.H14</edXML:OrganId>"
        ),
        to="000.00.00.H14",
    )
    report = await rig.poller.poll_once()
    assert report.ignored == 1 and report.acknowledged == 0  # H14 is not ours (yet): left on the axis
    # The simulator refuses to route what it cannot read, so hand it a bad packet directly.
    doc_id, path = rig.state.new_packet_path()
    path.write_bytes(bomb)
    bad = rig.state.deliver(sender_doc_id=doc_id, sender_system=SENDER[0], message_type="edoc",
                            from_code="000.00.00.G22", to_code="000.00.00.H41", packet=path, title="", notation="")  # fmt: skip
    report = await rig.poller.poll_once()
    assert report.rejected == 1 and bad.status == "fail"
    # A status about a document we never sent is recorded and acknowledged, nothing else.
    reversed_roles = (
        status_packet("05")
        .replace(b"<edXML:OrganId>000.00.00.H41</", b"<edXML:OrganId>SENDER</")
        .replace(b"<edXML:OrganId>000.00.00.G22</", b"<edXML:OrganId>000.00.00.H41</")
        .replace(b"SENDER", b"000.00.00.G22")
    )  # From VPCP, about a document of ours (H41) that we never sent
    await _send(rig, tmp_path, reversed_roles, kind="status")
    status_delivery = [d for d in rig.state.deliveries.values() if d.message_type == "status"]
    report = await rig.poller.poll_once()
    assert status_delivery and status_delivery[0].status == "done", (report, status_delivery)


async def test_partner_directory_sync_and_old_codes(rig: Rig) -> None:
    summary = await rig.directory.sync_partners(rig.poller.axis)
    assert summary.total == 1 and summary.added == 1
    rig.state.agencies["000.00.00.G22"].name = "Văn phòng Chính phủ (mới)"
    rig.state.add_agency(SimAgency(code="000.00.00.H14", name="UBND tỉnh Cao Bằng", system_id=US[0]))
    summary = await rig.directory.sync_partners(rig.poller.axis)
    assert (summary.total, summary.added, summary.changed) == (2, 1, 1)
    async with rig.db.transaction() as session:
        repo = Repository(session)
        assert (await repo.partner("01.02.G22"))["code"] == "000.00.00.G22"  # an old code resolves
        assert (await repo.partner("000.00.00.H14"))["name"] == "UBND tỉnh Cao Bằng"
        assert await repo.partner("000.00.00.H01") is None
    assert [p["code"] for p in await rig.directory.search_partners("Cao Bằng")] == ["000.00.00.H14"]


async def test_partner_lookups_are_cached_briefly_unknown_codes_too_and_a_sync_forgets_them(rig: Rig) -> None:
    ctx = rig.directory.ctx
    clock = [0.0]
    ctx._partners = TTLCache(maxsize=16, ttl=PARTNER_CACHE_S, timer=lambda: clock[0])
    async with rig.db.transaction() as session:
        assert await ctx.partner(session, "000.00.00.H14") is None  # not in the directory yet
    rig.state.add_agency(SimAgency(code="000.00.00.H14", name="UBND tỉnh Cao Bằng", system_id=US[0]))
    await rig.directory.sync_partners(rig.poller.axis)  # forgets what this process had cached
    async with rig.db.transaction() as session:
        assert (await ctx.partner(session, "000.00.00.H14"))["name"] == "UBND tỉnh Cao Bằng"
    async with rig.db.transaction() as session:  # another replica renames it: seen once the entry expires
        await session.execute(
            update(partners).where(partners.c.code == "000.00.00.H14").values(name="UBND tỉnh Cao Bằng (mới)")
        )
    async with rig.db.transaction() as session:
        assert (await ctx.partner(session, "000.00.00.H14"))["name"] == "UBND tỉnh Cao Bằng"
        clock[0] += PARTNER_CACHE_S + 0.1
        assert (await ctx.partner(session, "000.00.00.H14"))["name"] == "UBND tỉnh Cao Bằng (mới)"
        await session.execute(delete(partners).where(partners.c.code == "000.00.00.H14"))
        assert await ctx.partner(session, "000.00.00.H14") is not None  # within the new entry's life


async def test_a_packet_whose_import_fails_holds_back_none_of_its_round(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round's packets are imported in one transaction; when that fails they are imported one
    by one, so only the packet that fails is left on the axis for the next round."""
    for number in (1, 2, 3):
        await _send(rig, tmp_path, _from_g22(axis_2019_packet()).replace(
            b"9fbfbad2-6c4b-4b8e-a3a4-2f7b0e9d1c55", f"document-{number}".encode()))  # fmt: skip
    real = rig.poller.receiving.import_document
    poisoned = {"document-2"}

    async def import_document(tx: Any, document: Any, **kwargs: Any) -> Any:
        if document.external_document_id in poisoned:
            raise RuntimeError("storage hiccup")
        return await real(tx, document, **kwargs)

    monkeypatch.setattr(rig.poller.receiving, "import_document", import_document)
    first = await rig.poller.poll_once()
    assert first.imported == 2 and len(first.errors) == 1 and "storage hiccup" in first.errors[0]
    assert await _count(rig.db, receipts) == 2
    poisoned.clear()
    await rig.publish_outbox()
    second = await rig.poller.poll_once()
    assert second.imported == 1 and second.acknowledged == 2 and await _count(rig.db, receipts) == 3
    await rig.publish_outbox()
    assert (await rig.poller.poll_once()).acknowledged == 1
    assert all(d.status == "done" for d in rig.state.deliveries.values())
