"""Inboxes: counts per box and one page of one box for the current user."""

from __future__ import annotations

from vanthu_routing.domain.actors import Actor
from vanthu_routing.repos.inbox import Box, BoxCount, InboxFilter, InboxPage, InboxRepo, Who
from vanthu_routing.services.context import RoutingContext


def who_of(actor: Actor) -> Who:
    keys = [f"u:{actor.user_id}"]
    if actor.is_unit_head and actor.unit_id:
        keys.append(f"o:{actor.unit_id}")
    return Who(
        user_id=actor.user_id, agency=actor.agency, keys=tuple(keys), is_leader=actor.is_leader, person=actor.person
    )


class InboxService:
    def __init__(self, ctx: RoutingContext) -> None:
        self.ctx = ctx

    def _window(self):
        today = self.ctx.clock.today()
        return today, self.ctx.calendar.add_working_days(today, self.ctx.due_soon_working_days)

    async def counts(self, actor: Actor) -> dict[Box, BoxCount]:
        today, soon = self._window()
        async with self.ctx.uow.read() as session:
            return await InboxRepo(session).counts(who_of(actor), today, soon)

    async def page(self, actor: Actor, box: Box, flt: InboxFilter) -> InboxPage:
        today, soon = self._window()
        async with self.ctx.uow.read() as session:
            return await InboxRepo(session).page(who_of(actor), box, flt, today, soon)
