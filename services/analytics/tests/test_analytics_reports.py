"""Reports and compliance flags over a scenario province, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from analytics_scenarios import GOOD, GOOD_CHILD, PROVINCE, QUIET, REG_ONLY, SCANNER, october_province
from openpyxl import load_workbook

from vanthu_analytics.compliance import ComplianceService, thresholds_of
from vanthu_analytics.domain.durations import RELATIVE_PRECISION
from vanthu_analytics.domain.flags import FlagKind
from vanthu_analytics.domain.periods import Period
from vanthu_analytics.ingest import FactPipeline
from vanthu_analytics.monthly import build_monthly, write_monthly
from vanthu_analytics.reports import Grouping, ReportService, Scope
from vanthu_analytics.settings import AnalyticsSettings
from vanthu_runtime.uow import UnitOfWork

OCTOBER = Period.of_month("2026-10")
PRECISION = RELATIVE_PRECISION


@pytest.fixture
async def reports(uow: UnitOfWork) -> ReportService:
    events = october_province()
    pipeline = FactPipeline(uow)
    for start in range(0, len(events), 37):  # batches that cut stories apart
        await pipeline.apply(events[start : start + 37])
    return ReportService(uow, AnalyticsSettings(inactive_days=30))


async def test_usage_per_agency_and_unit(reports: ReportService) -> None:
    by_agency = {r.agency: r for r in await reports.usage(OCTOBER, Scope(), Grouping.AGENCY)}
    good = by_agency[GOOD]
    assert good.agency_name == "Sở Nội vụ"
    assert (
        good.get("registered"),
        good.get("routed"),
        good.get("completed_on_time"),
        good.get("completed_late"),
    ) == (11, 10, 8, 2)
    assert (
        good.incoming,
        good.outgoing,
        good.get("issued_digitally_signed"),
        good.get("issued_to_axis"),
    ) == (11, 5, 5, 3)
    assert good.overdue == 2
    assert good.active_users == 3
    # Processing times come from histograms: exact counts, percentiles within the buckets' precision.
    registration = good.times["arrival_to_registration"]
    assert registration.count == 11 and registration.median_hours == pytest.approx(
        5.0, rel=PRECISION
    )  # 0, 1..10
    assert good.times["assignment_to_completion"].median_hours == pytest.approx(24.0, rel=PRECISION)
    assert good.times["assignment_to_completion"].p90_hours == pytest.approx(120.0, rel=PRECISION)
    assert by_agency[SCANNER].get("issued_without_draft") == 5
    assert QUIET not in by_agency  # nothing in October

    units = {(r.agency, r.unit): r for r in await reports.usage(OCTOBER, Scope(), Grouping.UNIT)}
    assert units[(GOOD, f"{GOOD}:p1")].get("routed") == 10
    assert units[(GOOD, "")].get("registered") == 11  # the văn thư registers for the agency
    assert units[(GOOD, f"{GOOD}:p1")].unit_name == "Phòng chuyên môn"

    # A period that is not whole months reads the daily roll-ups: the same figures.
    days = {
        r.agency: r
        for r in await reports.usage(Period(date(2026, 9, 30), date(2026, 11, 2)), Scope(), Grouping.AGENCY)
    }
    assert days[GOOD].measures == good.measures and days[GOOD].active_users == good.active_users
    # … and the documents themselves for processing times, bucketed like the monthly histograms.
    assert days[GOOD].overdue == good.overdue and days[GOOD].times == good.times

    people = {r.person: r for r in await reports.usage(OCTOBER, Scope(frozenset({GOOD})), Grouping.PERSON)}
    assert people[f"{GOOD}:spec"].get("completed_on_time") == 8 and people[f"{GOOD}:spec"].actions == 15


async def test_subtree_and_unit_filters(reports: ReportService) -> None:
    scope = await reports.scope(agency=GOOD, unit=None)
    assert scope.agencies == {GOOD, GOOD_CHILD}
    rows = await reports.usage(OCTOBER, scope, Grouping.AGENCY)
    assert {r.agency for r in rows} == {GOOD, GOOD_CHILD}
    only = await reports.usage(OCTOBER, await reports.scope(agency=GOOD, unit=f"{GOOD}:p1"), Grouping.UNIT)
    assert {r.unit for r in only} == {f"{GOOD}:p1"}
    province = await reports.scope(agency=None, unit=None, within=PROVINCE)
    assert len(province.agencies or ()) == 6
    with pytest.raises(Exception) as outside:
        await reports.scope(agency=REG_ONLY, unit=None, within=GOOD)
    assert getattr(outside.value, "code", "") == "analytics.outside_scope"


async def test_every_flag_fires_where_it_should_and_nowhere_else(reports: ReportService) -> None:
    flags = await ComplianceService(reports).flags(OCTOBER, Scope(), thresholds_of(reports.settings))
    by_kind: dict[FlagKind, set[tuple[str, str, str]]] = {}
    for f in flags:
        by_kind.setdefault(f.kind, set()).add((f.agency, f.unit, f.person))

    assert {a for a, _, _ in by_kind[FlagKind.REGISTER_ONLY]} == {REG_ONLY}  # GOOD routes everything
    assert {a for a, _, _ in by_kind[FlagKind.SCAN_AND_SEND]} == {SCANNER}  # GOOD drafts and approves
    no_drafts = {u for _, u, _ in by_kind[FlagKind.NO_DRAFTS]}
    assert f"{REG_ONLY}:p1" in no_drafts and f"{GOOD}:p1" not in no_drafts
    assert {u for _, u, _ in by_kind[FlagKind.INACTIVE_UNIT]} == {f"{QUIET}:vp", f"{QUIET}:p1"}
    assert {p for _, _, p in by_kind[FlagKind.INACTIVE_PERSON]} == {
        f"{QUIET}:clerk",
        f"{QUIET}:leader",
        f"{QUIET}:spec",
    }
    rereg = [f for f in flags if f.kind is FlagKind.PAPER_REREGISTRATION]
    assert [(f.agency, f.evidence["document_id"], f.evidence["electronic_document_id"]) for f in rereg] == [
        (REG_ONLY, f"{REG_ONLY}:in:paper", f"{REG_ONLY}:in:1")
    ]  # GOOD's own paper document matches nothing electronic

    # Over 90 days QUIET's clerk (who registered in August) and the clerk's unit were active.
    longer = await ComplianceService(reports).flags(OCTOBER, Scope(), thresholds_of(reports.settings, 90))
    assert {f.person for f in longer if f.kind is FlagKind.INACTIVE_PERSON} == {
        f"{QUIET}:leader",
        f"{QUIET}:spec",
    }
    assert {f.unit for f in longer if f.kind is FlagKind.INACTIVE_UNIT} == {f"{QUIET}:p1"}

    ranking = await ComplianceService(reports).ranking(OCTOBER, Scope())
    order = [a.agency for a in ranking]
    assert order[0] == GOOD and order.index(GOOD) < order.index(REG_ONLY) and order[-1] in (QUIET, PROVINCE)
    assert [a.rank for a in ranking] == list(range(1, len(ranking) + 1))


async def test_monthly_report_files(reports: ReportService, tmp_path: Path) -> None:
    report = await build_monthly(reports, "2026-10")
    assert report.province.incoming == 11 + 11 + 1 and report.province.outgoing == 10
    assert report.province.summary_vi().startswith(
        "Trong tháng 10/2026, toàn tỉnh có 23 văn bản đến, 10 văn bản đi; 50,0%"
    )
    written = {p.name: p for p in write_monthly(report, tmp_path)}
    assert {"bao-cao-thang-2026-10.xlsx", "theo-don-vi-2026-10.csv", "tinh-2026-10.csv", "canh-bao-2026-10.csv",
            "xep-hang-2026-10.csv", "tom-tat-2026-10.md"} <= set(written)  # fmt: skip
    for chart in ("volume_by_agency", "digital_shares", "daily_volume"):
        assert written[f"{chart}-2026-10.png"].read_bytes().startswith(b"\x89PNG")
        assert b"<svg" in written[f"{chart}-2026-10.svg"].read_bytes()[:500]
    workbook = load_workbook(written["bao-cao-thang-2026-10.xlsx"])
    assert workbook.sheetnames == ["Toàn tỉnh", "Theo đơn vị", "Cảnh báo", "Xếp hạng"]
    province = list(workbook["Toàn tỉnh"].iter_rows(values_only=True))
    assert province[0][:4] == ("Mã cơ quan", "Cơ quan", "Văn bản đến", "Văn bản đi")
    assert province[-1][1:4] == ("Toàn tỉnh", 23, 10)
    csv_text = written["tinh-2026-10.csv"].read_bytes()
    assert csv_text.startswith(b"\xef\xbb\xbf") and "Sở Nội vụ".encode() in csv_text
