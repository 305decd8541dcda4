"""REST: delegation (ủy quyền) and the reminder sweep."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field

from vanthu_contracts.events.routing import DelegationScope
from vanthu_routing.api.deps import service
from vanthu_routing.services.delegation import DelegationService
from vanthu_routing.services.reminders import ReminderService
from vanthu_runtime.auth import CurrentPrincipal, ProvinceOperator

Delegations = Annotated[DelegationService, service("delegations")]
Reminders = Annotated[ReminderService, service("reminders")]

router = APIRouter(prefix="/api/v1", tags=["delegation"])


class DelegationIn(BaseModel):
    delegate_id: str = Field(min_length=1, max_length=36)
    scopes: list[DelegationScope] = Field(min_length=1)
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    note: str = Field("", max_length=500)


@router.post("/delegations", summary="Ủy quyền / delegate my role for a period and scope")
async def grant(body: DelegationIn, principal: CurrentPrincipal, delegations: Delegations) -> dict[str, Any]:
    return await delegations.grant(
        principal, body.delegate_id, body.scopes, body.valid_from, body.valid_until, body.note
    )


@router.get("/delegations", summary="Ủy quyền của tôi / delegations I gave or hold")
async def mine(principal: CurrentPrincipal, delegations: Delegations) -> list[dict[str, Any]]:
    return await delegations.mine(principal)


@router.post("/delegations/{delegation_id}/revoke", summary="Thu hồi ủy quyền / revoke a delegation")
async def revoke(delegation_id: str, principal: CurrentPrincipal, delegations: Delegations) -> dict[str, Any]:
    return await delegations.revoke(principal, delegation_id)


@router.post(
    "/reminders/sweep",
    summary="Chạy nhắc hạn ngay / run the reminder sweep now (the province's administrators)",
    tags=["operations"],
)
async def sweep(_: ProvinceOperator, reminders: Reminders) -> dict[str, int]:
    # The sweep covers every agency of the platform, so it is the province's to trigger.
    return asdict(await reminders.sweep())
