"""`vanthu bench routing`: routing actions per second on PostgreSQL, and the inbox query latency.

Actions: for each document a leader assigns it to a unit, the unit head acknowledges it and
reports progress — three use cases through the service layer, each its own transaction with
its version check, history row, events and notifications in the outbox (the relay publishes
them to a real nats-server meanwhile). The floor does the same number of transactions with
only a versioned row update and one outbox insert each, at the same concurrency.

Inbox: one unit head holds 10,000 open items among 40,000 of other people; the figure is the
latency of what the inbox page loads (counts of every box + the first page of xử lý chính).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import nats
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, text, update

from vanthu_contracts.envelope import Envelope, RawEnvelope
from vanthu_contracts.events import registry as reg
from vanthu_contracts.events.common import Role
from vanthu_contracts.events.routing import AssigneeKind, HandlingRole
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.handling import NewAssignee
from vanthu_routing.ids import new_id
from vanthu_routing.repos.inbox import Box, InboxFilter
from vanthu_routing.repository import assignments, dir_agencies, dir_units, dir_users, handlings
from vanthu_runtime.auth import Principal
from vanthu_runtime.db import Database
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.messaging.provision import provision
from vanthu_runtime.messaging.tables import messaging_tables

if TYPE_CHECKING:  # the bench kit and the test launchers are only needed when it runs
    from vanthu_bench.report import BenchResult

AGENCY = "000.00.12.H99"
CONCURRENCY = 16


class _Changed(BaseModel):
    row_id: str
    state: str


def _principal(user_id: str, unit: str, role: Role) -> Principal:
    return Principal(user_id=user_id, agency=AGENCY, unit=unit, roles=[str(role)])


async def _seed_directory(db: Database, units: int) -> None:
    async with db.transaction() as s:
        await s.execute(
            insert(dir_agencies).values(
                code=AGENCY,
                name="Sở Xây dựng",
                abbreviation="SXD",
                parent_code=None,
                hosted=True,
                active=True,
            )
        )
        await s.execute(
            insert(dir_units),
            [
                {
                    "id": f"u{i}",
                    "agency_code": AGENCY,
                    "name": f"Phòng {i}",
                    "abbreviation": f"P{i}",
                    "parent_unit_id": None,
                    "active": True,
                }
                for i in range(units)
            ],
        )
        people = [{"id": "leader", "unit_id": "u0", "roles": [str(Role.HEAD)]}]
        people += [
            {"id": f"head{i}", "unit_id": f"u{i}", "roles": [str(Role.UNIT_HEAD)]} for i in range(units)
        ]
        await s.execute(
            insert(dir_users),
            [
                {
                    **p,
                    "agency_code": AGENCY,
                    "full_name": p["id"],
                    "position": "",
                    "email": "",
                    "active": True,
                }
                for p in people
            ],
        )


async def _open_documents(app: Any, count: int) -> list[str]:
    """Open handlings the way the consumer does, then return their ids."""
    ctx = app.state.routing
    now = datetime.now(UTC)
    for start in range(0, count, 200):
        async with ctx.uow.begin() as tx:
            for i in range(start, min(count, start + 200)):
                payload = reg.IncomingRegistered(
                    document_id=new_id(),
                    agency_code=AGENCY,
                    type_name="Công văn",
                    subject=f"V/v số liệu {i}",
                    register_id="den",
                    register_year=now.year,
                    incoming_number=i + 1,
                    received_at=now,
                    registered_at=now,
                    channel=reg.Channel.AXIS,
                    sender=reg.OrganRef(organ_id="000.00.00.G22", organ_name="Bộ Nội vụ"),
                )
                raw = Envelope(
                    type=reg.DOCUMENT_REGISTERED.type, source="registry", agency=AGENCY, payload=payload
                )
                await app.state.handlings.on_registered(
                    tx, RawEnvelope.model_validate_json(raw.model_dump_json())
                )
    async with ctx.uow.read() as s:
        return list((await s.execute(text("SELECT id FROM handlings ORDER BY id"))).scalars())


async def _actions_rate(app: Any, handling_ids: list[str], units: int) -> tuple[float, int, float]:
    """(actions/s, actions, CPU seconds of this process per action: its relay included)."""
    service = app.state.handlings
    leader = _principal("leader", "u0", Role.HEAD)
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for i, hid in enumerate(handling_ids):
        queue.put_nowait((i, hid))
    done = 0

    async def worker() -> None:
        nonlocal done
        while True:
            try:
                i, hid = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            unit = f"u{i % units}"
            head = _principal(f"head{i % units}", unit, Role.UNIT_HEAD)
            rec = await service.assign(
                leader, hid, [NewAssignee(AssigneeKind.UNIT, unit, HandlingRole.MAIN, None)], "Xử lý"
            )
            aid = rec.handling.assignments[-1].id
            await service.act(head, aid, "acknowledge")
            await service.act(head, aid, "progress", note="Đang xử lý", percent=50)
            done += 3

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return done / (time.perf_counter() - started), done, (time.process_time() - cpu) / done


async def _floor_rate(db_url: str, count: int) -> tuple[float, float]:
    """(transactions/s, CPU seconds of this process per transaction)."""
    metadata = MetaData()
    rows = Table(
        "bench_rows",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("state", String(20)),
        Column("version", Integer),
    )
    outbox_t, _ = messaging_tables(metadata)
    db = Database(db_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    ids = [new_id() for _ in range(max(1, count // 3))]
    async with db.transaction() as s:
        await s.execute(insert(rows), [{"id": i, "state": "pending", "version": 1} for i in ids])
    outbox = Outbox(outbox_t)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def worker() -> None:
        while True:
            try:
                n = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            row_id = ids[n % len(ids)]
            version = n // len(ids) + 1
            async with db.transaction() as s:
                await s.execute(
                    update(rows)
                    .where(rows.c.id == row_id, rows.c.version == version)
                    .values(state="x", version=version + 1)
                )
                env = Envelope(
                    type="routing.handling.progressed",
                    source="routing",
                    agency=AGENCY,
                    payload=_Changed(row_id=row_id, state="x"),
                )
                await outbox.add(s, env)

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await db.dispose()
    return count / elapsed, cpu / count


async def _inbox_latency(app: Any, db: Database, mine: int, others: int, samples: int) -> dict[str, float]:
    """Bulk-load `mine` open items for head0's unit and `others` for other units; time the inbox."""
    now = datetime.now(UTC)
    today = now.date()
    batch = 2000
    for start in range(0, mine + others, batch):
        h_rows, a_rows = [], []
        for i in range(start, min(mine + others, start + batch)):
            hid = new_id()
            key = "o:u0" if i < mine else f"o:u{1 + i % 7}"
            h_rows.append(
                {
                    "id": hid,
                    "document_id": new_id(),
                    "agency_code": AGENCY,
                    "state": "in_handling",
                    "channel": "axis",
                    "sender": None,
                    "external_document_id": None,
                    "type_name": "Công văn",
                    "code_notation": f"{i}/UBND-VP",
                    "subject": f"V/v nội dung số {i}",
                    "incoming_number": i,
                    "urgency": "khan" if i % 5 == 0 else "thuong",
                    "secrecy": "thuong",
                    "received_at": now,
                    "default_deadline": today,
                    "statuses_sent": ["03", "04"],
                    "created_at": now,
                    "completed_at": None,
                    "version": 2,
                }
            )
            a_rows.append(
                {
                    "id": new_id(),
                    "handling_id": hid,
                    "parent_id": None,
                    "kind": "unit",
                    "assignee_id": key[2:],
                    "assignee_key": key,
                    "role": ("main", "support", "info")[i % 3],
                    "assigned_by": "leader",
                    "assigned_on_behalf_of": None,
                    "deadline": today + timedelta(days=(i % 40) - 10),
                    "instruction": "",
                    "state": "pending",
                    "is_open": True,
                    "percent": 0,
                    "result": "",
                    "reply_draft_id": None,
                    "urgency": "khan" if i % 5 == 0 else "thuong",
                    "created_at": now - timedelta(seconds=i),
                    "closed_at": None,
                    "extension_requested": None,
                    "extension_reason": "",
                    "version": 1,
                }
            )
        async with db.transaction() as s:
            await s.execute(insert(handlings), h_rows)
            await s.execute(insert(assignments), a_rows)
    # What autovacuum does on a live system: statistics, and the visibility map that lets the
    # inbox counts be answered from the index alone.
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE assignments"))
        await conn.execute(text("VACUUM ANALYZE handlings"))
    inboxes = app.state.inboxes
    head = Actor("head0", AGENCY, "u0", frozenset({str(Role.UNIT_HEAD)}))
    for _ in range(10):  # warm up: connections, prepared statements, caches
        await inboxes.counts(head)
        await inboxes.page(head, Box.MAIN, InboxFilter(limit=50))
    whole, page_only, filtered = [], [], []
    for i in range(samples):
        t0 = time.perf_counter()
        counts = await inboxes.counts(head)
        t1 = time.perf_counter()
        page = await inboxes.page(head, Box.MAIN, InboxFilter(limit=50))
        t2 = time.perf_counter()
        await inboxes.page(
            head, Box((Box.MAIN, Box.SUPPORT)[i % 2]), InboxFilter(overdue=True, urgency=("khan",))
        )
        t3 = time.perf_counter()
        whole.append((t2 - t0) * 1000)
        page_only.append((t2 - t1) * 1000)
        filtered.append((t3 - t2) * 1000)
    held = counts[Box.MAIN].total + counts[Box.SUPPORT].total + counts[Box.INFO].total
    assert held >= mine and len(page.items) == 50, (held, len(page.items))

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[18]

    return {
        "items": float(held),
        "p50": statistics.median(whole),
        "p95": p95(whole),
        "page_p95": p95(page_only),
        "filtered_p95": p95(filtered),
    }


