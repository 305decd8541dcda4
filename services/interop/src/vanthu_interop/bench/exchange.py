"""`vanthu bench exchange`: documents sent A → B through the axis simulator and status 01 back.

Two interop processes (each with its own nats-server and SQLite database) and the simulator run
as separate processes. N issued documents are published on A; the figure is packets per second
until A has imported every status 01 from B: 2 packets per round trip (the document and its
status), each built, signed with HMAC headers, uploaded, listed, downloaded, parsed, stored,
imported exactly once with its event, and acknowledged. The floor is the same packet round
trips through the same simulator with bare client calls and packets built beforehand.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import nats

from vanthu_interop.axis.client import AxisClient, AxisConnection
from vanthu_interop.bench.platforms import (
    A_PROVINCE,
    A_SECRET,
    A_SYSTEM,
    B_PROVINCE,
    B_SECRET,
    B_SYSTEM,
    TwoPlatforms,
    start_simulator,
    stop_process,
)
from vanthu_interop.edxml import build_file
from vanthu_interop.edxml.model import Attachment, EdocPacket, Organ, ResponseFor, StatusPacket

PDF = b"%PDF-1.7\n" + b"0" * 20_000 + b"\n%%EOF\n"
CONCURRENCY = 16


async def _platform_rate(
    root: Path, count: int, database_urls: tuple[str, str] | None = None
) -> tuple[float, float, dict[str, float], dict[str, float]]:
    from vanthu_contracts.envelope import Envelope
    from vanthu_contracts.events.registry import FileRef, OrganRef, OutgoingIssued
    from vanthu_runtime.auth import ensure_dev_keypair
    from vanthu_runtime.objectstore import LocalObjectStore, UrlSigner

    _, public_key = ensure_dev_keypair(root / "keys")
    env = {"VANTHU_INTEROP_POLL_INTERVAL_S": "0.05", "VANTHU_INTEROP_POLL_CONCURRENCY": "8",
           "VANTHU_INTEROP_SEND_WORKERS": "6"}  # fmt: skip
    with TwoPlatforms(root, public_key, extra_env=env, database_urls=database_urls) as platforms:
        assert platforms.a is not None and platforms.b is not None
        store = LocalObjectStore(platforms.a.objects, UrlSigner(b"k" * 32), "http://unused")
        await store.prepare()
        stored = await store.put(PDF, content_type="application/pdf")
        file = FileRef(sha256=stored.sha256, name="cong-van.pdf", size=len(PDF))
        a = await nats.connect(platforms.a.nats.url)
        b = await nats.connect(platforms.b.nats.url)
        statuses: set[str] = set()
        received: set[str] = set()
        sent: set[str] = set()
        marks: dict[str, float] = {}
        started = time.perf_counter()
        done = asyncio.Event()  # the streams were provisioned as each platform started

        async def on_status(msg: Any) -> None:
            data = Envelope[dict[str, Any]].model_validate_json(msg.data).payload
            if data.get("code") == "01" and data.get("channel") == "axis":
                statuses.add(data["document_id"])
                if len(statuses) >= count:
                    done.set()

        async def on_received(msg: Any) -> None:
            received.add(
                Envelope[dict[str, Any]].model_validate_json(msg.data).payload["external_document_id"]
            )
            marks["B imported every document"] = time.perf_counter() - started

        async def on_sent(msg: Any) -> None:
            sent.add(Envelope[dict[str, Any]].model_validate_json(msg.data).payload["delivery_id"])
            marks["A sent every document"] = time.perf_counter() - started

        subscriptions = [
            await a.jetstream().subscribe(
                "vanthu.evt.interop.status.received", cb=on_status, ordered_consumer=True
            ),
            await b.jetstream().subscribe(
                "vanthu.evt.interop.document.received", cb=on_received, ordered_consumer=True
            ),
            await a.jetstream().subscribe(
                "vanthu.evt.interop.document.sent", cb=on_sent, ordered_consumer=True
            ),
        ]
        today = time.strftime("%Y/%m/%d")
        envelopes = []
        for i in range(count):
            issued = OutgoingIssued(
                document_id=f"bench-{i}", agency_code=A_PROVINCE, type_name="Công văn", code_number=str(i + 1),
                code_notation="UBND-VP", subject=f"V/v đo hiệu năng liên thông {i + 1}", files=[file],
                register_id="di", register_year=2026, number=i + 1, symbol=f"{i + 1}/UBND-VP",
                axis_document_id=f"{A_PROVINCE},{today},{i + 1}/UBND-VP", issued_at="2026-03-02T09:00:00Z",
                external_recipients=[OrganRef(organ_id=B_PROVINCE, organ_name="UBND tỉnh Sơn Lâm")],
            )  # fmt: skip
            envelopes.append(
                Envelope[Any](type="registry.document.issued", source="registry", payload=issued)
            )
        js = a.jetstream()
        pids = {"A": platforms.a.process.pid, "B": platforms.b.process.pid, "simulator": platforms.sim_pid,
                "nats-server A": platforms.a.nats.pid, "nats-server B": platforms.b.nats.pid,
                "the bench (publisher, subscribers)": os.getpid()}  # fmt: skip
        pids = {name: pid for name, pid in pids.items() if pid is not None}  # a container has no local pid
        cpu_before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
        started = time.perf_counter()
        marks.clear()
        await asyncio.gather(
            *(
                js.publish(
                    "vanthu.evt.registry.document.issued",
                    e.model_dump_json().encode(),
                    headers={"Nats-Msg-Id": e.msg_id},
                )
                for e in envelopes
            )
        )
        await asyncio.wait_for(done.wait(), timeout=max(120.0, count / 5))
        elapsed = time.perf_counter() - started
        assert len(received) == count, f"B imported {len(received)} of {count}"
        cpu = {name: (_cpu_seconds(pid) - cpu_before[name]) / count for name, pid in pids.items()}
        # Ended before the connections close: an ordered consumer that missed a heartbeat (the
        # host stalled) would otherwise try to recreate itself on a closing connection.
        for subscription in subscriptions:
            await subscription.unsubscribe()
        await a.close()
        await b.close()
    marks["A imported every status 01"] = elapsed
    return 2 * count / elapsed, count / elapsed, marks, cpu


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc), to show the cost per packet."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status(i: int) -> StatusPacket:
    return StatusPacket(
        from_=Organ(organ_id=B_PROVINCE, organ_name="UBND tỉnh Sơn Lâm"),
        response_for=ResponseFor(organ_id=A_PROVINCE, code=f"{i + 1}/UBND-VP", document_id=f"doc-{i}"),
        status_code="01",
        description="Đã đến",
    )


async def _floor_rate(root: Path, count: int) -> float:
    """The same packet traffic through the simulator with bare client calls (no vanthu around them)."""
    simulator, sim_url = start_simulator(root / "sim")
    try:
        return await _bare_round_trips(sim_url, root, count)
    finally:
        stop_process(simulator)


async def _bare_round_trips(sim_url: str, root: Path, count: int) -> float:
    work = root / "packets"
    work.mkdir(parents=True)
    (work / "a.pdf").write_bytes(PDF)
    docs, statuses = [], []
    for i in range(count):
        doc = EdocPacket(
            from_=Organ(organ_id=A_PROVINCE), to=[Organ(organ_id=B_PROVINCE)], document_id=f"doc-{i}",
            code_number=str(i + 1), code_notation="UBND-VP", subject=f"V/v đo hiệu năng {i + 1}",
            attachments=[Attachment(name="cong-van.pdf", path=work / "a.pdf")],
        )  # fmt: skip
        build_file(doc, work / f"d{i}.edxml")
        build_file(_status(i), work / f"s{i}.edxml")
        docs.append((work / f"d{i}.edxml").read_bytes())
        statuses.append((work / f"s{i}.edxml").read_bytes())
    sender = AxisClient(AxisConnection(sim_url, A_SYSTEM, A_SECRET))
    receiver = AxisClient(AxisConnection(sim_url, B_SYSTEM, B_SECRET))
    gate = asyncio.Semaphore(CONCURRENCY)

    async def bounded(call: Any) -> Any:
        async with gate:
            return await call

    async def drain(client: AxisClient, message_type: str, expected: int) -> None:
        got = 0
        while got < expected:
            entries = await client.get_received_edoc_list(message_type)
            await asyncio.gather(
                *(bounded(client.get_edoc(e.doc_id, work / f"in-{e.doc_id}.edxml")) for e in entries)
            )
            await asyncio.gather(*(bounded(client.update_status(e.doc_id, "done")) for e in entries))
            got += len(entries)

    started = time.perf_counter()
    await asyncio.gather(*(bounded(sender.send_edoc(p, from_code=A_PROVINCE, message_type="edoc",
                                                    to_codes=[B_PROVINCE])) for p in docs))  # fmt: skip
    await drain(receiver, "edoc", count)
    await asyncio.gather(*(bounded(receiver.send_edoc(p, from_code=B_PROVINCE, message_type="status"))
                           for p in statuses))  # fmt: skip
    await drain(sender, "status", count)
    elapsed = time.perf_counter() - started
    await sender.aclose()
    await receiver.aclose()
    return 2 * count / elapsed


async def run(quick: bool) -> Any:
    """Packets/s round trip (document A→B, status 01 back) between two platforms through the axis simulator."""
    from vanthu_bench.report import BenchResult, Row

    count = 40 if quick else 400
    with tempfile.TemporaryDirectory(prefix="vanthu-bench-exchange-") as tmp:
        packets, documents, marks, cpu = await _platform_rate(Path(tmp) / "platforms", count)
        floor = await _floor_rate(Path(tmp) / "floor", count)
    return BenchResult(
        name="exchange",
        value=packets,
        unit="packets/s",
        floor=floor,
        goal="≥ 100 packets/s round trip with statuses",
        rows=[
            Row(
                "floor: bare client calls through the simulator",
                floor,
                "packets/s",
                f"{count} documents + {count} statuses, {CONCURRENCY} in flight, prebuilt packets",
            ),
            Row(
                "two platforms, through the simulator",
                packets,
                "packets/s",
                "issued event → edoc → import → status 01 → import on the sender",
            ),
            Row("documents round-tripped", documents, "documents/s", "each one edoc and one status packet"),
            *(
                Row(f"CPU per round trip, {name}", seconds * 1000, "ms", "user + system time / documents")
                for name, seconds in cpu.items()
            ),
        ],
        notes=[
            "timeline: "
            + ", ".join(f"{name} after {at:.1f} s" for name, at in sorted(marks.items(), key=lambda m: m[1])),
            f"{count} documents with a 20 KB PDF; SQLite per platform; poll interval 0.05 s",
            "five processes (simulator, two interop, two nats-server) share the machine's cores",
        ],
    )
