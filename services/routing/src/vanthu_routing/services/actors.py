"""Who acts: the caller, or the user they act for under an active delegation (ủy quyền)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.events import routing as c
from vanthu_contracts.events.routing import DelegationScope
from vanthu_routing.domain.actors import Actor
from vanthu_routing.repos.directory import DirectoryRepo
from vanthu_routing.repository import delegations
from vanthu_runtime.auth import Principal
from vanthu_runtime.errors import AppError


def own_actor(principal: Principal) -> Actor:
    return Actor(
        user_id=principal.user_id,
        agency=principal.agency,
        unit_id=principal.unit,
        roles=frozenset(principal.roles),
    )


async def resolve_actor(
    session: AsyncConnection,
    principal: Principal,
    on_behalf_of: str | None,
    scope: DelegationScope | None,
    now: datetime,
) -> Actor:
    """The identity the rules check. Under a delegation it is the delegator's (their roles and
    unit, from the directory), with `acted_by` recording who really acted."""
    target = on_behalf_of or principal.on_behalf_of
    if target is None or target == principal.user_id:
        return own_actor(principal)
    rows = (
        await session.execute(
            select(delegations.c.scopes).where(
                delegations.c.delegator_id == target,
                delegations.c.delegate_id == principal.user_id,
                delegations.c.agency_code == principal.agency,
                delegations.c.revoked_at.is_(None),
                delegations.c.valid_from <= now,
                delegations.c.valid_until > now,
            )
        )
    ).all()
    # scope None: any delegation will do (reading the delegator's inbox).
    if not any(scope is None or str(DelegationScope.ALL) in r.scopes or str(scope) in r.scopes for r in rows):
        raise AppError(c.NO_DELEGATION, {"on_behalf_of": target, "scope": str(scope or "any")})
    delegator = await DirectoryRepo(session).user(target)
    if delegator is None or not delegator.active or delegator.agency_code != principal.agency:
        raise AppError(c.NO_DELEGATION, {"on_behalf_of": target})
    return Actor(
        user_id=delegator.id,
        agency=delegator.agency_code,
        unit_id=delegator.unit_id,
        roles=delegator.roles,
        acted_by=principal.user_id,
    )
