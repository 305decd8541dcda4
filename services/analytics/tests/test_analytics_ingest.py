"""The fact pipeline on a real database: counts, idempotency, skips, order-free timelines."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text

from vanthu_analytics import events as ev
from vanthu_analytics.derived import derived_sql
from vanthu_analytics.domain.durations import SUB_BUCKETS, bucket_of, bucket_sql
from vanthu_analytics.ingest import FactPipeline
from vanthu_analytics.repository import documents, skipped_events
from vanthu_contracts.envelope import RawEnvelope
from vanthu_contracts.events.registry import Channel
from vanthu_contracts.events.signing import SignatureKind
from vanthu_runtime.uow import UnitOfWork

AG = "000.00.12.H99"
T0 = datetime(2026, 10, 5, 1, 30, tzinfo=UTC)  # 08:30 in Hà Nội


def raw(envelope) -> RawEnvelope:
    return RawEnvelope.model_validate_json(envelope.model_dump_json())


def incoming_story(doc: str = "doc-1") -> list[RawEnvelope]:
    return [
        raw(ev.agency(AG, "Sở Xây dựng", "SXD", "000.00.00.H99", at=T0)),
        raw(ev.unit("u-qlxd", AG, "Phòng Quản lý xây dựng", "QLXD", at=T0)),
        raw(ev.unit("u-vp", AG, "Văn phòng", "VP", at=T0)),
        raw(ev.user("clerk", AG, "u-vp", "Nguyễn Văn Thư", at=T0)),
        raw(ev.user("leader", AG, "u-vp", "Trần Lãnh Đạo", at=T0)),
        raw(ev.user("spec", AG, "u-qlxd", "Lê Chuyên Viên", at=T0)),
        raw(ev.registered(doc, AG, channel=Channel.AXIS, received_at=T0, registered_at=T0 + timedelta(hours=2),
                          clerk="clerk", due_date=date(2026, 10, 9))),
        raw(ev.assigned(doc, AG, unit_id="u-qlxd", leader="leader", at=T0 + timedelta(hours=5),
                        deadline=date(2026, 10, 9))),
        raw(ev.completed(doc, AG, unit_id="u-qlxd", by="spec", at=T0 + timedelta(days=2), on_time=True)),
        raw(ev.draft_created("dr-1", AG, unit_id="u-qlxd", creator="spec", at=T0 + timedelta(days=1))),
        raw(ev.draft_approved("dr-1", AG, unit_id="u-qlxd", creator="spec", signer="leader", at=T0 + timedelta(days=1, hours=3))),
        raw(ev.signed(AG, kind=SignatureKind.PERSONAL, at=T0 + timedelta(days=1, hours=4), by="leader", draft_id="dr-1")),
        raw(ev.signed(AG, kind=SignatureKind.SEAL, at=T0 + timedelta(days=1, hours=5), by="clerk", draft_id="dr-1")),
        raw(ev.issued("out-1", AG, at=T0 + timedelta(days=1, hours=6), clerk="clerk", draft_id="dr-1")),
    ]  # fmt: skip


async def unit_figures(uow: UnitOfWork) -> dict[tuple[str, str, str], int]:
    async with uow.read() as session:
        rows = await session.execute(text("SELECT day, unit, measure, value FROM unit_daily"))
        return {(str(r[0]), r[1], r[2]): int(r[3]) for r in rows}


async def test_a_story_becomes_unit_figures_once_however_often_it_is_applied(uow: UnitOfWork) -> None:
    pipeline = FactPipeline(uow)
    story = incoming_story()
    first = await pipeline.apply(story)
    assert first.applied == len(story) and first.duplicates == 0
    figures = await unit_figures(uow)
    assert figures[("2026-10-05", "", "received_axis")] == 1  # the văn thư acts for the agency
    assert figures[("2026-10-05", "", "registered")] == 1
    assert figures[("2026-10-05", "u-qlxd", "routed")] == 1  # the main unit named in the assignment
    assert figures[("2026-10-07", "u-qlxd", "completed_on_time")] == 1
    assert figures[("2026-10-06", "u-qlxd", "drafted")] == 1
    assert figures[("2026-10-06", "u-qlxd", "approved")] == 1
    assert figures[("2026-10-06", "", "signed_personal")] == 1
    assert figures[("2026-10-06", "", "signed_seal")] == 1
    assert figures[("2026-10-06", "", "issued_digitally_signed")] == 1
    assert ("2026-10-06", "", "issued_without_draft") not in figures

    again = await pipeline.apply(story[-5:] + story[:3])  # redelivered, in another batch shape
    assert again.applied == 0 and again.duplicates == 8
    assert await unit_figures(uow) == figures

    async with uow.read() as session:
        actions = dict(
            (
                await session.execute(text("SELECT person, SUM(actions) FROM person_daily GROUP BY person"))
            ).all()
        )
    assert {k: int(v) for k, v in actions.items()} == {"clerk": 3, "leader": 3, "spec": 2}


async def test_unknown_types_newer_versions_and_invalid_payloads_are_counted_and_skipped(
    uow: UnitOfWork,
) -> None:
    good = raw(
        ev.registered("doc-2", AG, channel=Channel.PAPER, received_at=T0, registered_at=T0, clerk="clerk")
    )
    unknown = good.model_copy(update={"id": uuid.uuid4(), "type": "registry.document.archived"})
    newer = good.model_copy(update={"id": uuid.uuid4(), "version": 2})
    broken = good.model_copy(update={"id": uuid.uuid4(), "payload": {**good.payload, "channel": "pigeon"}})
    missing = good.model_copy(update={"id": uuid.uuid4(), "payload": {"document_id": "x"}})
    outcome = await FactPipeline(uow).apply([unknown, good, newer, broken, missing])
    assert outcome.applied == 1
    async with uow.read() as session:
        rows = (await session.execute(select(skipped_events).order_by(skipped_events.c.reason))).all()
    assert [(r.type, r.version, r.reason, r.count) for r in rows] == [
        ("registry.document.registered", 1, "invalid", 2),
        ("registry.document.registered", 2, "newer_version", 1),
        ("registry.document.archived", 1, "unknown_type", 1),
    ]
    # Skips go through the inbox too: a replay counts them once.
    await FactPipeline(uow).apply([unknown, newer])
    async with uow.read() as session:
        total = (await session.execute(text("SELECT SUM(count) FROM skipped_events"))).scalar_one()
    assert int(total) == 4
    assert (await unit_figures(uow))[("2026-10-05", "", "received_paper")] == 1


async def test_the_newest_description_of_a_user_wins_whatever_the_order(uow: UnitOfWork) -> None:
    old = raw(ev.user("u1", AG, "u-a", "Tên cũ", at=T0))
    new = raw(ev.user("u1", AG, "u-b", "Tên mới", at=T0 + timedelta(days=1)))
    pipeline = FactPipeline(uow)
    await pipeline.apply([new])
    await pipeline.apply([old])  # redelivered late
    async with uow.read() as session:
        row = (await session.execute(text("SELECT unit_id, full_name FROM users WHERE id = 'u1'"))).one()
    assert tuple(row) == ("u-b", "Tên mới")


async def test_timelines_merge_the_same_whatever_the_order(uow: UnitOfWork) -> None:
    story = incoming_story("doc-3")
    later = raw(ev.assigned("doc-3", AG, unit_id="u-other", leader="leader", at=T0 + timedelta(hours=9)))
    pipeline = FactPipeline(uow)
    # Completion first, the later assignment before the earlier one, one event per batch.
    for envelope in [story[8], later, story[7], story[6]]:
        await pipeline.apply([envelope])
    async with uow.read() as session:
        row = (await session.execute(select(documents).where(documents.c.document_id == "doc-3"))).one()
    assert row.unit == "u-qlxd"  # the earliest top-level assignment's unit
    assert row.assigned_at == int((T0 + timedelta(hours=5)).timestamp())
    assert row.registered_at - row.arrived_at == 7200
    assert row.completed_at == int((T0 + timedelta(days=2)).timestamp())
    assert row.deadline == date(2026, 10, 9).toordinal()
    assert row.channel == "axis"


async def test_the_bucket_sql_is_the_bucket_function(uow: UnitOfWork) -> None:
    samples = [*range(0, 200), *((SUB_BUCKETS << k) + d for k in range(30) for d in (-1, 0, 1)), 10**12]
    values = " UNION ALL ".join(f"SELECT {s} AS s" for s in samples)
    async with uow.read() as session:
        got = (await session.execute(text(f"SELECT s, {bucket_sql('s')} FROM ({values}) v ORDER BY s"))).all()
    assert [(int(s), int(b)) for s, b in got] == [(s, bucket_of(s)) for s in sorted(samples)]


async def _derived_rows(uow: UnitOfWork) -> dict[str, set[tuple]]:
    async with uow.read() as session:
        return {
            "times": {
                (str(m), a, u, st, b, int(n))
                for m, a, u, st, b, n in await session.execute(
                    text("SELECT * FROM document_times_monthly WHERE documents <> 0")
                )
            },
            "overdue": {
                (str(d), a, u, int(n))
                for d, a, u, n in await session.execute(
                    text("SELECT * FROM overdue_daily WHERE documents <> 0")
                )
            },
        }


async def test_times_and_overdue_follow_the_documents_whatever_the_order(uow: UnitOfWork) -> None:
    story = incoming_story("doc-4")
    later = raw(ev.assigned("doc-4", AG, unit_id="u-other", leader="leader", at=T0 + timedelta(hours=9)))
    late = raw(
        ev.completed("doc-4", AG, unit_id="u-other", by="spec", at=T0 + timedelta(days=9), on_time=False)
    )
    pipeline = FactPipeline(uow)
    # One event per batch: a late completion and a later assignment first, so the document is
    # counted late in another unit, then moved when the earlier assignment and completion come.
    for batch in ([late], [later], [story[6]], [story[8]], [story[7], story[6]]):
        await pipeline.apply(batch)
    registered, assigned = T0 + timedelta(hours=2), T0 + timedelta(hours=5)
    completed = T0 + timedelta(days=2)
    october = "2026-10-01"
    expected_times = {
        (october, AG, "u-qlxd", 1, bucket_of(7200), 1),
        (october, AG, "u-qlxd", 2, bucket_of(int((assigned - registered).total_seconds())), 1),
        (october, AG, "u-qlxd", 3, bucket_of(int((completed - assigned).total_seconds())), 1),
        (october, AG, "u-qlxd", 4, bucket_of(int((completed - T0).total_seconds())), 1),
    }
    rows = await _derived_rows(uow)
    assert rows == {"times": expected_times, "overdue": set()}  # completed before the deadline day

    overdue = raw(ev.registered("doc-5", AG, channel=Channel.PAPER, received_at=T0, registered_at=T0,
                                clerk="clerk", due_date=date(2026, 10, 6)))  # fmt: skip
    await pipeline.apply([overdue])
    rows = await _derived_rows(uow)
    assert rows["overdue"] == {("2026-10-06", AG, "", 1)}
    assert (october, AG, "", 1, 0, 1) in rows["times"]  # paper: arrived when registered

    # The roll-ups are what counting every document once from scratch gives.
    async with uow.begin() as tx:
        await tx.session.execute(text("DELETE FROM document_times_monthly"))
        await tx.session.execute(text("DELETE FROM overdue_daily"))
        for statement in derived_sql(tx.session.dialect.name, changed_only=False):
            await tx.session.execute(text(statement))
    assert await _derived_rows(uow) == rows
