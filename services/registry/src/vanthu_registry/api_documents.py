"""REST adapters for registers, incoming and outgoing documents, files, search and access."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import BaseModel

from vanthu_contracts.events import registry as contract
from vanthu_registry.caller import Caller
from vanthu_registry.domain.documents import Direction
from vanthu_registry.incoming import Arrival
from vanthu_registry.outgoing import IssueInput
from vanthu_registry.schemas import (
    DocumentOut,
    DuplicateKeyIn,
    ElectronicIn,
    FileOut,
    GrantIn,
    IssueIn,
    MetadataIn,
    ReturnIn,
    parse_json_form,
)
from vanthu_registry.search import COLUMNS, DATE_FILTERS, SearchQuery
from vanthu_registry.services import Services
from vanthu_runtime.auth import CurrentPrincipal


def get_services(request: Request) -> Services:
    return request.app.state.services


Svc = Annotated[Services, Depends(get_services)]


def caller_of(principal: CurrentPrincipal, request: Request) -> Caller:
    forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
    return Caller.of(principal, forwarded or (request.client.host if request.client else None))


Who = Annotated[Caller, Depends(caller_of)]

router = APIRouter(prefix="/api/v1", tags=["documents"])


async def _pdf(svc: Services, upload: UploadFile) -> Any:
    return await svc.storage.put_pdf(upload.file, upload.filename or "document.pdf", size=upload.size)


# -- registers ---------------------------------------------------------------------------------


class SeriesIn(BaseModel):
    series: str
    name: str
    types: list[str] = []
    secret: bool = False


@router.get("/series/{direction}", summary="Cấu hình sổ (loại nào chung một dãy số) / numbering series")
async def get_series(direction: Direction, who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [s.__dict__ | {"direction": s.direction.value} for s in await svc.registers.list_series(who, direction)]


@router.put("/series/{direction}", summary="Đặt cấu hình sổ / configure numbering series")
async def put_series(direction: Direction, body: list[SeriesIn], who: Who, svc: Svc) -> list[dict[str, Any]]:
    saved = await svc.registers.configure_series(who, direction, [b.model_dump() for b in body])
    return [s.__dict__ | {"direction": s.direction.value} for s in saved]


@router.get("/registers", summary="Sổ đăng ký văn bản / registers")
async def list_registers(who: Who, svc: Svc, year: int | None = None) -> list[dict[str, Any]]:
    return [r.__dict__ | {"direction": r.direction.value} for r in await svc.registers.list_registers(who, year)]


# -- incoming ----------------------------------------------------------------------------------


@router.post("/incoming", status_code=201, summary="Tiếp nhận và vào sổ văn bản đến giấy (bản quét PDF)")
async def register_paper(
    who: Who,
    svc: Svc,
    metadata: Annotated[str, Form(description="MetadataIn as JSON")],
    file: Annotated[UploadFile, File(description="The scanned PDF")],
    register_now: Annotated[bool, Form(alias="register")] = True,
    proposed_unit_id: Annotated[str | None, Form()] = None,
) -> DocumentOut:
    meta = parse_json_form(MetadataIn, metadata)
    stored = await _pdf(svc, file)
    outcome = await svc.incoming.receive(
        who,
        meta.to_domain(),
        Arrival(channel=contract.Channel.PAPER, proposed_unit_id=proposed_unit_id, files_role="scan"),
        [stored],
        register_now=register_now,
    )
    return DocumentOut.of(outcome.document, outcome.files, outcome.duplicate_of)


@router.post("/incoming/electronic", status_code=201, summary="Tiếp nhận văn bản điện tử / receive an electronic document")
async def receive_electronic(body: ElectronicIn, who: Who, svc: Svc) -> DocumentOut:
    files = [await svc.storage.referenced_pdf(f.sha256, f.name) for f in body.files]
    outcome = await svc.incoming.receive(
        who,
        body.metadata.to_domain(),
        Arrival(
            channel=body.channel,
            external_document_id=body.external_document_id,
            sender_organ_id=body.sender.organ_id if body.sender else None,
            sender_organ_name=body.sender.organ_name if body.sender else None,
            trace_header_list=body.trace_header_list,
            response_for=body.response_for,
            files_role="main",
        ),
        files,
        register_now=body.register_now,
    )
    return DocumentOut.of(outcome.document, outcome.files, outcome.duplicate_of)


@router.post("/incoming/{document_id}/register", summary="Vào sổ văn bản đến / register (gives the số đến)")
async def register_received(document_id: str, who: Who, svc: Svc) -> DocumentOut:
    outcome = await svc.incoming.register(who, document_id)
    return DocumentOut.of(outcome.document, outcome.files, outcome.duplicate_of)


@router.post("/incoming/{document_id}/return", summary="Trả lại văn bản / return to the sender with a reason")
async def return_document(document_id: str, body: ReturnIn, who: Who, svc: Svc) -> dict[str, str]:
    doc = await svc.incoming.return_to_sender(who, document_id, body.reason)
    return {"id": doc["id"], "state": doc["state"]}


@router.post("/incoming/duplicates", summary="Kiểm tra trùng / find probable duplicates")
async def duplicates(body: DuplicateKeyIn, who: Who, svc: Svc) -> dict[str, list[str]]:
    return {"duplicate_of": await svc.incoming.check_duplicates(who, **body.model_dump())}


# -- outgoing ----------------------------------------------------------------------------------


@router.post("/outgoing", status_code=201, summary="Cấp số, vào sổ và phát hành văn bản đi / issue")
async def issue_document(
    who: Who,
    svc: Svc,
    metadata: Annotated[str, Form(description="IssueIn as JSON")],
    file: Annotated[UploadFile, File(description="The signed PDF")],
) -> DocumentOut:
    body = parse_json_form(IssueIn, metadata)
    stored = await _pdf(svc, file)
    issued = await svc.outgoing.issue(
        who,
        IssueInput(
            meta=body.to_domain(),
            draft_id=body.draft_id,
            unit_abbreviation=body.unit_abbreviation,
            signer_competence=body.signer_competence,
            digitally_signed=body.digitally_signed,
            sealed=body.sealed,
            response_for=tuple(body.response_for),
        ),
        [stored],
    )
    return DocumentOut.of(issued.document, issued.files)


# -- documents ---------------------------------------------------------------------------------


class SearchOut(BaseModel):
    items: list[dict[str, Any]]
    total: int
    total_is_exact: bool
    page: int
    size: int
    columns: list[str]


@router.get("/documents", summary="Tìm kiếm văn bản (có dấu hoặc không dấu) / search")
async def search_documents(
    request: Request,
    who: Who,
    svc: Svc,
    q: str = Query("", description="Free text over every metadata field and the PDF text; diacritics optional"),
    sort: str = Query("-sort_at", description="Column, '-' for descending"),
    columns: str = Query("", description="Comma-separated columns to return"),
    page: int = Query(1, ge=1),
    size: int = Query(20, ge=1, le=100),
) -> SearchOut:
    """Any other query parameter filters: `<column>=value` (exact), `<column>__contains=`,
    `<date column>__from=` / `__to=` (YYYY-MM-DD)."""
    query = SearchQuery(q=q, sort=sort, page=page, size=size)
    if columns:
        query.columns = tuple(c.strip() for c in columns.split(",") if c.strip())
    reserved = {"q", "sort", "columns", "page", "size"}
    for key, value in request.query_params.items():
        if key in reserved:
            continue
        if key.endswith("__contains"):
            query.contains[key.removesuffix("__contains")] = value
        elif key.endswith("__from") or key.endswith("__to"):
            name, _, bound = key.rpartition("__")
            try:
                parsed = date.fromisoformat(value)
            except ValueError as exc:
                from vanthu_runtime.errors import AppError

                raise AppError(contract.PERIOD_INVALID, {"field": key}) from exc
            (query.date_from if bound == "from" else query.date_to)[name] = parsed
        else:
            query.exact[key] = int(value) if key in ("number", "register_year") and value.isdigit() else value
    result = await svc.search.search(who, query)
    return SearchOut(
        items=result.items,
        total=result.total,
        total_is_exact=result.total_is_exact,
        page=result.page,
        size=result.size,
        columns=["id", *[c for c in result.columns if c != "id"]],
    )


@router.get("/documents/columns", summary="Các cột tìm kiếm / searchable and selectable columns")
async def search_columns(_: Who) -> dict[str, list[str]]:
    return {"columns": list(COLUMNS), "date_filters": list(DATE_FILTERS)}


@router.get("/documents/{document_id}", summary="Một văn bản / one document (the read is audited)")
async def get_document(document_id: str, who: Who, svc: Svc) -> DocumentOut:
    doc, files = await svc.reader.get(who, document_id)
    return DocumentOut.of(doc, files)


@router.post("/documents/{document_id}/files", status_code=201, summary="Thêm phiên bản tệp / add a file version")
async def add_file(
    document_id: str,
    who: Who,
    svc: Svc,
    file: Annotated[UploadFile, File()],
    role: Annotated[str, Form()] = "attachment",
) -> list[FileOut]:
    stored = await _pdf(svc, file)
    files = await svc.reader.add_version(who, document_id, stored, role[:20])
    return [FileOut(**{k: f[k] for k in FileOut.model_fields}) for f in files]


@router.get("/documents/{document_id}/files/{file_id}/url", summary="Đường dẫn tải có thời hạn / signed download URL")
async def download_url(document_id: str, file_id: str, who: Who, svc: Svc) -> dict[str, Any]:
    url, ttl = await svc.reader.download_url(who, document_id, file_id)
    return {"url": url, "expires_in": ttl}


@router.post("/documents/{document_id}/grants", status_code=204, summary="Cấp quyền xem / give access")
async def grant(document_id: str, body: GrantIn, who: Who, svc: Svc) -> None:
    await svc.reader.grant(who, document_id, body.principal_type, body.principal_id, body.kind)


@router.get("/documents/{document_id}/audit", summary="Nhật ký truy cập của văn bản / audit trail")
async def audit_trail(document_id: str, who: Who, svc: Svc) -> list[dict[str, Any]]:
    return await svc.reader.audit_trail(who, document_id)
