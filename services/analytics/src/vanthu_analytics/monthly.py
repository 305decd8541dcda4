"""The monthly report as files: XLSX workbook, CSV tables, PNG and SVG charts, the summary text.

Used by `vanthu report monthly --month 2026-10 --out DIR` and by the REST exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vanthu_analytics import charts, exports
from vanthu_analytics.compliance import ComplianceService, RankedAgency, thresholds_of
from vanthu_analytics.domain.flags import Flag
from vanthu_analytics.domain.periods import Period
from vanthu_analytics.province import ProvinceReport, province_report
from vanthu_analytics.reports import Grouping, ReportService, Scope, UsageRow


@dataclass
class MonthlyReport:
    period: Period
    units: list[UsageRow]
    province: ProvinceReport
    flags: list[Flag]
    ranking: list[RankedAgency]
    daily: dict

    def tables(self) -> dict[str, exports.Table]:
        return {
            "Toàn tỉnh": exports.province_table(self.province),
            "Theo đơn vị": exports.usage_table(self.units),
            "Cảnh báo": exports.flags_table(self.flags),
            "Xếp hạng": exports.ranking_table(self.ranking),
        }

    def chart(self, name: str, fmt: str) -> bytes:
        if name == "volume_by_agency":
            return charts.volume_by_agency(self.province, fmt)
        if name == "digital_shares":
            return charts.digital_shares(self.province, fmt)
        return charts.daily_volume(self.daily, self.period.label_vi(), fmt)


async def build_monthly(reports: ReportService, month: str, scope: Scope | None = None) -> MonthlyReport:
    period = Period.of_month(month)
    scope = scope or Scope()
    compliance = ComplianceService(reports)
    agencies = await reports.usage(period, scope, Grouping.AGENCY)
    return MonthlyReport(
        period=period,
        units=await reports.usage(period, scope, Grouping.UNIT),
        province=province_report(period, agencies),
        flags=await compliance.flags(period, scope, thresholds_of(reports.settings)),
        ranking=await compliance.ranking(period, scope),
        daily=await reports.daily_totals(period, scope, charts.DAILY_MEASURES),
    )


FILE_STEMS = {
    "Toàn tỉnh": "tinh",
    "Theo đơn vị": "theo-don-vi",
    "Cảnh báo": "canh-bao",
    "Xếp hạng": "xep-hang",
}


def write_monthly(report: MonthlyReport, out: Path) -> list[Path]:
    """Write every file of the report into `out`; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    tag = f"{report.period.start:%Y-%m}"
    written: list[Path] = []

    def put(name: str, data: bytes) -> None:
        path = out / name
        path.write_bytes(data)
        written.append(path)

    tables = report.tables()
    put(f"bao-cao-thang-{tag}.xlsx", exports.to_xlsx(tables))
    for title, table in tables.items():
        put(f"{FILE_STEMS[title]}-{tag}.csv", exports.to_csv(table))
    for name in charts.CHARTS:
        for fmt in charts.FORMATS:
            put(f"{name}-{tag}.{fmt}", report.chart(name, fmt))
    lines = [
        f"# Báo cáo tình hình sử dụng hệ thống, {report.period.label_vi()}",
        "",
        report.province.summary_vi(),
        "",
    ]
    lines += [f"- {line.sentence_vi()}" for line in report.province.lines]
    put(f"tom-tat-{tag}.md", ("\n".join(lines) + "\n").encode("utf-8"))
    return written
