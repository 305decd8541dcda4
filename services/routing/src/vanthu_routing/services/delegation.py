"""Delegation (ủy quyền): a user lends their role to another for a period and a scope.

While it lasts, the delegate acts with the delegator's authority (header Vanthu-On-Behalf-Of);
every action records both. It ends by itself at `valid_until` (the reminder sweep publishes
the end), or earlier when the delegator revokes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from vanthu_contracts.events import routing as c
from vanthu_contracts.events.routing import DelegationScope, NotificationKind
from vanthu_routing.ids import new_id
from vanthu_routing.repos.directory import DirectoryRepo
from vanthu_routing.repository import delegations
from vanthu_routing.services.context import RoutingContext, envelope
from vanthu_routing.services.notifier import Message
from vanthu_runtime.auth import Principal
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import Tx


class DelegationService:
    def __init__(self, ctx: RoutingContext) -> None:
        self.ctx = ctx

    async def grant(
        self,
        principal: Principal,
        delegate_id: str,
        scopes: list[DelegationScope],
        valid_from: datetime,
        valid_until: datetime,
        note: str,
    ) -> dict[str, Any]:
        now = self.ctx.clock.now()
        if not scopes or delegate_id == principal.user_id or valid_until <= valid_from or valid_until <= now:
            raise AppError(c.DELEGATION_INVALID, {"delegate_id": delegate_id})
        async with self.ctx.uow.begin() as tx:
            delegate = await DirectoryRepo(tx.session).user(delegate_id)
            if delegate is None or not delegate.active or delegate.agency_code != principal.agency:
                raise AppError(c.DELEGATION_INVALID, {"delegate_id": delegate_id})
            values = {
                "id": new_id(),
                "agency_code": principal.agency,
                "delegator_id": principal.user_id,
                "delegate_id": delegate_id,
                "scopes": sorted(str(s) for s in set(scopes)),
                "valid_from": valid_from,
                "valid_until": valid_until,
                "note": note,
                "created_at": now,
                "revoked_at": None,
                "ended_at": None,
            }
            await tx.session.execute(delegations.insert().values(**values))
            await tx.publish(
                envelope(
                    c.DELEGATION_GRANTED.type,
                    c.DelegationGranted(
                        delegation_id=values["id"],
                        agency_code=principal.agency,
                        delegator_id=principal.user_id,
                        delegate_id=delegate_id,
                        scopes=[DelegationScope(s) for s in values["scopes"]],
                        valid_from=valid_from,
                        valid_until=valid_until,
                        note=note,
                    ),
                    principal.agency,
                    principal.user_id,
                )
            )
            await self.ctx.notifier.notify(
                tx,
                principal.agency,
                [delegate_id],
                Message(
                    NotificationKind.DELEGATION,
                    f"Bạn được ủy quyền đến {valid_until:%d/%m/%Y %H:%M} UTC",
                    f"You hold a delegation until {valid_until.isoformat()}",
                    "delegation",
                    values["id"],
                ),
                now,
                principal.user_id,
            )
        return values

    async def revoke(self, principal: Principal, delegation_id: str) -> dict[str, Any]:
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            row = (
                await tx.session.execute(select(delegations).where(delegations.c.id == delegation_id))
            ).mappings().first()
            if row is None or row["delegator_id"] != principal.user_id:
                raise AppError(c.UNKNOWN_DELEGATION, {"delegation_id": delegation_id})
            if row["ended_at"] is not None or row["revoked_at"] is not None:
                return dict(row)
            await tx.session.execute(
                update(delegations).where(delegations.c.id == delegation_id).values(revoked_at=now, ended_at=now)
            )
            await self._ended(tx, dict(row), "revoked", now)
            return {**dict(row), "revoked_at": now, "ended_at": now}

    async def mine(self, principal: Principal) -> list[dict[str, Any]]:
        async with self.ctx.uow.read() as session:
            rows = (
                await session.execute(
                    select(delegations)
                    .where(
                        or_(delegations.c.delegator_id == principal.user_id, delegations.c.delegate_id == principal.user_id)
                    )
                    .order_by(delegations.c.created_at.desc())
                )
            ).mappings().all()
        now = self.ctx.clock.now()
        return [
            {**dict(r), "active": r["revoked_at"] is None and r["valid_from"] <= now < r["valid_until"]} for r in rows
        ]

    async def end_expired(self, tx: Tx, now: datetime) -> int:
        """Publish the end of every delegation whose period is over (it stopped working already)."""
        rows = (
            await tx.session.execute(
                select(delegations).where(
                    delegations.c.ended_at.is_(None), delegations.c.valid_until <= now
                )
            )
        ).mappings().all()
        for row in rows:
            await tx.session.execute(update(delegations).where(delegations.c.id == row["id"]).values(ended_at=now))
            await self._ended(tx, dict(row), "expired", now)
        return len(rows)

    async def _ended(self, tx: Tx, row: dict[str, Any], reason: str, now: datetime) -> None:
        await tx.publish(
            envelope(
                c.DELEGATION_ENDED.type,
                c.DelegationEnded(
                    delegation_id=row["id"],
                    agency_code=row["agency_code"],
                    delegator_id=row["delegator_id"],
                    delegate_id=row["delegate_id"],
                    reason=reason,
                    ended_at=now,
                ),
                row["agency_code"],
                "system" if reason == "expired" else row["delegator_id"],
            )
        )
        await self.ctx.notifier.notify(
            tx,
            row["agency_code"],
            [row["delegate_id"], row["delegator_id"]],
            Message(
                NotificationKind.DELEGATION,
                "Ủy quyền đã kết thúc" if reason == "expired" else "Ủy quyền đã bị thu hồi",
                "The delegation has ended" if reason == "expired" else "The delegation was revoked",
                "delegation",
                row["id"],
            ),
            now,
        )
