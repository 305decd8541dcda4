"""REST adapters of analytics: translate HTTP ↔ report services, nothing more."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from vanthu_analytics import charts, exports
from vanthu_analytics.compliance import ComplianceService, thresholds_of
from vanthu_analytics.domain.facts import VIETNAM
from vanthu_analytics.domain.periods import Period, PeriodError
from vanthu_analytics.monthly import build_monthly
from vanthu_analytics.province import province_report
from vanthu_analytics.reports import Grouping, ReportService, Scope, UsageRow
from vanthu_contracts.events import analytics as codes
from vanthu_contracts.events.common import Role
from vanthu_runtime.auth import Principal, require_roles
from vanthu_runtime.errors import AppError
from vanthu_runtime.http import XLSX, file_answer

READERS = (Role.HEAD, Role.DEPUTY_HEAD, Role.ADMIN, Role.CLERK, Role.UNIT_HEAD)
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
FORMATS = ("json", "csv", "xlsx")


def get_reports(request: Request) -> ReportService:
    return request.app.state.reports


Reports = Annotated[ReportService, Depends(get_reports)]


def period_of(month: str | None, start: date | None, end: date | None, max_days: int) -> Period:
    try:
        if month is not None:
            return Period.of_month(month)
        if start is not None or end is not None:
            if start is None or end is None:
                raise PeriodError("period")
            return Period.between(start, end, max_days)
        return Period.of_month(f"{datetime.now(VIETNAM):%Y-%m}")
    except PeriodError as exc:
        if exc.kind == "month":
            raise AppError(codes.BAD_MONTH, {"month": month}) from exc
        raise AppError(codes.BAD_PERIOD, {"start": str(start), "end": str(end)}, max_days=max_days) from exc


class Query_:
    """The filters every report takes."""

    def __init__(
        self,
        month: Annotated[
            str | None, Query(description="YYYY-MM; or give start and end", examples=["2026-10"])
        ] = None,
        start: Annotated[date | None, Query(description="First day (inclusive)")] = None,
        end: Annotated[date | None, Query(description="Last day (inclusive)")] = None,
        agency: Annotated[str | None, Query(max_length=20, description="Root of the agency subtree")] = None,
        unit: Annotated[str | None, Query(max_length=64, description="Only this unit")] = None,
        format: Annotated[str, Query(description="json, csv or xlsx")] = "json",
    ) -> None:
        self.month, self.start, self.end, self.agency, self.unit, self.format = (
            month,
            start,
            end,
            agency,
            unit,
            format,
        )


Filters = Annotated[Query_, Depends()]


async def _resolve(reports: ReportService, principal: Principal, q: Query_) -> tuple[Period, Scope]:
    if q.format not in FORMATS:
        raise AppError(codes.UNKNOWN_FORMAT, {"format": q.format})
    period = period_of(q.month, q.start, q.end, reports.settings.report_max_days)
    scope = await reports.scope(agency=q.agency, unit=q.unit, within=principal.agency)
    return period, scope


def _table_response(fmt: str, title: str, table: exports.Table, name: str) -> Response:
    if fmt == "csv":
        return Response(
            exports.to_csv(table),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        exports.to_xlsx({title: table}),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


def _usage_json(row: UsageRow) -> dict[str, Any]:
    data = asdict(row)
    data["incoming"], data["outgoing"] = row.incoming, row.outgoing
    return data


router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


@router.get(
    "/usage",
    summary="Số liệu sử dụng theo cơ quan, đơn vị hoặc cán bộ / usage figures",
    responses=file_answer("text/csv", XLSX),
)
async def usage(principal: Reader, reports: Reports, q: Filters, group_by: str = "unit") -> Any:
    period, scope = await _resolve(reports, principal, q)
    try:
        grouping = Grouping(group_by)
    except ValueError as exc:
        raise AppError(codes.BAD_GROUPING, {"group_by": group_by}) from exc
    rows = await reports.usage(period, scope, grouping)
    if q.format == "json":
        return {"period": asdict(period), "group_by": grouping, "rows": [_usage_json(r) for r in rows]}
    table = exports.usage_table(rows, person=grouping is Grouping.PERSON)
    return _table_response(q.format, "Số liệu sử dụng", table, f"su-dung-{period.start}-{period.end}")


@router.get(
    "/province",
    summary="Báo cáo toàn tỉnh: X văn bản đến, Y văn bản đi / province report",
    responses=file_answer("text/csv", XLSX),
)
async def province(principal: Reader, reports: Reports, q: Filters) -> Any:
    period, scope = await _resolve(reports, principal, q)
    report = province_report(period, await reports.usage(period, scope, Grouping.AGENCY))
    if q.format == "json":
        return report.as_dict()
    return _table_response(
        q.format, "Toàn tỉnh", exports.province_table(report), f"tinh-{period.start}-{period.end}"
    )


@router.get("/flags", summary="Cảnh báo tuân thủ / compliance flags", responses=file_answer("text/csv", XLSX))
async def flags(
    principal: Reader,
    reports: Reports,
    q: Filters,
    inactive_days: Annotated[
        int | None, Query(description="Days without activity (default from settings)")
    ] = None,
    as_of: Annotated[
        date | None, Query(description="Inactivity is judged up to this day (default: period end)")
    ] = None,
) -> Any:
    period, scope = await _resolve(reports, principal, q)
    if inactive_days is not None and not 1 <= inactive_days <= 3650:
        raise AppError(codes.BAD_THRESHOLD, {"inactive_days": inactive_days})
    found = await ComplianceService(reports).flags(
        period, scope, thresholds_of(reports.settings, inactive_days), as_of
    )
    if scope.unit is not None:
        found = [f for f in found if f.unit in ("", scope.unit)]
    if q.format == "json":
        return {
            "period": asdict(period),
            "flags": [{**asdict(f), "label_vi": f.label_vi} for f in found],
        }
    return _table_response(
        q.format, "Cảnh báo", exports.flags_table(found), f"canh-bao-{period.start}-{period.end}"
    )


@router.get(
    "/ranking",
    summary="Xếp hạng cơ quan theo mức độ sử dụng / ranking of agencies",
    responses=file_answer("text/csv", XLSX),
)
async def ranking(principal: Reader, reports: Reports, q: Filters) -> Any:
    period, scope = await _resolve(reports, principal, q)
    ranked = await ComplianceService(reports).ranking(period, scope)
    if q.format == "json":
        return {"period": asdict(period), "ranking": [asdict(a) for a in ranked]}
    return _table_response(
        q.format, "Xếp hạng", exports.ranking_table(ranked), f"xep-hang-{period.start}-{period.end}"
    )


@router.get(
    "/monthly/{month}/report.xlsx",
    summary="Báo cáo tháng (XLSX) / the monthly report workbook",
    response_class=Response,
    responses=file_answer(XLSX),
)
async def monthly_workbook(
    month: str, principal: Reader, reports: Reports, agency: str | None = None
) -> Response:
    period_of(month, None, None, reports.settings.report_max_days)
    scope = await reports.scope(agency=agency, unit=None, within=principal.agency)
    report = await build_monthly(reports, month, scope)
    return Response(
        exports.to_xlsx(report.tables()),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="bao-cao-thang-{month}.xlsx"'},
    )


@router.get(
    "/monthly/{month}/charts/{name}.{fmt}",
    summary="Biểu đồ của báo cáo tháng (PNG, SVG) / charts",
    response_class=Response,
    responses=file_answer("image/png", "image/svg+xml"),
)
async def monthly_chart(
    month: str, name: str, fmt: str, principal: Reader, reports: Reports, agency: str | None = None
) -> Response:
    if name not in charts.CHARTS or fmt not in charts.FORMATS:
        raise AppError(
            codes.UNKNOWN_CHART,
            {"chart": f"{name}.{fmt}"},
            charts=", ".join(f"{c}.png|svg" for c in charts.CHARTS),
        )
    period_of(month, None, None, reports.settings.report_max_days)
    scope = await reports.scope(agency=agency, unit=None, within=principal.agency)
    report = await build_monthly(reports, month, scope)
    return Response(report.chart(name, fmt), media_type="image/png" if fmt == "png" else "image/svg+xml")


@router.get("/status", summary="Sự kiện đã áp dụng, đã bỏ qua / events applied and skipped")
async def status(_: Reader, reports: Reports) -> dict[str, Any]:
    return {"applied_events": await reports.applied_events(), "skipped": await reports.skipped()}


reports_router = router
