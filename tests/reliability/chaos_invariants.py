"""What must hold after the chaos, measured from the services' own databases, NATS and the axis.

Each figure is a count with the value it must have: lost documents, duplicate numbers, gaps in
a register, duplicate deliveries to users, duplicate status packets, and every backlog (NATS
consumers, work queues, outboxes, interop deliveries, the dead-letter stream) at zero.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
from chaos_load import FOREIGN, Ledger
from chaos_platform import ChaosPlatform
from rich.console import Console
from rich.table import Table

from vanthu_cli.services import SERVICES
from vanthu_contracts.streams import DEAD_LETTER_STREAM, INTEROP_JOBS_STREAM, SIGNING_JOBS_STREAM, consumers
from vanthu_interop.edxml import parse
from vanthu_interop.edxml.model import StatusPacket

# The statuses a document that came over the axis and was assigned sends back to its sender.
AXIS_STATUSES = ("01", "03", "04")


@dataclass(frozen=True)
class Figure:
    group: str
    name: str
    value: int
    must_be: int | None = 0  # None: shown for information
    examples: tuple[str, ...] = ()  # a few of the offending items, for the failure message

    @property
    def ok(self) -> bool:
        return self.must_be is None or self.value == self.must_be


async def _rows(dsn: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        return await connection.fetch(query)
    finally:
        await connection.close()


async def _value(dsn: str, query: str) -> int:
    return int((await _rows(dsn, query))[0][0] or 0)


# -- backlogs ------------------------------------------------------------------------------------


async def backlogs(platform: ChaosPlatform) -> list[Figure]:
    """Everything that would still be on its way somewhere."""
    figures: list[Figure] = []
    nc = await nats.connect(platform.nats_url, connect_timeout=5, max_reconnect_attempts=2)
    try:
        js = nc.jetstream()
        pending: Counter[str] = Counter()
        ack_pending: Counter[str] = Counter()
        for spec in consumers():
            info = await js.consumer_info(spec.stream, spec.durable)
            pending[spec.durable] = info.num_pending or 0
            ack_pending[spec.durable] = info.num_ack_pending or 0
        figures += [
            Figure("backlogs", "NATS consumers: messages not yet delivered (num_pending)", pending.total(),
                   examples=_examples(f"{d} {n}" for d, n in pending.most_common() if n)),
            Figure("backlogs", "NATS consumers: delivered, not acknowledged (num_ack_pending)", ack_pending.total(),
                   examples=_examples(f"{d} {n}" for d, n in ack_pending.most_common() if n)),
        ]  # fmt: skip
        for stream in (SIGNING_JOBS_STREAM, INTEROP_JOBS_STREAM):
            info = await js.stream_info(stream.name)
            figures.append(Figure("backlogs", f"jobs left in {stream.name}", info.state.messages))
        dead = await js.stream_info(DEAD_LETTER_STREAM.name)
        figures.append(Figure("backlogs", "dead-lettered messages (VANTHU_DLQ)", dead.state.messages))
    finally:
        await nc.close()
    unsent = 0
    for service in SERVICES:
        unsent += await _value(
            platform.database_dsn(service), "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        )
    figures.append(Figure("backlogs", "outbox rows not yet published (5 databases)", unsent))
    interop = platform.database_dsn("interop")
    figures.append(
        Figure("backlogs", "interop deliveries not sent (pending, sending, failed)",
               await _value(interop, "SELECT count(*) FROM deliveries WHERE state <> 'sent'"))
    )  # fmt: skip
    return figures


def drained(figures: list[Figure]) -> bool:
    return all(f.ok for f in figures)


# -- documents and numbers -----------------------------------------------------------------------


async def documents(platform: ChaosPlatform, ledger: Ledger) -> list[Figure]:
    registry = platform.database_dsn("registry")
    rows = await _rows(
        registry,
        "SELECT id, agency_code, direction, state, register_id, number, external_document_id FROM documents",
    )
    ids = {row["id"] for row in rows}
    by_external = Counter(
        (row["agency_code"], row["external_document_id"]) for row in rows if row["external_document_id"]
    )
    lost_accepted = sum(1 for document_id in ledger.accepted if document_id not in ids)
    lost_axis = sum(1 for key, agency in ledger.axis_sent.items() if (agency, key) not in by_external)
    lost_internal = sum(
        1 for key, agency in ledger.internal_expected.items() if (agency, key) not in by_external
    )
    numbers = Counter((row["register_id"], row["number"]) for row in rows if row["number"] is not None)
    per_register: dict[str, list[int]] = {}
    for register_id, number in numbers:
        per_register.setdefault(register_id, []).append(number)
    gaps = sum(max(found) - len(found) for found in per_register.values())
    incoming = [row for row in rows if row["direction"] == "incoming"]
    return [
        Figure("documents", "documents in the registry", len(rows), None),
        Figure("documents", "requests accepted (2xx) by the registry", len(ledger.accepted), None),
        Figure("documents", "lost: accepted (2xx) but not in the registry", lost_accepted,
               examples=_examples(i for i in ledger.accepted if i not in ids)),
        Figure("documents", "lost: accepted by the axis for us, never recorded", lost_axis),
        Figure("documents", "lost: issued to a hosted agency, never received there", lost_internal),
        Figure("documents", "incoming documents not registered (no số đến)",
               sum(1 for row in incoming if row["number"] is None)),
        Figure("documents", "the same document recorded twice by one agency",
               sum(count - 1 for count in by_external.values() if count > 1)),
        Figure("numbers", "duplicate numbers (same register and year)",
               sum(count - 1 for count in numbers.values() if count > 1),
               examples=_examples(key for key, count in numbers.items() if count > 1)),
        Figure("numbers", "gaps in a register's numbers", gaps),
        Figure("numbers", "registers used", len(per_register), None),
    ]  # fmt: skip


# -- routing: deliveries to users -----------------------------------------------------------------


async def deliveries_to_users(platform: ChaosPlatform) -> list[Figure]:
    routing = platform.database_dsn("routing")
    registry = platform.database_dsn("registry")
    registered_incoming = await _value(
        registry, "SELECT count(*) FROM documents WHERE direction = 'incoming' AND number IS NOT NULL"
    )
    handlings = await _value(routing, "SELECT count(*) FROM handlings")
    duplicate_notifications = await _value(
        routing,
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM notifications "
        "GROUP BY user_id, kind, ref_type, ref_id HAVING count(*) > 1) AS repeated",
    )
    duplicate_mains = await _value(
        routing,
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM assignments "
        "WHERE parent_id IS NULL AND role = 'main' GROUP BY handling_id HAVING count(*) > 1) AS repeated",
    )
    return [
        Figure("routing", "handlings opened", handlings, None),
        Figure("routing", "registered incoming documents without exactly one handling",
               abs(registered_incoming - handlings)),
        Figure("routing", "handlings still waiting for a leader", await _value(
            routing, "SELECT count(*) FROM handlings WHERE state = 'waiting'")),
        Figure("routing", "notifications delivered to users", await _value(
            routing, "SELECT count(*) FROM notifications"), None),
        Figure("routing", "duplicate deliveries to users (same user, kind and item)", duplicate_notifications),
        Figure("routing", "handlings assigned to two main handlers", duplicate_mains),
    ]  # fmt: skip


# -- the axis: status packets and documents we sent ----------------------------------------------


_parsed: dict[Path, Any] = {}  # a stored packet never changes: read each once per run


def _read_packets(paths: list[Path]) -> list[Any]:
    for path in paths:
        if path not in _parsed:
            with parse(path, attachments=False) as parsed:
                _parsed[path] = parsed.packet
    return [_parsed[path] for path in paths]


async def axis(platform: ChaosPlatform, ledger: Ledger) -> list[Figure]:
    async with httpx.AsyncClient(base_url=platform.sim_url, timeout=60.0) as client:
        entries = (await client.get("/_sim/deliveries")).json()
    ours = [e for e in entries if e["fromCode"] != FOREIGN.organ_id]
    packets_dir = platform.sim_dir / "packets"
    status_paths = [packets_dir / f"{e['senderDocId']}.edxml" for e in ours if e["messageType"] == "status"]
    statuses = Counter(
        (p.from_.organ_id, p.response_for.document_id, p.status_code)
        for p in await asyncio.to_thread(_read_packets, status_paths)
        if isinstance(p, StatusPacket)
    )
    expected = {(agency, key, code) for key, agency in ledger.axis_sent.items() for code in AXIS_STATUSES}
    edocs = Counter((e["senderDocId"], e["toCode"]) for e in ours if e["messageType"] == "edoc")
    edoc_paths = [packets_dir / f"{sender}.edxml" for sender, _ in edocs]
    sent_ids = Counter(
        (p.document_id, to)
        for p, (_, to) in zip(await asyncio.to_thread(_read_packets, edoc_paths), edocs, strict=True)
    )
    expected_edocs = {
        (o["axis_document_id"], code) for o in ledger.outgoing.values() for code in o["external"]
    }
    return [
        Figure("axis", "status packets we sent", sum(statuses.values()), None),
        Figure("axis", "duplicate status packets (same document, sender, code)",
               sum(count - 1 for count in statuses.values() if count > 1),
               examples=_examples(key for key, count in statuses.items() if count > 1)),
        Figure("axis", "missing status packets (01, 03, 04 per document received over the axis)",
               len(expected - set(statuses)), examples=_examples(expected - set(statuses))),
        Figure("axis", "documents we sent over the axis", sum(edocs.values()), None),
        Figure("axis", "documents sent twice to one recipient",
               sum(count - 1 for count in sent_ids.values() if count > 1),
               examples=_examples(key for key, count in sent_ids.items() if count > 1)),
        Figure("axis", "issued documents never sent to their recipient", len(expected_edocs - set(sent_ids)),
               examples=_examples(expected_edocs - set(sent_ids))),
    ]  # fmt: skip


def _examples(items: Any, limit: int = 3) -> tuple[str, ...]:
    return tuple(str(item) for _, item in zip(range(limit), items, strict=False))


# -- the report ------------------------------------------------------------------------------------


def report(
    console: Console, title: str, sections: list[tuple[str, list[tuple[str, str]]]], figures: list[Figure]
) -> None:
    """The figures as one table, each beside the value it must have; plus the run's facts."""
    for heading, rows in sections:
        table = Table(title=heading, title_justify="left")
        table.add_column("")
        table.add_column("", justify="right")
        for name, value in rows:
            table.add_row(name, value)
        console.print(table)
    table = Table(title=title, title_justify="left")
    for column, justify in (
        ("group", "left"),
        ("figure", "left"),
        ("value", "right"),
        ("must be", "right"),
        ("", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for figure in figures:
        mark = "" if figure.must_be is None else ("[green]ok[/]" if figure.ok else "[bold red]FAIL[/]")
        must = "" if figure.must_be is None else f"{figure.must_be:,}"
        table.add_row(figure.group, figure.name, f"{figure.value:,}", must, mark)
    console.print(table)
