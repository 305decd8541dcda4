"""REST: the user's in-app notifications and e-mail preference."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vanthu_routing.api.deps import Ctx
from vanthu_routing.repos.notifications import NotificationRepo
from vanthu_runtime.auth import CurrentPrincipal

router = APIRouter(prefix="/api/v1", tags=["notifications"])


class NotificationsOut(BaseModel):
    items: list[dict[str, Any]]
    total: int
    unread: int


class MarkReadIn(BaseModel):
    ids: list[str] | None = Field(None, max_length=500, description="None: every unread notification")


class PrefsIn(BaseModel):
    email: str = Field("", max_length=100, pattern=r"^$|^[^@\s]+@[^@\s]+$")
    email_enabled: bool = True


@router.get("/notifications", summary="Thông báo của tôi / my notifications")
async def list_notifications(
    principal: CurrentPrincipal,
    ctx: Ctx,
    unread_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> NotificationsOut:
    async with ctx.uow.read() as session:
        items, total, unread = await NotificationRepo(session).page(principal.user_id, unread_only, limit, offset)
    return NotificationsOut(items=items, total=total, unread=unread)


@router.post("/notifications/read", summary="Đánh dấu đã đọc / mark as read")
async def mark_read(body: MarkReadIn, principal: CurrentPrincipal, ctx: Ctx) -> dict[str, int]:
    async with ctx.uow.begin() as tx:
        count = await NotificationRepo(tx.session).mark_read(principal.user_id, body.ids, ctx.clock.now())
    return {"marked": count}


@router.get("/me/notification-settings", summary="Cài đặt thư điện tử / my e-mail setting")
async def get_prefs(principal: CurrentPrincipal, ctx: Ctx) -> dict[str, Any]:
    async with ctx.uow.read() as session:
        return await NotificationRepo(session).prefs(principal.user_id)


@router.put("/me/notification-settings", summary="Đặt địa chỉ thư điện tử nhận thông báo / set my e-mail")
async def put_prefs(body: PrefsIn, principal: CurrentPrincipal, ctx: Ctx) -> dict[str, Any]:
    async with ctx.uow.begin() as tx:
        await NotificationRepo(tx.session).set_prefs(principal.user_id, body.email, body.email_enabled)
        return await NotificationRepo(tx.session).prefs(principal.user_id)
