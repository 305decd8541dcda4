"""REST: handling of incoming documents, inboxes and the working-day calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vanthu_contracts.events.common import Urgency
from vanthu_contracts.events.registry import FileRef
from vanthu_contracts.events.routing import AssigneeKind, HandlingRole, SenderStatus, UrgingLevel
from vanthu_routing.api.deps import Ctx, CurrentActor, OnBehalfOf, service
from vanthu_routing.domain.handling import Assignment, NewAssignee
from vanthu_routing.repos.handlings import HandlingRecord
from vanthu_routing.repos.inbox import Box, InboxFilter
from vanthu_routing.services.handling import HandlingService
from vanthu_routing.services.inbox import InboxService
from vanthu_runtime.auth import CurrentPrincipal

Handlings = Annotated[HandlingService, service("handlings")]
Inboxes = Annotated[InboxService, service("inboxes")]


class AssigneeIn(BaseModel):
    kind: AssigneeKind
    assignee_id: str = Field(min_length=1, max_length=36)
    role: HandlingRole
    deadline: date | None = Field(None, description="Hạn xử lý; default: the document's handling deadline")


class AssignIn(BaseModel):
    assignees: list[AssigneeIn] = Field(max_length=200)
    instruction: str = Field("", max_length=2000, description="Ý kiến chỉ đạo")
    parent_assignment_id: str | None = Field(None, description="Re-assign down under this assignment of yours")
    version: int | None = Field(None, description="Version you acted on (handling, or the parent assignment)")


class VersionIn(BaseModel):
    version: int | None = Field(None, description="Version of the assignment you acted on; 409 if stale")


class ProgressIn(VersionIn):
    note: str = Field("", max_length=2000)
    percent: int = Field(ge=0, le=100)
    files: list[FileRef] = Field(default_factory=list, max_length=20)


class CompleteIn(VersionIn):
    result: str = Field("", max_length=4000)
    reply_draft_id: str | None = None


class ReasonIn(VersionIn):
    reason: str = Field(max_length=2000)


class ExtensionIn(VersionIn):
    new_deadline: date
    reason: str = Field(max_length=2000)


class ExtensionDecisionIn(VersionIn):
    approve: bool
    reason: str = Field("", max_length=2000)


class UrgeIn(VersionIn):
    level: UrgingLevel
    message: str = Field("", max_length=1000)


class AssignmentOut(BaseModel):
    id: str
    parent_id: str | None
    kind: AssigneeKind
    assignee_id: str
    role: HandlingRole
    state: str
    deadline: date | None
    instruction: str
    assigned_by: str
    assigned_on_behalf_of: str | None
    percent: int
    result: str
    reply_draft_id: str | None
    extension_requested: date | None
    created_at: datetime
    closed_at: datetime | None
    version: int

    @classmethod
    def of(cls, a: Assignment) -> AssignmentOut:
        return cls(
            id=a.id,
            parent_id=a.parent_id,
            kind=a.kind,
            assignee_id=a.assignee_id,
            role=a.role,
            state=str(a.state),
            deadline=a.deadline,
            instruction=a.instruction,
            assigned_by=a.assigned_by,
            assigned_on_behalf_of=a.assigned_on_behalf_of,
            percent=a.percent,
            result=a.result,
            reply_draft_id=a.reply_draft_id,
            extension_requested=a.extension_requested,
            created_at=a.created_at,
            closed_at=a.closed_at,
            version=a.version,
        )


class HandlingOut(BaseModel):
    id: str
    document_id: str
    agency_code: str
    state: str
    subject: str
    code_notation: str | None
    incoming_number: int
    urgency: str
    secrecy: str
    redacted: bool = Field(
        False, description="A secret document you have no access to: its subject and details are withheld"
    )
    deadline: date | None
    statuses_sent: list[SenderStatus]
    assignments: list[AssignmentOut]
    history: list[dict[str, Any]] = Field(default_factory=list)
    version: int

    @classmethod
    def of(cls, rec: HandlingRecord, history: list[dict[str, Any]] | None = None) -> HandlingOut:
        h = rec.handling
        return cls(
            id=h.id,
            document_id=h.document_id,
            agency_code=h.agency,
            state=str(h.state),
            subject=h.subject,
            code_notation=rec.code_notation,
            incoming_number=rec.incoming_number,
            urgency=h.urgency,
            secrecy=rec.secrecy,
            redacted=rec.redacted,
            deadline=h.default_deadline,
            statuses_sent=sorted(h.statuses_sent),
            assignments=[AssignmentOut.of(a) for a in h.assignments],
            history=history or [],
            version=h.version,
        )


router = APIRouter(prefix="/api/v1", tags=["handling"])


@router.get("/handlings/{handling_id}", summary="Hồ sơ xử lý văn bản đến / one handling with its tree and history")
async def get_handling(
    handling_id: str, principal: CurrentPrincipal, handlings: Handlings, on_behalf_of: OnBehalfOf = None
) -> HandlingOut:
    rec, history = await handlings.get(principal, handling_id, on_behalf_of)
    return HandlingOut.of(rec, history)


@router.get("/documents/{document_id}/handling", summary="Xử lý của một văn bản đến / handling by document id")
async def handling_of_document(
    document_id: str, principal: CurrentPrincipal, handlings: Handlings, on_behalf_of: OnBehalfOf = None
) -> HandlingOut:
    return HandlingOut.of(await handlings.by_document(principal, document_id, on_behalf_of))


@router.post(
    "/handlings/{handling_id}/assignments",
    summary="Phân công / giao lại — assign (leader) or re-assign down (assignee)",
)
async def assign(
    handling_id: str, body: AssignIn, principal: CurrentPrincipal, handlings: Handlings, on_behalf_of: OnBehalfOf = None
) -> HandlingOut:
    people = [NewAssignee(a.kind, a.assignee_id, a.role, a.deadline) for a in body.assignees]
    rec = await handlings.assign(
        principal,
        handling_id,
        people,
        body.instruction,
        parent_id=body.parent_assignment_id,
        expected_version=body.version,
        on_behalf_of=on_behalf_of,
    )
    return HandlingOut.of(rec)


@router.post("/assignments/{assignment_id}/acknowledge", summary="Nhận / acknowledge")
async def acknowledge(
    assignment_id: str, body: VersionIn, principal: CurrentPrincipal, handlings: Handlings, on_behalf_of: OnBehalfOf = None
) -> HandlingOut:
    return HandlingOut.of(
        await handlings.act(
            principal, assignment_id, "acknowledge", expected_version=body.version, on_behalf_of=on_behalf_of
        )
    )


@router.post("/assignments/{assignment_id}/progress", summary="Báo cáo tiến độ / report progress")
async def progress(
    assignment_id: str, body: ProgressIn, principal: CurrentPrincipal, handlings: Handlings, on_behalf_of: OnBehalfOf = None
) -> HandlingOut:
    return HandlingOut.of(
        await handlings.act(
            principal,
            assignment_id,
            "progress",
            expected_version=body.version,
            on_behalf_of=on_behalf_of,
            note=body.note,
            percent=body.percent,
            files=body.files,
        )
    )


@router.post("/assignments/{assignment_id}/complete", summary="Hoàn thành / complete with a result")
async def complete(
    assignment_id: str, body: CompleteIn, principal: CurrentPrincipal, handlings: Handlings, on_behalf_of: OnBehalfOf = None
) -> HandlingOut:
    return HandlingOut.of(
        await handlings.act(
            principal,
            assignment_id,
            "complete",
            expected_version=body.version,
            on_behalf_of=on_behalf_of,
            note=body.result,
            reply_draft_id=body.reply_draft_id,
        )
    )


@router.post("/assignments/{assignment_id}/return", summary="Trả lại người giao / return with a reason")
async def return_(
    assignment_id: str, body: ReasonIn, principal: CurrentPrincipal, handlings: Handlings, on_behalf_of: OnBehalfOf = None
) -> HandlingOut:
    return HandlingOut.of(
        await handlings.act(
            principal, assignment_id, "return", expected_version=body.version, on_behalf_of=on_behalf_of, note=body.reason
        )
    )


@router.post("/assignments/{assignment_id}/withdraw", summary="Thu hồi / withdraw (the assigner)")
async def withdraw(
    assignment_id: str, body: VersionIn, principal: CurrentPrincipal, handlings: Handlings, on_behalf_of: OnBehalfOf = None
) -> HandlingOut:
    return HandlingOut.of(
        await handlings.act(principal, assignment_id, "withdraw", expected_version=body.version, on_behalf_of=on_behalf_of)
    )


@router.post("/assignments/{assignment_id}/extension-request", summary="Xin gia hạn / request an extension")
async def request_extension(
    assignment_id: str, body: ExtensionIn, principal: CurrentPrincipal, handlings: Handlings, on_behalf_of: OnBehalfOf = None
) -> HandlingOut:
    return HandlingOut.of(
        await handlings.act(
            principal,
            assignment_id,
            "request_extension",
            expected_version=body.version,
            on_behalf_of=on_behalf_of,
            note=body.reason,
            new_deadline=body.new_deadline,
        )
    )


@router.post("/assignments/{assignment_id}/extension-decision", summary="Duyệt gia hạn / decide an extension")
async def decide_extension(
    assignment_id: str,
    body: ExtensionDecisionIn,
    principal: CurrentPrincipal,
    handlings: Handlings,
    on_behalf_of: OnBehalfOf = None,
) -> HandlingOut:
    return HandlingOut.of(
        await handlings.act(
            principal,
            assignment_id,
            "decide_extension",
            expected_version=body.version,
            on_behalf_of=on_behalf_of,
            note=body.reason,
            approve=body.approve,
        )
    )


@router.post("/assignments/{assignment_id}/urge", summary="Đôn đốc / urge (nhắc nhở, phê bình, kiểm điểm)")
async def urge(
    assignment_id: str, body: UrgeIn, principal: CurrentPrincipal, handlings: Handlings, on_behalf_of: OnBehalfOf = None
) -> HandlingOut:
    return HandlingOut.of(
        await handlings.act(
            principal,
            assignment_id,
            "urge",
            expected_version=body.version,
            on_behalf_of=on_behalf_of,
            note=body.message,
            level=body.level,
        )
    )


@router.get("/urgings/counts", summary="Số lần đôn đốc theo người/đơn vị / urgings counted per handler and level")
async def urging_counts(principal: CurrentPrincipal, handlings: Handlings) -> list[dict[str, Any]]:
    return await handlings.urging_counts(principal)


# -- inboxes ------------------------------------------------------------------------------

inbox_router = APIRouter(prefix="/api/v1/inbox", tags=["inbox"])


class BoxCountOut(BaseModel):
    total: int
    overdue: int
    due_soon: int


class InboxPageOut(BaseModel):
    box: Box
    total: int
    items: list[dict[str, Any]]


@inbox_router.get("", summary="Số lượng theo hộp / counts per inbox")
async def inbox_counts(actor: CurrentActor, inboxes: Inboxes) -> dict[Box, BoxCountOut]:
    counts = await inboxes.counts(actor)
    return {box: BoxCountOut(**vars(count)) for box, count in counts.items()}


@inbox_router.get("/{box}", summary="Một hộp văn bản / one inbox, filtered and paged")
async def inbox_page(
    box: Box,
    actor: CurrentActor,
    inboxes: Inboxes,
    overdue: bool = False,
    due_soon: bool = False,
    urgency: Annotated[list[Urgency] | None, Query()] = None,
    include_closed: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> InboxPageOut:
    page = await inboxes.page(
        actor,
        box,
        InboxFilter(
            overdue=overdue,
            due_soon=due_soon,
            urgency=tuple(str(u) for u in urgency or ()),
            include_closed=include_closed,
            limit=limit,
            offset=offset,
        ),
    )
    return InboxPageOut(box=page.box, total=page.total, items=page.items)


# -- calendar -------------------------------------------------------------------------------

calendar_router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])


class DeadlineOut(BaseModel):
    start: date
    working_days: int
    deadline: date


@calendar_router.get("/deadline", summary="Tính hạn theo ngày làm việc / add working days")
async def deadline(
    _: CurrentPrincipal, ctx: Ctx, start: date, working_days: Annotated[int, Query(ge=0, le=365)]
) -> DeadlineOut:
    return DeadlineOut(
        start=start, working_days=working_days, deadline=ctx.calendar.add_working_days(start, working_days)
    )


@calendar_router.get("/{year}/days-off", summary="Ngày nghỉ trong năm / days off in a year (weekdays)")
async def days_off(_: CurrentPrincipal, ctx: Ctx, year: int) -> list[date]:
    return sorted(d for d in ctx.calendar.days_off(year) if d.weekday() < 5)
