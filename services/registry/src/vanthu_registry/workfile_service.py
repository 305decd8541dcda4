"""Work files (hồ sơ): the yearly Danh mục hồ sơ, opening and closing files, filing documents
in several files without copying them, and exporting a closed file as PDF + XML in time order."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import delete, func, select, update

from vanthu_contracts.errors import FORBIDDEN, NOT_FOUND
from vanthu_contracts.events import registry as contract
from vanthu_registry import audit, printing
from vanthu_registry import documents as docs
from vanthu_registry.caller import Caller
from vanthu_registry.domain.access import can_see, sees_everything_public
from vanthu_registry.domain.workfiles import (
    HEADING_ABBREVIATION_RE,
    MAX_DOCS,
    FileState,
    check_file_fields,
    file_notation,
    roman,
)
from vanthu_registry.tables import (
    document_files,
    documents,
    work_file_documents,
    work_file_headings,
    work_files,
)
from vanthu_registry.validation import raise_violations
from vanthu_runtime.errors import AppError
from vanthu_runtime.objectstore import ObjectStore
from vanthu_runtime.uow import UnitOfWork


@dataclass
class WorkFileInput:
    year: int
    title: str
    heading_abbreviation: str | None = None
    notation: str | None = None
    maintenance: str = ""
    rights: str = ""
    language: str = "Tiếng Việt"
    start_date: date | None = None
    description: str = ""
    in_catalog: bool = True


class WorkFileService:
    def __init__(self, uow: UnitOfWork, store: ObjectStore, timezone: str, font_regular: Path, font_bold: Path) -> None:
        self.uow = uow
        self.store = store
        self.tz = timezone
        self.font_regular = font_regular
        self.font_bold = font_bold

    # -- Danh mục hồ sơ ---------------------------------------------------------------------

    async def add_heading(self, caller: Caller, year: int, abbreviation: str, title: str) -> dict[str, Any]:
        if not sees_everything_public(caller.viewer) and not caller.has_role("quan_tri"):
            raise AppError(FORBIDDEN)
        if not HEADING_ABBREVIATION_RE.match(abbreviation):
            raise AppError(contract.ABBREVIATION_INVALID, {"field": "abbreviation"})
        if not title.strip() or len(title) > 500:
            raise AppError(contract.TITLE_REQUIRED, {"field": "title"})
        _check_year(year)
        async with self.uow.begin() as tx:
            count = (
                await tx.session.execute(
                    select(func.count()).select_from(work_file_headings).where(
                        work_file_headings.c.agency_code == caller.agency, work_file_headings.c.year == year
                    )
                )
            ).scalar_one()
            exists = (
                await tx.session.execute(
                    select(work_file_headings.c.id).where(
                        work_file_headings.c.agency_code == caller.agency,
                        work_file_headings.c.year == year,
                        work_file_headings.c.abbreviation == abbreviation,
                    )
                )
            ).first()
            if exists:
                raise AppError(contract.WORK_FILE_EXISTS, {"abbreviation": abbreviation})
            heading = {"id": str(uuid4()), "agency_code": caller.agency, "year": year, "position": count + 1,
                       "abbreviation": abbreviation, "title": title.strip()}
            await tx.session.execute(work_file_headings.insert().values(**heading))
            await audit.append(tx.session, caller, "catalog.heading", "work_file_heading", heading["id"], {"year": year})
        return heading | {"numeral": roman(heading["position"])}

    async def catalog(self, caller: Caller, year: int) -> dict[str, Any]:
        async with self.uow.read() as session:
            headings = (
                await session.execute(
                    select(work_file_headings)
                    .where(work_file_headings.c.agency_code == caller.agency, work_file_headings.c.year == year)
                    .order_by(work_file_headings.c.position)
                )
            ).mappings().all()
            files = (
                await session.execute(
                    select(work_files)
                    .where(work_files.c.agency_code == caller.agency, work_files.c.year == year)
                    .order_by(work_files.c.notation)
                )
            ).mappings().all()
        return {
            "year": year,
            "headings": [
                dict(h) | {"numeral": roman(h["position"]), "files": [dict(f) for f in files if f["heading_id"] == h["id"]]}
                for h in headings
            ],
            "outside_headings": [dict(f) for f in files if f["heading_id"] is None],
        }

    # -- files ------------------------------------------------------------------------------

    async def open_file(self, caller: Caller, data: WorkFileInput, creator_name: str) -> dict[str, Any]:
        _check_year(data.year)
        raise_violations(check_file_fields({
            "notation": data.notation, "title": data.title, "maintenance": data.maintenance, "rights": data.rights,
            "language": data.language, "description": data.description,
        }))
        async with self.uow.begin() as tx:
            heading = None
            if data.heading_abbreviation:
                heading = (
                    await tx.session.execute(
                        select(work_file_headings).where(
                            work_file_headings.c.agency_code == caller.agency,
                            work_file_headings.c.year == data.year,
                            work_file_headings.c.abbreviation == data.heading_abbreviation,
                        )
                    )
                ).mappings().first()
                if heading is None:
                    raise AppError(NOT_FOUND, {"heading": data.heading_abbreviation})
            notation = data.notation
            if notation is None:
                if heading is None:
                    raise AppError(contract.FILE_NOTATION_INVALID, {"field": "notation"})
                # The ordinal restarts under each main heading (Phụ lục V allows either way).
                count = (
                    await tx.session.execute(
                        select(func.count()).select_from(work_files).where(work_files.c.heading_id == heading["id"])
                    )
                ).scalar_one()
                notation = file_notation(count + 1, heading["abbreviation"])
            taken = (
                await tx.session.execute(
                    select(work_files.c.id).where(
                        work_files.c.agency_code == caller.agency,
                        work_files.c.year == data.year,
                        work_files.c.notation == notation,
                    )
                )
            ).first()
            if taken:
                raise AppError(contract.WORK_FILE_EXISTS, {"notation": notation})
            row = {
                "id": str(uuid4()), "agency_code": caller.agency, "year": data.year, "notation": notation,
                "heading_id": heading["id"] if heading else None, "title": data.title.strip(),
                "maintenance": data.maintenance, "rights": data.rights, "creator": creator_name[:30],
                "creator_id": caller.user_id, "language": data.language,
                "start_date": data.start_date or docs.local_date(docs.now(), self.tz), "end_date": None,
                "description": data.description, "state": FileState.OPEN.value, "in_catalog": data.in_catalog,
                "created_at": docs.now(), "closed_at": None,
            }
            await tx.session.execute(work_files.insert().values(**row))
            await audit.append(tx.session, caller, "work_file.open", "work_file", row["id"], {"notation": notation})
        return row

    async def _file(self, session: Any, caller: Caller, file_id: str) -> dict[str, Any]:
        row = (await session.execute(select(work_files).where(work_files.c.id == file_id))).mappings().first()
        if row is None or row["agency_code"] != caller.agency:
            raise AppError(NOT_FOUND, {"work_file": file_id})
        return dict(row)

    async def add_document(self, caller: Caller, file_id: str, document_id: str) -> int:
        """File a document; the same document may sit in several files, never copied."""
        async with self.uow.begin() as tx:
            wf = await self._file(tx.session, caller, file_id)
            if wf["state"] != FileState.OPEN.value:
                raise AppError(contract.WORK_FILE_CLOSED, {"work_file": file_id})
            await docs.visible(tx.session, caller, document_id)
            existing = (
                await tx.session.execute(
                    select(work_file_documents.c.ordinal).where(
                        work_file_documents.c.file_id == file_id, work_file_documents.c.document_id == document_id
                    )
                )
            ).scalar_one_or_none()
            if existing is not None:
                return int(existing)
            top = (
                await tx.session.execute(
                    select(func.max(work_file_documents.c.ordinal)).where(work_file_documents.c.file_id == file_id)
                )
            ).scalar_one()
            ordinal = (top or 0) + 1
            if ordinal > min(MAX_DOCS, 999):
                raise AppError(contract.NUMBER_OUT_OF_RANGE, {"field": "DocOrdinal"})
            await tx.session.execute(
                work_file_documents.insert().values(
                    file_id=file_id, document_id=document_id, ordinal=ordinal, added_by=caller.user_id, added_at=docs.now()
                )
            )
            await audit.append(tx.session, caller, "work_file.add", "work_file", file_id, {"document": document_id})
        return ordinal

    async def remove_document(self, caller: Caller, file_id: str, document_id: str) -> None:
        async with self.uow.begin() as tx:
            wf = await self._file(tx.session, caller, file_id)
            if wf["state"] != FileState.OPEN.value:
                raise AppError(contract.WORK_FILE_CLOSED, {"work_file": file_id})
            await tx.session.execute(
                delete(work_file_documents).where(
                    work_file_documents.c.file_id == file_id, work_file_documents.c.document_id == document_id
                )
            )
            await audit.append(tx.session, caller, "work_file.remove", "work_file", file_id, {"document": document_id})

    async def close(self, caller: Caller, file_id: str) -> dict[str, Any]:
        async with self.uow.begin() as tx:
            wf = await self._file(tx.session, caller, file_id)
            if wf["state"] != FileState.OPEN.value:
                raise AppError(contract.WORK_FILE_CLOSED, {"work_file": file_id})
            if wf["creator_id"] != caller.user_id and not sees_everything_public(caller.viewer):
                raise AppError(FORBIDDEN)
            end = docs.local_date(docs.now(), self.tz)
            await tx.session.execute(
                update(work_files).where(work_files.c.id == file_id).values(state=FileState.CLOSED.value, end_date=end,
                                                                          closed_at=docs.now())
            )
            await audit.append(tx.session, caller, "work_file.close", "work_file", file_id)
            wf.update(state=FileState.CLOSED.value, end_date=end)
        return wf

    async def details(self, caller: Caller, file_id: str, *, audit_action: str = "work_file.read") -> dict[str, Any]:
        """The file's Phụ lục VI part III metadata and its documents in time order."""
        async with self.uow.begin() as tx:
            wf = await self._file(tx.session, caller, file_id)
            rows = (
                await tx.session.execute(
                    select(documents, work_file_documents.c.ordinal)
                    .join(work_file_documents, work_file_documents.c.document_id == documents.c.id)
                    .where(work_file_documents.c.file_id == file_id)
                )
            ).mappings().all()
            filed = sorted((dict(r) for r in rows), key=lambda d: (d["issued_date"] or d["arrival_date"] or date.min, d["sort_at"]))
            # A work file is no way around a document's own access rules: what the caller may not
            # see (a secret document without a grant, another unit's) is neither listed nor exported.
            filed = [
                d for d in filed
                if can_see(caller.viewer, d["agency_code"], d["secrecy"], await docs.grants_of(tx.session, d["id"]))
            ]
            await audit.append(tx.session, caller, audit_action, "work_file", file_id)
        wf["documents"] = filed
        wf["doc_total"] = len(filed)  # DocTotal, filled by the system
        wf["page_total"] = sum(d["page_amount"] or 0 for d in filed)  # PageTotal
        return wf

    async def _exportable(self, caller: Caller, file_id: str, action: str) -> dict[str, Any]:
        wf = await self.details(caller, file_id, audit_action=action)
        if wf["state"] != FileState.CLOSED.value:
            raise AppError(contract.WORK_FILE_OPEN, {"work_file": file_id})
        if wf["creator_id"] != caller.user_id and not sees_everything_public(caller.viewer):
            raise AppError(FORBIDDEN)
        return wf

    async def export_xml(self, caller: Caller, file_id: str) -> bytes:
        wf = await self._exportable(caller, file_id, "work_file.export_xml")
        return metadata_xml(wf)

    async def export_pdf(self, caller: Caller, file_id: str) -> bytes:
        """An index page (Mục lục văn bản trong hồ sơ) then every document's latest PDF, in time order."""
        from pypdf import PdfReader, PdfWriter

        wf = await self._exportable(caller, file_id, "work_file.export_pdf")
        writer = PdfWriter()
        header = ("STT", "Số, ký hiệu", "Ngày", "Tên loại và trích yếu", "Tác giả", "Tờ/Trang số", "Ghi chú")
        rows = []
        page = 2
        parts: list[bytes] = []
        async with self.uow.read() as session:
            for i, d in enumerate(wf["documents"], start=1):
                latest = (
                    await session.execute(
                        select(document_files.c.sha256)
                        .where(document_files.c.document_id == d["id"])
                        .order_by(document_files.c.version.desc())
                        .limit(1)
                    )
                ).scalar_one_or_none()
                data = await self.store.get(latest) if latest else b""
                pages = len(PdfReader(io.BytesIO(data)).pages) if data else 0
                code = "/".join(x for x in (d["code_number"], d["code_notation"]) if x)
                when = d["issued_date"] or d["arrival_date"]
                rows.append([i, code, f"{when:%d/%m/%Y}" if when else "", f"{d['type_name']}: {d['subject']}",
                             d["organ_name"], f"{page}–{page + pages - 1}" if pages else "", d["description"]])
                page += pages
                parts.append(data)
        title = f"MỤC LỤC VĂN BẢN TRONG HỒ SƠ {wf['notation']}"
        cover = printing.pdf(title, wf["title"], header, rows, (10, 28, 20, 60, 35, 17, 14), self.font_regular,
                             self.font_bold, wide=False)
        writer.append(io.BytesIO(cover))
        for data in parts:
            if data:
                writer.append(io.BytesIO(data))
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()


