"""`vanthu org import FILE`: CSV and XLSX, parents after children, a report of rejected rows."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

from openpyxl import Workbook
from typer.testing import CliRunner

from vanthu_cli.main import build_app
from vanthu_registry.cli import registry_uow
from vanthu_registry.service import DirectoryService

HEADER = ["kind", "code", "name", "abbreviation", "parent_code", "agency_code", "parent_unit", "unit", "username",
          "full_name", "position", "roles", "password"]
ROWS = [
    # The child agency comes before its parent, the sub-unit before its unit: order must not matter.
    ["agency", "000.01.31.H98", "UBND xã An Phú", "UBND", "000.00.00.H98", "", "", "", "", "", "", "", ""],
    ["agency", "000.00.00.H98", "UBND tỉnh H98", "UBND", "", "", "", "", "", "", "", "", ""],
    ["unit", "", "Tổ một cửa", "MC", "", "000.01.31.H98", "VP", "", "", "", "", "", ""],
    ["unit", "", "Văn phòng", "VP", "", "000.01.31.H98", "", "", "", "", "", "", ""],
    ["user", "", "", "", "", "000.01.31.H98", "", "VP", "anphu.vanthu", "Nguyễn Thị Lan", "Văn thư", "van_thu", "mat-khau-1"],
    ["user", "", "", "", "", "000.01.31.H98", "", "", "anphu.ct", "Trần Văn Hùng", "Chủ tịch", "lanh_dao; quan_tri", ""],
    # Rejected: malformed code, unknown parent, bad username, unknown role, unknown kind
    ["agency", "12.34.H98", "Sai mã", "SM", "", "", "", "", "", "", "", "", ""],
    ["agency", "000.02.31.H98", "Xã mồ côi", "UBND", "000.09.00.H98", "", "", "", "", "", "", "", ""],
    ["user", "", "", "", "", "000.01.31.H98", "", "", "X", "Tên", "", "van_thu", ""],
    ["user", "", "", "", "", "000.01.31.H98", "", "", "anphu.sai", "Tên", "", "thu_ky", ""],
    ["department", "", "", "", "", "", "", "", "", "", "", "", ""],
]


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), args)
    return result.exit_code, result.output


def _check(url: str) -> None:
    async def load() -> tuple[list, list, list]:
        async with registry_uow(url) as uow:
            directory = DirectoryService(uow)
            return (await directory.list_agencies(), await directory.list_units("000.01.31.H98"),
                    await directory.list_users("000.01.31.H98"))

    agencies, units, users = asyncio.run(load())
    assert {a.code for a in agencies} == {"000.00.00.H98", "000.01.31.H98"}
    by_abbr = {u.abbreviation: u for u in units}
    assert by_abbr["MC"].parent_unit_id == by_abbr["VP"].id
    assert {u.username for u in users} == {"anphu.vanthu", "anphu.ct"}


def _events(url: str) -> dict[str, int]:
    """What the import queued in the outbox for the registry's relay to publish."""
    from sqlalchemy import func, select

    from vanthu_registry.tables import outbox

    async def count() -> dict[str, int]:
        async with registry_uow(url) as uow, uow.read() as session:
            rows = (await session.execute(select(outbox.c.type, func.count()).group_by(outbox.c.type))).all()
        return {r[0]: r[1] for r in rows}

    return asyncio.run(count())


def test_csv_import_with_rejected_rows(tmp_path: Path) -> None:
    source = tmp_path / "org.csv"
    with source.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(ROWS)
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    rejected = tmp_path / "rejected.csv"
    code, output = _run(["org", "import", str(source), "--database-url", url, "--rejected", str(rejected)])
    assert code == 2, output
    assert "accepted: 2 cơ quan, 2 đơn vị, 2 người dùng" in output.replace("\n", " ") or "2 cơ quan" in output
    report = list(csv.DictReader(rejected.open(encoding="utf-8")))
    assert [(r["row"], r["code"]) for r in report] == [
        ("12", "registry.import_kind"),
        ("8", "registry.agency_code_invalid"),
        ("9", "registry.unknown_parent"),
        ("10", "registry.username_invalid"),
        ("11", "validation_error"),
    ]
    assert all(r["message_vi"] and r["message_en"] for r in report)
    _check(url)
    assert _events(url) == {"registry.agency.upserted": 2, "registry.unit.upserted": 2, "registry.user.upserted": 2}
    # Importing the same file again changes nothing and rejects the same rows.
    code, _ = _run(["org", "import", str(source), "--database-url", url])
    assert code == 2
    _check(url)


def test_xlsx_import(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in ROWS[:6]:
        sheet.append(row)
    source = tmp_path / "org.xlsx"
    book.save(source)
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    code, output = _run(["org", "import", str(source), "--database-url", url])
    assert code == 0, output
    _check(url)
