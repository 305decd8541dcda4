"""Reminders: due soon and overdue, to the handler and the assigner; each sent once per deadline.

A sweep runs every `reminder_interval_s` (and on demand, for operators and tests). It also
publishes the end of delegations that expired since the last sweep.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import and_, select

from vanthu_contracts.events.routing import AssigneeKind, NotificationKind
from vanthu_routing.domain.secrecy import notice_label
from vanthu_routing.repos.notifications import NotificationRepo
from vanthu_routing.repository import assignments, handlings, tasks
from vanthu_routing.services.context import RoutingContext
from vanthu_routing.services.delegation import DelegationService
from vanthu_routing.services.notifier import Assignee, Message
from vanthu_runtime.uow import Tx

log = logging.getLogger("vanthu.routing.reminders")
R = TypeVar("R")
OPEN_TASK_STATES = ("chua_thuc_hien", "dang_thuc_hien", "cho_xac_nhan", "tam_dung")


@dataclass
class SweepResult:
    due_soon: int = 0
    overdue: int = 0
    delegations_ended: int = 0


def _kind(deadline: date, today: date) -> NotificationKind:
    return NotificationKind.OVERDUE if deadline < today else NotificationKind.DUE_SOON


async def _first_time(
    tx: Tx, tag: str, items: list[tuple[R, str, date]], today: date, now: datetime, result: SweepResult
) -> list[tuple[R, NotificationKind]]:
    """Of (row, id, deadline), the reminders not sent before, with their kind, counted in `result`;
    all remembered in one statement (each reminder goes out once per deadline)."""
    kinds = [_kind(deadline, today) for _, _, deadline in items]
    keys = [f"{tag}:{id_}:{kind}:{deadline.isoformat()}" for (_, id_, deadline), kind in zip(items, kinds, strict=True)]
    fresh = await NotificationRepo(tx.session).remember_reminders(keys, now)
    due = [(row, kind) for (row, _, _), kind, key in zip(items, kinds, keys, strict=True) if key in fresh]
    for _, kind in due:
        if kind is NotificationKind.OVERDUE:
            result.overdue += 1
        else:
            result.due_soon += 1
    return due


def _owner(task: Any) -> Assignee:
    """Who a task reminder goes to: its assignee, else its owning unit (that is, the unit's heads)."""
    if task["assignee_id"]:
        return (task["agency_code"], AssigneeKind.USER, task["assignee_id"])
    return (task["agency_code"], AssigneeKind.UNIT, task["owner_unit_id"])


class ReminderService:
    def __init__(self, ctx: RoutingContext, delegations: DelegationService) -> None:
        self.ctx = ctx
        self.delegations = delegations

    async def sweep(self) -> SweepResult:
        result = SweepResult()
        today = self.ctx.clock.today()
        soon = self.ctx.calendar.add_working_days(today, self.ctx.due_soon_working_days)
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            await self._assignments(tx, today, soon, result)
            await self._tasks(tx, today, soon, result)
            result.delegations_ended = await self.delegations.end_expired(tx, now)
        return result

    async def _assignments(self, tx: Tx, today: date, soon: date, result: SweepResult) -> None:
        rows = (
            await tx.session.execute(
                select(
                    assignments.c.id,
                    assignments.c.kind,
                    assignments.c.assignee_id,
                    assignments.c.assigned_by,
                    assignments.c.deadline,
                    handlings.c.agency_code,
                    handlings.c.subject,
                    handlings.c.code_notation,
                    handlings.c.secrecy,
                    handlings.c.incoming_number,
                )
                .join(handlings, handlings.c.id == assignments.c.handling_id)
                .where(
                    and_(
                        assignments.c.is_open.is_(True),
                        assignments.c.deadline.is_not(None),
                        assignments.c.deadline <= soon,
                    )
                )
            )
        ).all()
        now = self.ctx.clock.now()
        due = await _first_time(tx, "a", [(r, r.id, r.deadline) for r in rows], today, now, result)
        handlers = await self.ctx.notifier.recipients_of(
            tx, ((r.agency_code, AssigneeKind(r.kind), r.assignee_id) for r, _ in due)
        )
        notices: dict[str, list[tuple[list[str], Message]]] = defaultdict(list)
        for r, kind in due:
            overdue = kind is NotificationKind.OVERDUE
            label = notice_label(r.code_notation, r.subject, r.secrecy, r.incoming_number)
            when = f"{r.deadline:%d/%m/%Y}"
            handler = handlers[(r.agency_code, AssigneeKind(r.kind), r.assignee_id)]
            vi = f"Quá hạn xử lý ({when}): {label}" if overdue else f"Sắp đến hạn xử lý ({when}): {label}"
            en = f"Overdue since {r.deadline.isoformat()}: {label}" if overdue else f"Due {r.deadline.isoformat()}: {label}"
            notices[r.agency_code].append(([*handler, r.assigned_by], Message(kind, vi, en, "assignment", r.id)))
        await self._notify(tx, notices, now)

    async def _tasks(self, tx: Tx, today: date, soon: date, result: SweepResult) -> None:
        rows = (
            await tx.session.execute(
                select(tasks).where(
                    tasks.c.state.in_(OPEN_TASK_STATES), tasks.c.deadline.is_not(None), tasks.c.deadline <= soon
                )
            )
        ).mappings().all()
        now = self.ctx.clock.now()
        due = await _first_time(tx, "t", [(r, r["id"], r["deadline"]) for r in rows], today, now, result)
        owners_of = await self.ctx.notifier.recipients_of(tx, (_owner(r) for r, _ in due))
        notices: dict[str, list[tuple[list[str], Message]]] = defaultdict(list)
        for r, kind in due:
            overdue = kind is NotificationKind.OVERDUE
            when = f"{r['deadline']:%d/%m/%Y}"
            vi = f"Nhiệm vụ quá hạn ({when}): {r['title']}" if overdue else f"Nhiệm vụ sắp đến hạn ({when}): {r['title']}"
            en = f"Task overdue ({r['deadline'].isoformat()}): {r['title']}" if overdue else f"Task due {r['deadline'].isoformat()}: {r['title']}"
            notices[r["agency_code"]].append(
                ([*owners_of[_owner(r)], r["assigned_by"]], Message(kind, vi[:500], en[:500], "task", r["id"]))
            )
        await self._notify(tx, notices, now)

    async def _notify(
        self, tx: Tx, notices: dict[str, list[tuple[list[str], Message]]], now: datetime
    ) -> None:
        # One statement for each agency's notifications (and one for their events), not a
        # statement per reminder.
        for agency, items in notices.items():
            await self.ctx.notifier.notify_each(tx, agency, items, now)

    async def run(self, interval_s: float) -> None:
        while True:
            try:
                result = await self.sweep()
                if result.due_soon or result.overdue or result.delegations_ended:
                    log.info("reminders: %s", result)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reminder sweep failed; next try in %.0fs", interval_s)
            await asyncio.sleep(interval_s)
