"""Dependencies shared by the routers: the services, the acting user, the delegation header."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from vanthu_routing.domain.actors import Actor
from vanthu_routing.services.actors import resolve_actor
from vanthu_routing.services.context import RoutingContext
from vanthu_runtime.auth import CurrentPrincipal

ON_BEHALF_HEADER = "Vanthu-On-Behalf-Of"


def get_ctx(request: Request) -> RoutingContext:
    return request.app.state.routing


Ctx = Annotated[RoutingContext, Depends(get_ctx)]
OnBehalfOf = Annotated[
    str | None,
    Header(
        alias=ON_BEHALF_HEADER,
        description="Act for this user under an active delegation (ủy quyền); recorded with every action",
    ),
]


def service(name: str):
    def get(request: Request):
        return getattr(request.app.state, name)

    return Depends(get)


async def current_actor(principal: CurrentPrincipal, ctx: Ctx, on_behalf_of: OnBehalfOf = None) -> Actor:
    """The identity whose inbox and rights apply (the delegator's, under a delegation)."""
    async with ctx.uow.read() as session:
        return await resolve_actor(session, principal, on_behalf_of, None, ctx.clock.now())


CurrentActor = Annotated[Actor, Depends(current_actor)]