async def run(quick: bool) -> BenchResult:
    """Routing actions/s (assign, acknowledge, progress) on PostgreSQL vs plain updates; inbox p95."""
    from asgi_lifespan import LifespanManager

    from vanthu_bench.infra import bench_infrastructure
    from vanthu_bench.report import BenchResult, Row
    from vanthu_routing.app import create_app
    from vanthu_routing.settings import RoutingSettings

    documents = 400 if quick else 2000
    units = 8
    with bench_infrastructure("routing", nats=True, postgres=2) as infra:
        pg_app, pg_floor = infra.databases
        nc = await nats.connect(infra.nats.url)
        assert (await provision(nc.jetstream())).ok
        await nc.close()
        from vanthu_runtime.auth import ensure_dev_keypair

        _, public_key = ensure_dev_keypair(infra.tmp / "keys")
        settings = RoutingSettings(
            jwt_public_key_file=public_key,
            database_url=pg_app.url,
            nats_url=infra.nats.url,
            object_store_dir=infra.tmp / "objects",
            reminder_interval_s=0,
            log_level="WARNING",
            database_pool_size=CONCURRENCY,
        )
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=60):
            db: Database = app.state.routing.uow.db
            await _seed_directory(db, units)
            handling_ids = await _open_documents(app, documents)
            rate, actions, action_cpu = await _actions_rate(app, handling_ids, units)
            floor, floor_cpu = await _floor_rate(pg_floor.url, actions)
            inbox = await _inbox_latency(app, db, 10_000, 10_000 if quick else 40_000, 60 if quick else 300)
            pending = await _pending_outbox(db)
    return BenchResult(
        name="routing",
        value=rate,
        unit="actions/s",
        floor=floor,
        goal="≥ 500 actions/s with their events; inbox of 10,000 items < 50 ms p95",
        rows=[
            Row(
                "routing actions (assign, acknowledge, progress)",
                rate,
                "actions/s",
                f"{actions:,} actions, {CONCURRENCY} concurrent, events + notifications in the outbox",
            ),
            Row(
                "floor: versioned row update + one outbox insert", floor, "tx/s", "same count and concurrency"
            ),
            # CPU per item holds still when other work shares the cores; the rates do not.
            Row("CPU per action, routing process", action_cpu * 1e6, "µs", "its outbox relay included"),
            Row("CPU per floor transaction", floor_cpu * 1e6, "µs", "same process"),
            Row("inbox: counts + first page, p50", inbox["p50"], "ms", f"{int(inbox['items']):,} items held"),
            Row("inbox: counts + first page, p95", inbox["p95"], "ms", "goal < 50 ms"),
            Row("inbox: first page only, p95", inbox["page_p95"], "ms", "xử lý chính, 50 rows"),
            Row("inbox: filtered page (overdue, khẩn), p95", inbox["filtered_p95"], "ms", ""),
        ],
        notes=[
            "service layer in-process (no HTTP); PostgreSQL and nats-server share the machine's cores",
            f"outbox rows not yet relayed at the end: {pending}",
        ],
    )


async def _pending_outbox(db: Database) -> int:
    async with db.engine.connect() as conn:
        return (
            await conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
        ).scalar_one()