def _check_year(year: int) -> None:
    if not 1945 <= year <= 9999:
        raise AppError(contract.YEAR_INVALID, {"year": year})


def _text(parent: ET.Element, tag: str, value: object) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = "" if value is None else (f"{value:%Y-%m-%d}" if isinstance(value, date) else str(value))
    return element


def metadata_xml(wf: dict[str, Any]) -> bytes:
    """Phụ lục VI part III (the file) and parts I/II (each document), element names as the decree gives them."""
    root = ET.Element("HoSo")
    code = ET.SubElement(root, "FileCode")
    _text(code, "OrganId", wf["agency_code"])
    _text(code, "FileCatalog", wf["year"])
    _text(code, "FileNotation", wf["notation"])
    for tag, key in (("Title", "title"), ("Maintenance", "maintenance"), ("Rights", "rights"), ("Creator", "creator"),
                     ("Language", "language"), ("StartDate", "start_date"), ("EndDate", "end_date"),
                     ("DocTotal", "doc_total"), ("PageTotal", "page_total"), ("Description", "description")):
        _text(root, tag, wf[key])
    documents_element = ET.SubElement(root, "Documents")
    for d in wf["documents"]:
        element = ET.SubElement(documents_element, "Document", {"direction": d["direction"], "id": d["id"]})
        file_code = ET.SubElement(element, "FileCode")
        _text(file_code, "OrganId", wf["agency_code"])
        _text(file_code, "FileCatalog", wf["year"])
        _text(file_code, "FileNotation", wf["notation"])
        for tag, key in (("DocOrdinal", "ordinal"), ("TypeName", "type_name"), ("CodeNumber", "code_number"),
                         ("CodeNotation", "code_notation"), ("IssuedDate", "issued_date"), ("OrganName", "organ_name"),
                         ("Subject", "subject"), ("Language", "language"), ("PageAmount", "page_amount"),
                         ("Description", "description")):
            _text(element, tag, d[key])
        signer = ET.SubElement(element, "SignerInfo")
        _text(signer, "Position", d["signer_position"])
        _text(signer, "FullName", d["signer_name"])
        _text(element, "Priority", d["priority"])
        if d["direction"] == "incoming":
            _text(element, "ArrivalDate", d["arrival_date"])
            _text(element, "ArrivalNumber", d["number"])
            _text(element, "ToPlaces", d["to_places"])
            _text(element, "TraceHeaderList", d["trace_header_list"])
        else:
            to = ET.SubElement(element, "To")
            for r in d["recipients"] or []:
                organ = ET.SubElement(to, "Organ")
                _text(organ, "OrganId", r.get("organ_id", ""))
                _text(organ, "OrganName", r.get("organ_name", ""))
            _text(element, "IssuedAmount", d["issued_amount"])
        _text(element, "DueDate", d["due_date"])
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
