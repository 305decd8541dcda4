"""Use cases of task tracking: create, pass down, report, confirm, pause, cancel, statistics."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select

from vanthu_contracts.events import routing as c
from vanthu_contracts.events.routing import AssigneeKind, DelegationScope, NotificationKind, TaskState
from vanthu_routing.clock import VIETNAM
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.tasks import Task, TaskAction, TaskStats, check_new_task
from vanthu_routing.ids import new_id
from vanthu_routing.repos.directory import DirectoryRepo
from vanthu_routing.repos.sql import check_expected, update_versioned
from vanthu_routing.repository import task_log, tasks
from vanthu_routing.services.actors import resolve_actor
from vanthu_routing.services.context import RoutingContext, envelope, rules
from vanthu_routing.services.notifier import Message
from vanthu_runtime.auth import Principal
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import Tx

EVENTS = {
    TaskAction.REPORT: c.TASK_REPORTED,
    TaskAction.SUBMIT: c.TASK_SUBMITTED,
    TaskAction.CONFIRM: c.TASK_CONFIRMED,
    TaskAction.REOPEN: c.TASK_REOPENED,
    TaskAction.PAUSE: c.TASK_PAUSED,
    TaskAction.RESUME: c.TASK_RESUMED,
    TaskAction.CANCEL: c.TASK_CANCELLED,
}


def _local_day(at: datetime) -> date:
    return at.astimezone(VIETNAM).date()


def _task(row: Any) -> Task:
    return Task(
        id=row["id"],
        agency=row["agency_code"],
        parent_id=row["parent_task_id"],
        title=row["title"],
        owner_unit_id=row["owner_unit_id"],
        assignee_id=row["assignee_id"],
        assigned_by=row["assigned_by"],
        deadline=row["deadline"],
        state=TaskState(row["state"]),
        created_at=row["created_at"],
        completed_at=row["completed_at"],
        percent=row["percent"],
        version=row["version"],
    )


class TaskService:
    def __init__(self, ctx: RoutingContext) -> None:
        self.ctx = ctx

    async def _row(self, tx_session: Any, task_id: str, agency: str) -> dict[str, Any]:
        row = (await tx_session.execute(select(tasks).where(tasks.c.id == task_id))).mappings().first()
        if row is None or row["agency_code"] != agency:
            raise AppError(c.UNKNOWN_TASK, {"task_id": task_id})
        return dict(row)

    async def _publish(self, tx: Tx, spec: Any, row: dict[str, Any], actor: Actor, note: str = "", percent: int | None = None) -> None:
        task = _task(row)
        await tx.publish(
            envelope(
                spec.type,
                c.TaskChanged(
                    task_id=task.id,
                    agency_code=task.agency,
                    parent_task_id=task.parent_id,
                    title=task.title,
                    owner_unit_id=task.owner_unit_id,
                    assignee_id=task.assignee_id,
                    assigned_by=task.assigned_by,
                    source_document_id=row["source_document_id"],
                    deadline=task.deadline,
                    expected_result=row["expected_result"],
                    state=task.state,
                    overdue=task.overdue(self.ctx.clock.today(), _local_day),
                    at=self.ctx.clock.now(),
                    note=note[:2000],
                    percent=percent,
                ),
                task.agency,
                actor,
            )
        )

    async def _log(self, tx: Tx, task_id: str, action: str, actor: Actor, note: str = "", percent: int | None = None) -> None:
        await tx.session.execute(
            insert(task_log).values(
                id=new_id(), task_id=task_id, action=action, actor=actor.person, on_behalf_of=actor.on_behalf_of,
                note=note, percent=percent, at=self.ctx.clock.now(),
            )
        )

    async def create(
        self,
        principal: Principal,
        data: dict[str, Any],
        *,
        parent_id: str | None = None,
        on_behalf_of: str | None = None,
    ) -> dict[str, Any]:
        """A leader creates a task; the owner of `parent_id` passes its task down inside the unit."""
        now = self.ctx.clock.now()
        today = self.ctx.clock.today()
        async with self.ctx.uow.begin() as tx:
            actor = await resolve_actor(tx.session, principal, on_behalf_of, DelegationScope.TASKS, now)
            owner_unit = data["owner_unit_id"]
            assignee = data.get("assignee_id")
            tree = await DirectoryRepo(tx.session).tree(actor.agency, [assignee] if assignee else [])
            if not tree.unit_exists(owner_unit) or (assignee is not None and not tree.user_exists(assignee)):
                raise AppError(c.OUTSIDE_AGENCY, {"owner_unit_id": owner_unit, "assignee_id": assignee})
            if assignee is not None and not tree.inside(tree.user_unit.get(assignee), owner_unit):
                raise AppError(c.OUTSIDE_UNIT, {"assignee_id": assignee})
            parent_deadline = None
            if parent_id is None:
                if not actor.is_leader:
                    raise AppError(c.NOT_A_LEADER)
            else:
                parent_row = await self._row(tx.session, parent_id, actor.agency)
                parent = _task(parent_row)
                check_expected(data.get("version"), parent.version, parent.id)
                if not parent.is_owner(actor):
                    raise AppError(c.NOT_YOURS, {"task_id": parent_id})
                if not tree.inside(owner_unit, parent.owner_unit_id):
                    raise AppError(c.OUTSIDE_UNIT, {"owner_unit_id": owner_unit})
                with rules():
                    parent.act(actor, TaskAction.DELEGATE, now)
                parent_deadline = parent.deadline
                await update_versioned(tx.session, tasks, parent.id, parent.version, {"state": str(parent.state)})
            with rules():
                check_new_task(data.get("deadline"), today, parent_deadline)
            row = {
                "id": new_id(),
                "agency_code": actor.agency,
                "parent_task_id": parent_id,
                "title": data["title"],
                "description": data.get("description", ""),
                "owner_unit_id": owner_unit,
                "assignee_id": assignee,
                "assigned_by": actor.user_id,
                "source_document_id": data.get("source_document_id"),
                "deadline": data.get("deadline"),
                "expected_result": data.get("expected_result", ""),
                "state": str(TaskState.NOT_STARTED),
                "percent": 0,
                "result": "",
                "created_at": now,
                "completed_at": None,
                "version": 1,
            }
            await tx.session.execute(insert(tasks).values(**row))
            await self._log(tx, row["id"], "created", actor, data.get("description", ""))
            await self._publish(tx, c.TASK_ASSIGNED if parent_id else c.TASK_CREATED, row, actor)
            owners = [assignee] if assignee else await self.ctx.notifier.recipients(tx, actor.agency, AssigneeKind.UNIT, owner_unit)
            await self.ctx.notifier.notify(
                tx, actor.agency, owners,
                Message(NotificationKind.TASK, f"Nhiệm vụ mới: {row['title'][:300]}", f"New task: {row['title'][:300]}", "task", row["id"]),
                now, actor.person,
            )
        return self._out(row)

    async def act(
        self,
        principal: Principal,
        task_id: str,
        action: TaskAction,
        *,
        note: str = "",
        percent: int | None = None,
        expected_version: int | None = None,
        on_behalf_of: str | None = None,
    ) -> dict[str, Any]:
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            actor = await resolve_actor(tx.session, principal, on_behalf_of, DelegationScope.TASKS, now)
            row = await self._row(tx.session, task_id, actor.agency)
            task = _task(row)
            check_expected(expected_version, task.version, task.id)
            with rules():
                task.act(actor, action, now, percent)
            changes: dict[str, Any] = {"state": str(task.state), "percent": task.percent, "completed_at": task.completed_at}
            if action is TaskAction.SUBMIT:
                changes["result"] = note
            changes["version"] = await update_versioned(tx.session, tasks, task.id, task.version, changes)
            row.update(changes)
            await self._log(tx, task_id, str(action), actor, note, percent)
            await self._publish(tx, EVENTS[action], row, actor, note, percent)
            to_assigner = action in (TaskAction.REPORT, TaskAction.SUBMIT)
            recipients = [task.assigned_by] if to_assigner else (
                [task.assignee_id] if task.assignee_id else await self.ctx.notifier.recipients(tx, task.agency, AssigneeKind.UNIT, task.owner_unit_id)
            )
            labels = {
                TaskAction.REPORT: ("Báo cáo tiến độ", "Progress reported"),
                TaskAction.SUBMIT: ("Chờ xác nhận hoàn thành", "Waiting for confirmation"),
                TaskAction.CONFIRM: ("Đã xác nhận hoàn thành", "Confirmed done"),
                TaskAction.REOPEN: ("Yêu cầu thực hiện lại", "Sent back to be redone"),
                TaskAction.PAUSE: ("Tạm dừng", "Paused"),
                TaskAction.RESUME: ("Tiếp tục thực hiện", "Resumed"),
                TaskAction.CANCEL: ("Đã hủy", "Cancelled"),
            }
            vi, en = labels[action]
            await self.ctx.notifier.notify(
                tx, task.agency, recipients,
                Message(NotificationKind.TASK, f"{vi}: {task.title[:300]}", f"{en}: {task.title[:300]}", "task", task.id),
                now, actor.person,
            )
        return self._out(row)

    def _out(self, row: dict[str, Any]) -> dict[str, Any]:
        task = _task(row)
        return {**row, "overdue": task.overdue(self.ctx.clock.today(), _local_day)}

    async def get(self, principal: Principal, task_id: str) -> dict[str, Any]:
        async with self.ctx.uow.read() as session:
            row = await self._row(session, task_id, principal.agency)
            log = (
                await session.execute(select(task_log).where(task_log.c.task_id == task_id).order_by(task_log.c.at, task_log.c.id))
            ).mappings().all()
            children = (
                await session.execute(select(tasks.c.id).where(tasks.c.parent_task_id == task_id))
            ).scalars().all()
        return {**self._out(row), "history": [dict(x) for x in log], "children": list(children)}

    async def list(
        self,
        principal: Principal,
        *,
        owner_unit_id: str | None,
        state: TaskState | None,
        overdue: bool | None,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        async with self.ctx.uow.read() as session:
            query = select(tasks).where(tasks.c.agency_code == principal.agency)
            if owner_unit_id:
                query = query.where(tasks.c.owner_unit_id == owner_unit_id)
            if state:
                query = query.where(tasks.c.state == str(state))
            rows = (await session.execute(query.order_by(tasks.c.deadline, tasks.c.created_at))).mappings().all()
        out = [self._out(dict(r)) for r in rows]
        if overdue is not None:
            out = [r for r in out if r["overdue"] is overdue]
        return out[offset : offset + limit]

    async def statistics(
        self, principal: Principal, *, date_from: date | None, date_to: date | None, by_unit: bool
    ) -> dict[str, Any]:
        """VPCP categories over the tasks due in [date_from, date_to] (all tasks when no period)."""
        today = self.ctx.clock.today()
        async with self.ctx.uow.read() as session:
            query = select(tasks).where(tasks.c.agency_code == principal.agency, tasks.c.parent_task_id.is_(None))
            if date_from is not None:
                query = query.where(tasks.c.deadline >= date_from)
            if date_to is not None:
                query = query.where(tasks.c.deadline <= date_to)
            rows = (await session.execute(query)).mappings().all()
        total = TaskStats()
        units: dict[str, TaskStats] = {}
        for row in rows:
            task = _task(row)
            total.add(task, today, _local_day)
            if by_unit:
                units.setdefault(task.owner_unit_id, TaskStats()).add(task, today, _local_day)
        return {
            "as_of": today,
            "date_from": date_from,
            "date_to": date_to,
            "total": asdict(total),
            "units": {unit: asdict(s) for unit, s in sorted(units.items())},
        }
