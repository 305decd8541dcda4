"""Tables of the reports as CSV (UTF-8 with BOM, so Excel reads Vietnamese) and XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from vanthu_analytics.compliance import RankedAgency
from vanthu_analytics.domain.flags import Flag
from vanthu_analytics.domain.mapping import MEASURES
from vanthu_analytics.province import ProvinceReport
from vanthu_analytics.reports import STAGE_LABELS_VI, STAGES, UsageRow

Table = tuple[list[str], list[list[Any]]]


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def usage_table(rows: Sequence[UsageRow], *, person: bool = False) -> Table:
    headers = ["Mã cơ quan", "Cơ quan", "Mã đơn vị", "Đơn vị"]
    if person:
        headers += ["Mã cán bộ", "Cán bộ"]
    headers += [*list(MEASURES.values()), "Số người hoạt động", "Lượt thao tác", "Văn bản quá hạn"]
    for stage in STAGES:
        headers += [f"{STAGE_LABELS_VI[stage]}: số văn bản", f"{STAGE_LABELS_VI[stage]}: trung vị (giờ)",
                    f"{STAGE_LABELS_VI[stage]}: p90 (giờ)"]  # fmt: skip
    body = []
    for r in rows:
        line: list[Any] = [r.agency, r.agency_name, r.unit, r.unit_name]
        if person:
            line += [r.person, r.person_name]
        line += [r.get(m) for m in MEASURES] + [r.active_users, r.actions, r.overdue]
        for stage in STAGES:
            t = r.times.get(stage)
            line += [t.count, _hours(t.median_hours), _hours(t.p90_hours)] if t else [0, None, None]
        body.append(line)
    return headers, body


def province_table(report: ProvinceReport) -> Table:
    headers = [
        "Mã cơ quan",
        "Cơ quan",
        "Văn bản đến",
        "Văn bản đi",
        "Tỷ lệ ký số",
        "Tỷ lệ gửi qua trục",
        "Tóm tắt",
    ]
    body: list[list[Any]] = [
        [
            line.agency,
            line.name,
            line.incoming,
            line.outgoing,
            line.signed_share,
            line.axis_share,
            line.sentence_vi(),
        ]
        for line in report.lines
    ]
    body.append(
        [
            "",
            "Toàn tỉnh",
            report.incoming,
            report.outgoing,
            report.signed_share,
            report.axis_share,
            report.summary_vi(),
        ]
    )
    return headers, body


def flags_table(flags: Sequence[Flag]) -> Table:
    headers = ["Cảnh báo", "Mã", "Mã cơ quan", "Mã đơn vị", "Mã cán bộ", "Tên", "Chi tiết"]
    body = [
        [
            f.label_vi,
            str(f.kind),
            f.agency,
            f.unit,
            f.person,
            f.name,
            "; ".join(f"{k}={v}" for k, v in f.evidence.items()),
        ]
        for f in flags
    ]
    return headers, body


def ranking_table(ranked: Sequence[RankedAgency]) -> Table:
    headers = ["Hạng", "Mã cơ quan", "Cơ quan", "Điểm", "Văn bản đến đã vào sổ", "Đã phân công xử lý",
               "Văn bản đi", "Có dự thảo, duyệt trên hệ thống", "Ký số", "Người dùng", "Người hoạt động"]  # fmt: skip
    body = [
        [
            a.rank,
            a.agency,
            a.name,
            a.score,
            a.registered,
            a.routed,
            a.issued,
            a.with_trail,
            a.digitally_signed,
            a.users,
            a.active_users,
        ]
        for a in ranked
    ]
    return headers, body


def to_csv(table: Table) -> bytes:
    headers, body = table
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(["" if v is None else v for v in line] for line in body)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(sheets: dict[str, Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, (headers, body) in sheets.items():
        sheet = workbook.create_sheet(title[:31])  # Excel's limit on sheet names
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for line in body:
            sheet.append(line)
        sheet.freeze_panes = "A2"
        for index, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(45, max(10, len(str(header)) + 2))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
