"""Registers as Phụ lục IV prints: Sổ đăng ký văn bản đến / đi for a period, XLSX and PDF.

When registration happens in the system the register must still be printed with all
its columns and bound (Decree 30 Art. 16.2.b, 22.3.b). Columns the system does not
track (Ngày chuyển, Ký nhận) are printed empty for the handwritten entries.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from vanthu_contracts.errors import FORBIDDEN
from vanthu_contracts.events import registry as contract
from vanthu_contracts.events.common import Role
from vanthu_registry import audit, printing
from vanthu_registry import documents as docs
from vanthu_registry.caller import Caller
from vanthu_registry.domain.access import can_see
from vanthu_registry.domain.documents import Direction
from vanthu_registry.domain.numbering import symbol
from vanthu_registry.tables import agencies, documents
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import UnitOfWork

INCOMING_COLUMNS = (
    "Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Ngày tháng văn bản", "Tên loại và trích yếu nội dung",
    "Đơn vị hoặc người nhận", "Ngày chuyển", "Ký nhận", "Ghi chú",
)
OUTGOING_COLUMNS = (
    "Số, ký hiệu văn bản", "Ngày tháng văn bản", "Tên loại và trích yếu nội dung", "Người ký", "Nơi nhận văn bản",
    "Đơn vị, người nhận bản lưu", "Số lượng bản", "Ngày chuyển", "Ký nhận", "Ghi chú",
)
INCOMING_WIDTHS_MM = (20, 14, 35, 26, 20, 60, 30, 18, 18, 19)
OUTGOING_WIDTHS_MM = (26, 20, 62, 30, 40, 28, 14, 18, 18, 14)


def _d(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


def _title(type_name: str, subject: str) -> str:
    return f"{type_name}: {subject}" if type_name else subject


class RegisterPrints:
    def __init__(self, uow: UnitOfWork, font_regular: Path, font_bold: Path) -> None:
        self.uow = uow
        self.font_regular = font_regular
        self.font_bold = font_bold

    async def rows(self, caller: Caller, direction: Direction, start: date, end: date, register_id: str | None) -> tuple[str, list[list[object]]]:
        if not caller.has_role(Role.CLERK, Role.HEAD, Role.DEPUTY_HEAD):
            raise AppError(FORBIDDEN)
        if end < start or (end - start).days > 366 * 5:
            raise AppError(contract.PERIOD_INVALID, {"from": str(start), "to": str(end)})
        date_column = documents.c.arrival_date if direction is Direction.INCOMING else documents.c.issued_date
        query = (
            select(documents)
            .where(
                documents.c.agency_code == caller.agency,
                documents.c.direction == direction.value,
                documents.c.number.is_not(None),
                date_column >= start,
                date_column <= end,
            )
            .order_by(documents.c.register_year, documents.c.register_id, documents.c.number)
        )
        if register_id:
            query = query.where(documents.c.register_id == register_id)
        async with self.uow.begin() as tx:
            # A caller whose agency the directory does not hold (yet) gets its code as the heading.
            name = (await tx.session.execute(select(agencies.c.name).where(agencies.c.code == caller.agency))).scalar_one_or_none()
            agency = name or caller.agency
            found = (await tx.session.execute(query)).mappings().all()
            rows: list[list[object]] = []
            printed: list[str] = []
            for doc in found:
                if not can_see(caller.viewer, doc["agency_code"], doc["secrecy"], await docs.grants_of(tx.session, doc["id"])):
                    continue
                printed.append(doc["id"])
                if direction is Direction.INCOMING:
                    code = "/".join(x for x in (doc["code_number"], doc["code_notation"]) if x)
                    rows.append([
                        _d(doc["arrival_date"]), f"{doc['number']:02d}", doc["organ_name"], code, _d(doc["issued_date"]),
                        _title(doc["type_name"], doc["subject"]), doc["to_places"], "", "", doc["description"],
                    ])
                else:
                    recipients = "; ".join(r.get("organ_name") or r.get("organ_id", "") for r in doc["recipients"] or [])
                    signer = ", ".join(x for x in (doc["signer_position"], doc["signer_name"]) if x)
                    rows.append([
                        symbol(doc["number"], doc["code_notation"]), _d(doc["issued_date"]),
                        _title(doc["type_name"], doc["subject"]), signer, recipients or doc["to_places"],
                        "VT", doc["issued_amount"] or "", "", "", doc["description"],
                    ])
            await audit.append(
                tx.session, caller, "register.print", "register", register_id or direction.value,
                {"from": str(start), "to": str(end), "documents": len(printed)},
            )
        return agency, rows

    async def render(self, caller: Caller, direction: Direction, start: date, end: date, register_id: str | None, fmt: str) -> bytes:
        agency, rows = await self.rows(caller, direction, start, end, register_id)
        incoming = direction is Direction.INCOMING
        title = "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" if incoming else "SỔ ĐĂNG KÝ VĂN BẢN ĐI"
        subtitle = f"{agency} — Từ ngày {_d(start)} đến ngày {_d(end)}"
        header = INCOMING_COLUMNS if incoming else OUTGOING_COLUMNS
        widths = INCOMING_WIDTHS_MM if incoming else OUTGOING_WIDTHS_MM
        if fmt == "xlsx":
            return printing.xlsx(title, subtitle, header, rows, [max(8, int(w / 2)) for w in widths])
        return printing.pdf(title, subtitle, header, rows, widths, self.font_regular, self.font_bold)
