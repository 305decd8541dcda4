"""Loading an org tree (agencies, units, users) from CSV or XLSX.

One row per thing, a `kind` column saying which: `agency` (code, name, abbreviation,
parent_code), `unit` (agency_code, name, abbreviation, parent_unit = abbreviation of
the parent unit), `user` (agency_code, unit = unit abbreviation, username, full_name,
position, email, roles separated by commas or semicolons, password). Rows may come in
any order: parents are placed before children. A row that breaks a rule is rejected
with its code and message and the rest goes on; each accepted row is its own
transaction and publishes its `registry.*.upserted` event through the outbox.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vanthu_registry.service import DirectoryService
from vanthu_runtime.errors import AppError

KINDS = ("agency", "unit", "user")


@dataclass
class Rejected:
    row: int
    kind: str
    key: str
    code: str
    message_vi: str
    message_en: str


@dataclass
class ImportReport:
    accepted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.accepted.values()) + len(self.rejected)


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(row number as the person sees it, row) for every non-empty row."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return list(_xlsx_rows(path))
    text = path.read_text("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    return [
        (i + 2, {_key(k): (v or "").strip() for k, v in row.items() if k})
        for i, row in enumerate(reader)
        if any((v or "").strip() for v in row.values() if isinstance(v, str))
    ]


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [_key(str(h or "")) for h in next(rows)]
    for number, values in enumerate(rows, start=2):
        row = {h: "" if v is None else str(v).strip() for h, v in zip(header, values, strict=False) if h}
        if any(row.values()):
            yield number, row
    book.close()


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def _roles(value: str) -> list[str]:
    return [r.strip() for r in value.replace(";", ",").split(",") if r.strip()]


async def import_rows(
    directory: DirectoryService,
    rows: list[tuple[int, dict[str, str]]],
    progress: Callable[[int], None] = lambda _: None,
) -> ImportReport:
    report = ImportReport()
    by_kind: dict[str, list[tuple[int, dict[str, str]]]] = {k: [] for k in KINDS}
    for number, row in rows:
        kind = row.get("kind", "").lower()
        if kind not in by_kind:
            report.rejected.append(
                Rejected(number, kind, "", "registry.import_kind", "Cột kind phải là agency, unit hoặc user.",
                         "The kind column must be agency, unit or user.")
            )
            progress(1)
            continue
        by_kind[kind].append((number, row))

    units_by_abbr: dict[tuple[str, str], str] = {
        (u.agency_code, u.abbreviation): u.id for u in await directory.list_units(None)
    }

    async def agency(row: dict[str, str]) -> None:
        await directory.upsert_agency(
            None,
            {
                "code": row.get("code", ""),
                "name": row.get("name", ""),
                "abbreviation": row.get("abbreviation", ""),
                "parent_code": row.get("parent_code") or None,
                "address": row.get("address", ""),
                "email": row.get("email", ""),
                "phone": row.get("phone", ""),
            },
        )

    async def unit(row: dict[str, str]) -> None:
        agency_code = row.get("agency_code", "")
        parent = row.get("parent_unit") or None
        parent_id = units_by_abbr.get((agency_code, parent)) if parent else None
        if parent and parent_id is None:
            raise _Wait()
        existing = units_by_abbr.get((agency_code, row.get("abbreviation", "")))
        data = {"agency_code": agency_code, "name": row.get("name", ""), "abbreviation": row.get("abbreviation", ""),
                "parent_unit_id": parent_id}
        if existing:
            data["id"] = existing
        saved = await directory.upsert_unit(None, data)
        units_by_abbr[(saved.agency_code, saved.abbreviation)] = saved.id

    async def user(row: dict[str, str]) -> None:
        agency_code = row.get("agency_code", "")
        unit_abbr = row.get("unit") or None
        unit_id = units_by_abbr.get((agency_code, unit_abbr)) if unit_abbr else None
        if unit_abbr and unit_id is None:
            from vanthu_contracts.events import registry as contract

            raise AppError(contract.UNKNOWN_PARENT, {"field": "unit"})
        existing = [u for u in await directory.list_users(agency_code) if u.username == row.get("username")]
        data: dict[str, Any] = {
            "username": row.get("username", ""),
            "full_name": row.get("full_name", ""),
            "agency_code": agency_code,
            "unit_id": unit_id,
            "position": row.get("position", ""),
            "email": row.get("email", ""),
            "roles": _roles(row.get("roles", "")),
        }
        if existing:
            data["id"] = existing[0].id
        await directory.upsert_user(None, data, password=row.get("password") or None)

    handlers = {"agency": agency, "unit": unit, "user": user}
    for kind in KINDS:
        pending = by_kind[kind]
        # Parents may come after their children: retry what waits while anything moves.
        while pending:
            waiting: list[tuple[int, dict[str, str], AppError | None]] = []
            for number, row in pending:
                try:
                    await handlers[kind](row)
                except _Wait:
                    waiting.append((number, row, None))
                    continue
                except AppError as exc:
                    if exc.code == "registry.unknown_parent" and kind != "user":
                        waiting.append((number, row, exc))
                        continue
                    report.rejected.append(_rejected(number, kind, row, exc))
                    progress(1)
                    continue
                except ValueError as exc:
                    from vanthu_contracts.errors import VALIDATION

                    report.rejected.append(_rejected(number, kind, row, AppError(VALIDATION, {"reason": str(exc)})))
                    progress(1)
                    continue
                report.accepted[kind] += 1
                progress(1)
            if len(waiting) == len(pending):
                from vanthu_contracts.events import registry as contract

                for number, row, exc in waiting:
                    report.rejected.append(_rejected(number, kind, row, exc or AppError(contract.UNKNOWN_PARENT)))
                    progress(1)
                break
            pending = [(n, r) for n, r, _ in waiting]
    return report


class _Wait(Exception):
    """The row's parent is not there yet."""


def _rejected(number: int, kind: str, row: dict[str, str], exc: AppError) -> Rejected:
    key = row.get("code") or row.get("username") or row.get("abbreviation") or ""
    body = exc.body()
    field_name = body.details.get("field")
    suffix = f" ({field_name})" if field_name else ""
    return Rejected(number, kind, key, body.code, body.message_vi + suffix, body.message_en + suffix)
