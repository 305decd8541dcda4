"""Task tracking (theo dõi nhiệm vụ), after the Government Office's model (QĐ 42/2014/QĐ-TTg).

A leader gives a task to a unit (owner), with a deadline and an expected result, from a
document's instruction or on its own. The owner passes it down (a sub-task inside the unit),
reports progress, and reports it done; the assigner confirms (hoàn thành) or sends it back.
States: chưa thực hiện, đang thực hiện, chờ xác nhận, hoàn thành, tạm dừng, hủy — each also
trong hạn / quá hạn. Statistics follow the VPCP reports: due and done on time / late; not done,
still in time / overdue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from vanthu_contracts.events import routing as c
from vanthu_contracts.events.routing import TaskState
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.rules import RuleBroken

T = TaskState


class TaskAction(StrEnum):
    REPORT = "report"
    SUBMIT = "submit"  # báo cáo hoàn thành → chờ xác nhận
    CONFIRM = "confirm"
    REOPEN = "reopen"  # từ chối xác nhận → thực hiện lại
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    DELEGATE = "delegate"  # giao xuống (a sub-task)


BY_OWNER = frozenset({TaskAction.REPORT, TaskAction.SUBMIT, TaskAction.DELEGATE})
ACTIVE = (T.NOT_STARTED, T.IN_PROGRESS)

TASK_TRANSITIONS: dict[tuple[TaskState, TaskAction], TaskState] = {
    **{(s, TaskAction.REPORT): T.IN_PROGRESS for s in ACTIVE},
    **{(s, TaskAction.SUBMIT): T.AWAITING_CONFIRMATION for s in ACTIVE},
    **{(s, TaskAction.DELEGATE): T.IN_PROGRESS for s in ACTIVE},
    (T.AWAITING_CONFIRMATION, TaskAction.CONFIRM): T.DONE,
    (T.AWAITING_CONFIRMATION, TaskAction.REOPEN): T.IN_PROGRESS,
    **{(s, TaskAction.PAUSE): T.PAUSED for s in (*ACTIVE, T.AWAITING_CONFIRMATION)},
    (T.PAUSED, TaskAction.RESUME): T.IN_PROGRESS,
    **{(s, TaskAction.CANCEL): T.CANCELLED for s in (*ACTIVE, T.AWAITING_CONFIRMATION, T.PAUSED)},
}


def next_task_state(state: TaskState, action: TaskAction) -> TaskState:
    try:
        return TASK_TRANSITIONS[(state, action)]
    except KeyError:
        raise RuleBroken(
            c.TRANSITION_NOT_ALLOWED, {"state": str(state), "action": str(action)}, state=str(state)
        ) from None


@dataclass
class Task:
    id: str
    agency: str
    parent_id: str | None
    title: str
    owner_unit_id: str
    assignee_id: str | None
    assigned_by: str
    deadline: date | None
    state: TaskState
    created_at: datetime
    completed_at: datetime | None = None
    percent: int = 0
    version: int = 1

    def is_owner(self, actor: Actor) -> bool:
        if actor.agency != self.agency:
            return False
        if self.assignee_id is not None and actor.user_id == self.assignee_id:
            return True
        return actor.heads_unit(self.owner_unit_id)

    def is_assigner(self, actor: Actor) -> bool:
        return actor.agency == self.agency and (actor.user_id == self.assigned_by or actor.is_head)

    def act(self, actor: Actor, action: TaskAction, now: datetime, percent: int | None = None) -> TaskState:
        allowed = self.is_owner(actor) if action in BY_OWNER else self.is_assigner(actor)
        if not allowed:
            raise RuleBroken(c.NOT_YOURS, {"task_id": self.id})
        self.state = next_task_state(self.state, action)
        if percent is not None:
            self.percent = percent
        if action is TaskAction.SUBMIT:
            self.percent = 100
        if self.state is T.DONE:
            self.completed_at = now
        return self.state

    def overdue(self, today: date, local_day_of: Callable[[datetime], date] | None = None) -> bool:
        """quá hạn: past the deadline without being done, or done after it."""
        if self.deadline is None or self.state is T.CANCELLED:
            return False
        if self.state is T.DONE and self.completed_at is not None:
            done_day = local_day_of(self.completed_at) if local_day_of else self.completed_at.date()
            return done_day > self.deadline
        return today > self.deadline


def check_new_task(deadline: date | None, today: date, parent_deadline: date | None) -> None:
    if deadline is not None and deadline < today:
        raise RuleBroken(c.DEADLINE_IN_PAST)
    if parent_deadline is not None and (deadline is None or deadline > parent_deadline):
        raise RuleBroken(c.DEADLINE_AFTER_PARENT)


@dataclass
class TaskStats:
    """One row of the VPCP report."""

    total: int = 0
    done_on_time: int = 0
    done_late: int = 0
    not_done_in_time: int = 0
    not_done_overdue: int = 0
    no_deadline_done: int = 0
    no_deadline_open: int = 0
    paused: int = 0
    cancelled: int = 0

    def add(self, task: Task, today: date, local_day_of: Callable[[datetime], date] | None = None) -> None:
        self.total += 1
        if task.state is T.CANCELLED:
            self.cancelled += 1
            return
        if task.state is T.PAUSED:
            self.paused += 1
        if task.deadline is None:
            if task.state is T.DONE:
                self.no_deadline_done += 1
            else:
                self.no_deadline_open += 1
            return
        late = task.overdue(today, local_day_of)
        if task.state is T.DONE:
            if late:
                self.done_late += 1
            else:
                self.done_on_time += 1
        elif late:
            self.not_done_overdue += 1
        else:
            self.not_done_in_time += 1
