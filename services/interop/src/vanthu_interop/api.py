"""REST adapters of interop: translate HTTP ↔ use cases, nothing more."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from vanthu_contracts.events import interop as contract
from vanthu_contracts.events.common import Role
from vanthu_interop.usecases import Interop
from vanthu_runtime.auth import CurrentPrincipal, Principal, ProvinceOperator, require_roles
from vanthu_runtime.errors import AppError

SENDERS = (Role.CLERK, Role.HEAD, Role.DEPUTY_HEAD, Role.ADMIN)


def get_interop(request: Request) -> Interop:
    return request.app.state.interop


Service = Annotated[Interop, Depends(get_interop)]
Sender = Annotated[Principal, Depends(require_roles(*SENDERS))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


class RecallIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="Lý do thu hồi")


class ChangeIn(BaseModel):
    reason: str = Field("", max_length=500)


class ReplaceIn(BaseModel):
    replaces: list[str] = Field(min_length=1, description="External DocumentIds this document replaces")
    reason: str = Field("", max_length=500)


class Planned(BaseModel):
    document_id: str
    planned: int = Field(description="Packets queued, one per recipient")


router = APIRouter(prefix="/api/v1", tags=["interop"])


@router.get("/outgoing/{document_id}/recipients", summary="Trạng thái xử lý tại từng nơi nhận")
async def recipients(document_id: str, service: Service, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """What the sender sees for each recipient: đã đến, đã tiếp nhận, phân công, đang xử lý, hoàn thành,
    từ chối with the reason, and the full history."""
    return await service.operations.recipients(document_id, principal.agency)


@router.post("/outgoing/{document_id}/recall", summary="Thu hồi văn bản đã gửi", response_model=Planned)
async def recall(document_id: str, body: RecallIn, service: Service, principal: Sender) -> Planned:
    async with service.ctx.uow.begin() as tx:
        planned = await service.dispatch.recall(
            tx, document_id, body.reason, actor=principal.user_id, agency_code=principal.agency
        )
    return Planned(document_id=document_id, planned=planned)


@router.post("/outgoing/{document_id}/update", summary="Gửi bản cập nhật văn bản", response_model=Planned)
async def send_update(document_id: str, body: ChangeIn, service: Service, principal: Sender) -> Planned:
    async with service.ctx.uow.begin() as tx:
        planned = await service.dispatch.change(
            tx, document_id, business_doc_type=2, reason=body.reason, related=[], actor=principal.user_id,
            agency_code=principal.agency,
        )  # fmt: skip
    return Planned(document_id=document_id, planned=planned)


@router.post("/outgoing/{document_id}/replace", summary="Gửi văn bản thay thế", response_model=Planned)
async def send_replacement(document_id: str, body: ReplaceIn, service: Service, principal: Sender) -> Planned:
    async with service.ctx.uow.begin() as tx:
        planned = await service.dispatch.change(
            tx, document_id, business_doc_type=3, reason=body.reason, related=body.replaces,
            actor=principal.user_id, agency_code=principal.agency,
        )  # fmt: skip
    return Planned(document_id=document_id, planned=planned)


@router.get("/deliveries/failed", summary="Danh sách gửi thất bại (dead-letter) của cơ quan")
async def failed(
    service: Service, admin: Admin, limit: int = Query(500, ge=1, le=5000)
) -> list[dict[str, Any]]:
    # An agency's administrator sees its own deliveries; the operator CLI (`vanthu interop failed`) all.
    return await service.operations.failed(limit, admin.agency)


@router.post("/deliveries/{delivery_id}/replay", summary="Gửi lại một lượt gửi thất bại")
async def replay(delivery_id: str, service: Service, admin: Admin) -> dict[str, Any]:
    return await service.operations.replay(delivery_id, admin.agency)


@router.get("/partners", summary="Danh bạ cơ quan liên thông")
async def partners(
    service: Service, _: CurrentPrincipal, q: str = Query("", max_length=100)
) -> list[dict[str, Any]]:
    return await service.directory.search_partners(q)


# The partner directory and the axis connection are the platform's, shared by every agency it
# hosts: triggering them is the province's (an agency's administrator manages only that agency).
@router.post("/partners/sync", summary="Đồng bộ danh bạ từ trục liên thông (quản trị cấp tỉnh)")
async def sync_partners(service: Service, _: ProvinceOperator) -> dict[str, Any]:
    if service.axis is None:
        raise AppError(contract.AXIS_NOT_CONFIGURED)
    return (await service.directory.sync_partners(service.axis)).model_dump(mode="json")


@router.post("/axis/poll", summary="Lấy gói tin từ trục ngay (quản trị cấp tỉnh)")
async def poll_now(service: Service, _: ProvinceOperator) -> dict[str, Any]:
    if service.poller is None:
        raise AppError(contract.AXIS_NOT_CONFIGURED)
    return (await service.poller.poll_once()).__dict__
