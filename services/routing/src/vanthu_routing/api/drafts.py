"""REST: outgoing drafts, their files, the review chain, opinion rounds, chain templates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from vanthu_contracts.events.common import Secrecy, Urgency
from vanthu_contracts.events.registry import OrganRef
from vanthu_contracts.events.routing import AssigneeKind, ReviewDecision
from vanthu_routing.api.deps import OnBehalfOf, service
from vanthu_routing.repos.drafts import DraftRecord
from vanthu_routing.services.drafts import DraftService
from vanthu_runtime.auth import CurrentPrincipal

Drafts = Annotated[DraftService, service("drafts")]


class DraftIn(BaseModel):
    type_name: str = Field(max_length=100, examples=["Công văn", "Quyết định"])
    type_abbreviation: str | None = Field(None, max_length=10, examples=["QĐ"])
    subject: str = Field(min_length=1, max_length=500, description="Trích yếu")
    urgency: Urgency = Urgency.NORMAL
    secrecy: Secrecy = Secrecy.NORMAL
    internal_recipients: list[OrganRef] = Field(default_factory=list, max_length=500)
    external_recipients: list[OrganRef] = Field(default_factory=list, max_length=500)
    reply_to_handling_ids: list[str] = Field(default_factory=list, max_length=50)


class DraftPatch(BaseModel):
    type_name: str | None = Field(None, max_length=100)
    type_abbreviation: str | None = Field(None, max_length=10)
    subject: str | None = Field(None, min_length=1, max_length=500)
    urgency: Urgency | None = None
    secrecy: Secrecy | None = None
    internal_recipients: list[OrganRef] | None = None
    external_recipients: list[OrganRef] | None = None
    reply_to_handling_ids: list[str] | None = None
    version: int | None = None


class StepIn(BaseModel):
    reviewer_id: str = Field(min_length=1, max_length=36)
    label: str = Field("", max_length=100, examples=["Trưởng phòng", "Phó Chủ tịch"])


class SubmitIn(BaseModel):
    reviewers: list[StepIn] | None = Field(None, max_length=20, description="Per-draft chain; the last one signs")
    template_id: str | None = Field(None, description="…or a configured chain template")
    version: int | None = None


class ReviewIn(BaseModel):
    decision: ReviewDecision
    comment: str = Field("", max_length=2000)
    forward_to: str | None = Field(None, description="FORWARD: the next reviewer to insert")
    forward_label: str = Field("", max_length=100)
    signer_competence: str | None = Field(None, max_length=10, description="Signer only: TM., KT., TL., TUQ., Q.")
    version: int | None = None


class ParticipantIn(BaseModel):
    kind: AssigneeKind
    participant_id: str = Field(min_length=1, max_length=36)


class OpinionRoundIn(BaseModel):
    participants: list[ParticipantIn] = Field(min_length=1, max_length=100)
    question: str = Field(min_length=1, max_length=2000)
    due_date: date


class OpinionIn(BaseModel):
    opinion: str = Field(min_length=1, max_length=4000)


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    steps: list[StepIn] = Field(min_length=1, max_length=20)


class DraftOut(BaseModel):
    id: str
    agency_code: str
    unit_id: str | None
    creator_id: str
    type_name: str
    type_abbreviation: str | None
    subject: str
    urgency: str
    secrecy: str
    internal_recipients: list[dict[str, Any]]
    external_recipients: list[dict[str, Any]]
    reply_to_handling_ids: list[str]
    state: str
    chain: list[dict[str, Any]]
    current_step: int | None
    current_reviewer_id: str | None
    signer: dict[str, Any] | None
    signed_file: dict[str, Any] | None
    document_id: str | None
    symbol: str | None
    issued_at: datetime | None
    last_error: dict[str, Any] | None
    files: list[dict[str, Any]]
    history: list[dict[str, Any]] = Field(default_factory=list)
    opinion_rounds: list[dict[str, Any]] = Field(default_factory=list)
    version: int

    @classmethod
    def of(cls, rec: DraftRecord, history: list | None = None, rounds: list | None = None) -> DraftOut:
        r = rec.row
        return cls(
            **{k: r[k] for k in (
                "id", "agency_code", "unit_id", "creator_id", "type_name", "type_abbreviation", "subject", "urgency",
                "secrecy", "internal_recipients", "external_recipients", "state", "chain", "current_step",
                "current_reviewer_id", "signer", "signed_file", "document_id", "symbol", "issued_at", "last_error",
                "version",
            )},
            reply_to_handling_ids=r["reply_to"],
            files=rec.files,
            history=history or [],
            opinion_rounds=rounds or [],
        )


router = APIRouter(prefix="/api/v1", tags=["drafts"])


@router.post("/drafts", summary="Tạo dự thảo / create a draft")
async def create_draft(body: DraftIn, principal: CurrentPrincipal, drafts: Drafts, on_behalf_of: OnBehalfOf = None) -> DraftOut:
    return DraftOut.of(await drafts.create(principal, body.model_dump(), on_behalf_of))


@router.get("/drafts/{draft_id}", summary="Một dự thảo / one draft with files, chain, history and opinions")
async def get_draft(
    draft_id: str, principal: CurrentPrincipal, drafts: Drafts, on_behalf_of: OnBehalfOf = None
) -> DraftOut:
    return DraftOut.of(*await drafts.get(principal, draft_id, on_behalf_of))


@router.patch("/drafts/{draft_id}", summary="Sửa dự thảo / edit a draft")
async def edit_draft(draft_id: str, body: DraftPatch, principal: CurrentPrincipal, drafts: Drafts, on_behalf_of: OnBehalfOf = None) -> DraftOut:
    data = body.model_dump(exclude_none=True, exclude={"version"})
    return DraftOut.of(await drafts.update(principal, draft_id, data, body.version, on_behalf_of))


@router.put(
    "/drafts/{draft_id}/files/{name}",
    summary="Tải lên phiên bản mới của tệp / upload a new version of a file (raw body)",
    openapi_extra={"requestBody": {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def upload_file(
    draft_id: str,
    name: str,
    request: Request,
    principal: CurrentPrincipal,
    drafts: Drafts,
    role: Annotated[str, Query(pattern="^(main|attachment)$")] = "main",
    on_behalf_of: OnBehalfOf = None,
) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
    return await drafts.upload_file(principal, draft_id, name[:255], role, content_type, request.stream(), on_behalf_of)


@router.post("/drafts/{draft_id}/submit", summary="Trình duyệt / submit up the review chain")
async def submit(draft_id: str, body: SubmitIn, principal: CurrentPrincipal, drafts: Drafts, on_behalf_of: OnBehalfOf = None) -> DraftOut:
    reviewers = [(s.reviewer_id, s.label) for s in body.reviewers] if body.reviewers is not None else None
    return DraftOut.of(
        await drafts.submit(
            principal, draft_id, reviewers=reviewers, template_id=body.template_id, expected_version=body.version,
            on_behalf_of=on_behalf_of,
        )
    )


@router.post("/drafts/{draft_id}/review", summary="Duyệt / approve, forward or return (the reviewer in turn)")
async def review(draft_id: str, body: ReviewIn, principal: CurrentPrincipal, drafts: Drafts, on_behalf_of: OnBehalfOf = None) -> DraftOut:
    return DraftOut.of(
        await drafts.review(
            principal, draft_id, body.decision, body.comment, forward_to=body.forward_to, forward_label=body.forward_label,
            signer_competence=body.signer_competence, expected_version=body.version, on_behalf_of=on_behalf_of,
        )
    )


@router.post("/drafts/{draft_id}/retry-signing", summary="Ký lại sau lỗi / ask for the signature again")
async def retry_signing(draft_id: str, principal: CurrentPrincipal, drafts: Drafts, on_behalf_of: OnBehalfOf = None) -> DraftOut:
    return DraftOut.of(await drafts.retry_signing(principal, draft_id, on_behalf_of))


@router.post("/drafts/{draft_id}/opinion-rounds", summary="Xin ý kiến / ask several people or units for opinions")
async def ask_opinions(draft_id: str, body: OpinionRoundIn, principal: CurrentPrincipal, drafts: Drafts, on_behalf_of: OnBehalfOf = None) -> dict[str, Any]:
    return await drafts.ask_opinions(
        principal, draft_id, [(p.kind, p.participant_id) for p in body.participants], body.question, body.due_date, on_behalf_of
    )


@router.post("/opinion-rounds/{round_id}/answer", summary="Cho ý kiến / give an opinion")
async def answer(round_id: str, body: OpinionIn, principal: CurrentPrincipal, drafts: Drafts, on_behalf_of: OnBehalfOf = None) -> dict[str, Any]:
    return await drafts.answer_opinion(principal, round_id, body.opinion, on_behalf_of)


@router.post("/chain-templates", summary="Tạo quy trình trình duyệt mẫu / create a review chain template")
async def add_template(body: TemplateIn, principal: CurrentPrincipal, drafts: Drafts) -> dict[str, Any]:
    return await drafts.add_template(principal, body.name, [s.model_dump() for s in body.steps])


@router.get("/chain-templates", summary="Quy trình trình duyệt mẫu / review chain templates")
async def templates(principal: CurrentPrincipal, drafts: Drafts) -> list[dict[str, Any]]:
    return await drafts.templates(principal)
