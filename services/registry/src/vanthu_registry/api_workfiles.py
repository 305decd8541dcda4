"""REST adapters for work files (hồ sơ), the Danh mục hồ sơ and register prints."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from vanthu_registry.api_documents import Svc, Who
from vanthu_registry.domain.documents import Direction
from vanthu_registry.workfile_service import WorkFileInput
from vanthu_runtime.http import XLSX, file_answer

router = APIRouter(prefix="/api/v1", tags=["work-files"])


class HeadingIn(BaseModel):
    abbreviation: str = Field(description="Abbreviation of the main heading, e.g. TCCB")
    title: str


class WorkFileIn(BaseModel):
    year: int
    title: str
    heading_abbreviation: str | None = None
    notation: str | None = Field(None, description="Số và ký hiệu hồ sơ (01.TCCB); generated from the heading if absent")
    maintenance: str = Field("", description="Thời hạn bảo quản: Vĩnh viễn, 10 năm …")
    rights: str = ""
    language: str = "Tiếng Việt"
    start_date: date | None = None
    description: str = ""
    in_catalog: bool = True


class FiledIn(BaseModel):
    document_id: str


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "documents"} | (
        {"documents": [
            {k: d[k] for k in ("id", "ordinal", "direction", "number", "code_number", "code_notation", "type_name",
                               "subject", "issued_date", "arrival_date", "page_amount")}
            for d in row["documents"]
        ]} if "documents" in row else {}
    )


@router.post("/work-files/catalog/{year}/headings", status_code=201, summary="Thêm đề mục Danh mục hồ sơ")
async def add_heading(year: int, body: HeadingIn, who: Who, svc: Svc) -> dict[str, Any]:
    return await svc.workfiles.add_heading(who, year, body.abbreviation, body.title)


@router.get("/work-files/catalog/{year}", summary="Danh mục hồ sơ của năm / the yearly file list")
async def catalog(year: int, who: Who, svc: Svc) -> dict[str, Any]:
    return await svc.workfiles.catalog(who, year)


@router.post("/work-files", status_code=201, summary="Mở hồ sơ / open a work file")
async def open_file(body: WorkFileIn, who: Who, svc: Svc) -> dict[str, Any]:
    return await svc.workfiles.open_file(who, WorkFileInput(**body.model_dump()), creator_name=who.name or who.user_id)


@router.get("/work-files/{file_id}", summary="Hồ sơ và văn bản trong hồ sơ / a work file and its documents")
async def get_file(file_id: str, who: Who, svc: Svc) -> dict[str, Any]:
    return _plain(await svc.workfiles.details(who, file_id))


@router.post("/work-files/{file_id}/documents", summary="Đưa văn bản vào hồ sơ / file a document")
async def add_document(file_id: str, body: FiledIn, who: Who, svc: Svc) -> dict[str, int]:
    return {"ordinal": await svc.workfiles.add_document(who, file_id, body.document_id)}


@router.delete("/work-files/{file_id}/documents/{document_id}", status_code=204, summary="Rút văn bản khỏi hồ sơ")
async def remove_document(file_id: str, document_id: str, who: Who, svc: Svc) -> None:
    await svc.workfiles.remove_document(who, file_id, document_id)


@router.post("/work-files/{file_id}/close", summary="Đóng hồ sơ / close a work file")
async def close_file(file_id: str, who: Who, svc: Svc) -> dict[str, Any]:
    return _plain(await svc.workfiles.close(who, file_id))


@router.get("/work-files/{file_id}/export.xml", summary="Xuất siêu dữ liệu hồ sơ (XML) / export metadata", response_class=Response, responses=file_answer("application/xml"))
async def export_xml(file_id: str, who: Who, svc: Svc) -> Response:
    data = await svc.workfiles.export_xml(who, file_id)
    return Response(data, media_type="application/xml", headers={"Content-Disposition": f'attachment; filename="{file_id}.xml"'})


@router.get("/work-files/{file_id}/export.pdf", summary="Xuất hồ sơ (PDF) / export the documents in time order", response_class=Response, responses=file_answer("application/pdf"))
async def export_pdf(file_id: str, who: Who, svc: Svc) -> Response:
    data = await svc.workfiles.export_pdf(who, file_id)
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{file_id}.pdf"'})


prints_router = APIRouter(prefix="/api/v1", tags=["registers"])


@prints_router.get("/registers/print", summary="In sổ đăng ký văn bản (Phụ lục IV) / print a register", response_class=Response, responses=file_answer("application/pdf", XLSX))
async def print_register(
    who: Who,
    svc: Svc,
    direction: Direction,
    start: date = Query(alias="from"),
    end: date = Query(alias="to"),
    register_id: str | None = None,
    format: str = Query("pdf", pattern="^(pdf|xlsx)$"),
) -> Response:
    data = await svc.prints.render(who, direction, start, end, register_id, format)
    media = "application/pdf" if format == "pdf" else XLSX
    name = f"so-{'den' if direction is Direction.INCOMING else 'di'}-{start}-{end}.{format}"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
