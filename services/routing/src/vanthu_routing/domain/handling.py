"""Handling of one incoming document: the assignment tree and its state machine.

A registered document opens a `Handling`. A leader assigns it: exactly one xử lý chính (MAIN),
any number of phối hợp (SUPPORT) and nhận để biết (INFO). Each assignee may re-assign down
inside their unit (a child assignment under theirs), acknowledge, report progress, complete,
or return it to the assigner; the assigner may withdraw. The document is done when the
top-level MAIN completes.

Everything here is pure: the service loads the aggregate, calls one method, stores the result
and turns the returned effects into events. Which transitions exist is one table, `TRANSITIONS`,
so the tests can walk every (role, state, action) triple.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from vanthu_contracts.events import routing as c
from vanthu_contracts.events.common import Role
from vanthu_contracts.events.routing import AssigneeKind, HandlingRole, SenderStatus
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.rules import RuleBroken


class HandlingState(StrEnum):
    WAITING = "waiting"  # chờ phân công: no open top-level main handler
    IN_HANDLING = "in_handling"  # đang xử lý
    COMPLETED = "completed"  # hoàn thành
    REFUSED = "refused"  # từ chối / trả lại nơi gửi


class AssignmentState(StrEnum):
    PENDING = "pending"  # chờ xử lý (mới nhận)
    ACKNOWLEDGED = "acknowledged"  # đã nhận
    IN_PROGRESS = "in_progress"  # đang xử lý
    COMPLETED = "completed"  # đã xử lý (để biết: đã xem)
    RETURNED = "returned"  # đã trả lại người giao
    WITHDRAWN = "withdrawn"  # bị thu hồi
    CLOSED = "closed"  # kết thúc vì văn bản / cấp trên đã hoàn thành


OPEN_STATES = frozenset({AssignmentState.PENDING, AssignmentState.ACKNOWLEDGED, AssignmentState.IN_PROGRESS})


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    PROGRESS = "progress"
    COMPLETE = "complete"
    RETURN = "return"
    WITHDRAW = "withdraw"  # by the assigner
    REASSIGN = "reassign"  # create children under this assignment
    CLOSE = "close"  # by the system, when an ancestor or the document completes
    EXTEND = "extend"  # the assigner approved a later deadline
    URGE = "urge"  # đôn đốc


S = AssignmentState
R = HandlingRole
A = Action
_WORK_ROLES = (R.MAIN, R.SUPPORT)


def _table() -> dict[tuple[HandlingRole, AssignmentState, Action], AssignmentState]:
    table: dict[tuple[HandlingRole, AssignmentState, Action], AssignmentState] = {}
    for role in HandlingRole:
        for state in OPEN_STATES:
            table[(role, state, A.WITHDRAW)] = S.WITHDRAWN
            table[(role, state, A.CLOSE)] = S.CLOSED
            table[(role, state, A.EXTEND)] = state
            table[(role, state, A.URGE)] = state
    for role in _WORK_ROLES:
        table[(role, S.PENDING, A.ACKNOWLEDGE)] = S.ACKNOWLEDGED
        for state in OPEN_STATES:
            table[(role, state, A.PROGRESS)] = S.IN_PROGRESS
            table[(role, state, A.COMPLETE)] = S.COMPLETED
            table[(role, state, A.RETURN)] = S.RETURNED
            # Re-assigning down is itself a receipt of the document.
            table[(role, state, A.REASSIGN)] = S.ACKNOWLEDGED if state is S.PENDING else state
    # Nhận để biết: reading it is all there is to do.
    table[(R.INFO, S.PENDING, A.ACKNOWLEDGE)] = S.COMPLETED
    return table


TRANSITIONS = _table()

# Roles a child may get under a parent of a given role.
CHILD_ROLES: dict[HandlingRole, frozenset[HandlingRole]] = {
    R.MAIN: frozenset({R.MAIN, R.SUPPORT, R.INFO}),
    R.SUPPORT: frozenset({R.SUPPORT, R.INFO}),
    R.INFO: frozenset(),
}


def next_state(role: HandlingRole, state: AssignmentState, action: Action) -> AssignmentState:
    try:
        return TRANSITIONS[(role, state, action)]
    except KeyError:
        raise RuleBroken(
            c.TRANSITION_NOT_ALLOWED,
            {"role": str(role), "state": str(state), "action": str(action)},
            state=str(state),
        ) from None


@dataclass(frozen=True)
class NewAssignee:
    kind: AssigneeKind
    assignee_id: str
    role: HandlingRole
    deadline: date | None = None

    @property
    def key(self) -> str:
        return assignee_key(self.kind, self.assignee_id)


def assignee_key(kind: AssigneeKind, assignee_id: str) -> str:
    return f"{'u' if kind is AssigneeKind.USER else 'o'}:{assignee_id}"


@dataclass
class Assignment:
    id: str
    handling_id: str
    parent_id: str | None
    kind: AssigneeKind
    assignee_id: str
    role: HandlingRole
    assigned_by: str
    assigned_on_behalf_of: str | None
    deadline: date | None
    instruction: str
    state: AssignmentState
    created_at: datetime
    percent: int = 0
    result: str = ""
    reply_draft_id: str | None = None
    closed_at: datetime | None = None
    extension_requested: date | None = None
    extension_reason: str = ""
    version: int = 1
    # Set by the aggregate when it changes the row, so the service writes only what changed.
    dirty: bool = field(default=False, compare=False)

    @property
    def key(self) -> str:
        return assignee_key(self.kind, self.assignee_id)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def move(self, action: Action, now: datetime) -> None:
        new = next_state(self.role, self.state, action)
        if new not in OPEN_STATES and self.state in OPEN_STATES:
            self.closed_at = now
        self.state = new
        self.dirty = True


# -- effects: what happened, for the service to store and publish -------------------------


@dataclass(frozen=True)
class Effect:
    status: SenderStatus | None


@dataclass(frozen=True)
class Assigned(Effect):
    parent_id: str | None
    assignments: tuple[Assignment, ...]
    instruction: str


@dataclass(frozen=True)
class Acknowledged(Effect):
    assignment: Assignment


@dataclass(frozen=True)
class Progressed(Effect):
    assignment: Assignment
    note: str
    percent: int


@dataclass(frozen=True)
class Completed(Effect):
    assignment: Assignment
    document_completed: bool
    on_time: bool | None
    closed: tuple[Assignment, ...]


@dataclass(frozen=True)
class Returned(Effect):
    assignment: Assignment
    reason: str
    returned_to: str


@dataclass(frozen=True)
class Withdrawn(Effect):
    assignment: Assignment
    withdrawn: tuple[Assignment, ...]


@dataclass(frozen=True)
class Extended(Effect):
    assignment: Assignment
    old_deadline: date | None
    new_deadline: date


@dataclass(frozen=True)
class ExtensionRequested(Effect):
    assignment: Assignment
    new_deadline: date
    reason: str


@dataclass(frozen=True)
class ExtensionRejected(Effect):
    assignment: Assignment
    reason: str


@dataclass(frozen=True)
class Refused(Effect):
    reason: str
    closed: tuple[Assignment, ...]


@dataclass
class UnitTree:
    """What the rules need to know about the organisation of the agency (from the projection)."""

    agency: str
    unit_parent: dict[str, str | None]  # unit id → parent unit id, for the agency's units
    user_unit: dict[str, str | None]  # user id → unit id, for the agency's active users

    def unit_exists(self, unit_id: str) -> bool:
        return unit_id in self.unit_parent

    def user_exists(self, user_id: str) -> bool:
        return user_id in self.user_unit

    def inside(self, unit_id: str | None, root: str) -> bool:
        """True when `unit_id` is `root` or below it."""
        seen: set[str] = set()
        current = unit_id
        while current is not None and current not in seen:
            if current == root:
                return True
            seen.add(current)
            current = self.unit_parent.get(current)
        return False


@dataclass
class Handling:
    id: str
    document_id: str
    agency: str
    state: HandlingState
    urgency: str
    subject: str
    default_deadline: date | None
    created_at: datetime
    assignments: list[Assignment] = field(default_factory=list)
    statuses_sent: set[SenderStatus] = field(default_factory=set)
    completed_at: datetime | None = None
    version: int = 1

    # -- queries ---------------------------------------------------------------------------

    def get(self, assignment_id: str) -> Assignment:
        for a in self.assignments:
            if a.id == assignment_id:
                return a
        raise RuleBroken(c.UNKNOWN_ASSIGNMENT, {"assignment_id": assignment_id})

    def children(self, parent_id: str | None) -> list[Assignment]:
        return [a for a in self.assignments if a.parent_id == parent_id]

    def open_children(self, parent_id: str | None) -> list[Assignment]:
        return [a for a in self.children(parent_id) if a.is_open]

    def descendants(self, assignment_id: str) -> list[Assignment]:
        out: list[Assignment] = []
        stack = [assignment_id]
        while stack:
            current = stack.pop()
            for child in self.children(current):
                out.append(child)
                stack.append(child.id)
        return out

    def open_main(self, parent_id: str | None = None) -> Assignment | None:
        mains = [a for a in self.open_children(parent_id) if a.role is R.MAIN]
        return mains[0] if mains else None

    @property
    def is_closed(self) -> bool:
        return self.state in (HandlingState.COMPLETED, HandlingState.REFUSED)

    # -- who may act -----------------------------------------------------------------------

    def may_read(self, actor: Actor) -> bool:
        """Leaders, the văn thư and administrators of the agency; everyone in the tree."""
        if actor.agency != self.agency:
            return False
        if actor.is_leader or actor.roles & {str(Role.CLERK), str(Role.ADMIN)}:
            return True
        return any(
            self.acts_as_assignee(actor, a) or a.assigned_by == actor.user_id for a in self.assignments
        )

    def acts_as_assignee(self, actor: Actor, assignment: Assignment) -> bool:
        if assignment.kind is AssigneeKind.USER:
            return assignment.assignee_id == actor.user_id
        return actor.heads_unit(assignment.assignee_id)

    def acts_as_assigner(self, actor: Actor, assignment: Assignment) -> bool:
        """The assigner: whoever holds the parent assignment, or the leader who assigned at the top.

        At the top level the head of the agency (lãnh đạo) may also take it back."""
        if assignment.parent_id is None:
            return actor.user_id == assignment.assigned_by or (actor.is_head and actor.agency == self.agency)
        return self.acts_as_assignee(actor, self.get(assignment.parent_id))

    def _require_assignee(self, actor: Actor, assignment: Assignment) -> None:
        if not self.acts_as_assignee(actor, assignment):
            raise RuleBroken(c.NOT_YOURS, {"assignment_id": assignment.id})

    def _require_assigner(self, actor: Actor, assignment: Assignment) -> None:
        if not self.acts_as_assigner(actor, assignment):
            raise RuleBroken(c.NOT_YOURS, {"assignment_id": assignment.id})

    def _require_open(self) -> None:
        if self.is_closed:
            raise RuleBroken(c.HANDLING_CLOSED, {"state": str(self.state)})

    # -- sender statuses -------------------------------------------------------------------

    def _reach(self, status: SenderStatus) -> SenderStatus | None:
        """The status to publish now, if this is the first time it is reached."""
        if status in self.statuses_sent or SenderStatus.COMPLETED in self.statuses_sent:
            return None
        if SenderStatus.REFUSED in self.statuses_sent:
            return None
        self.statuses_sent.add(status)
        return status

    def accept(self) -> SenderStatus | None:
        return self._reach(SenderStatus.ACCEPTED)

    def _recompute_state(self) -> None:
        if self.is_closed:
            return
        self.state = HandlingState.IN_HANDLING if self.open_main(None) else HandlingState.WAITING

    # -- actions ---------------------------------------------------------------------------

    def assign(
        self,
        actor: Actor,
        assignees: list[NewAssignee],
        *,
        ids: list[str],
        instruction: str,
        today: date,
        now: datetime,
        tree: UnitTree,
        parent_id: str | None = None,
    ) -> Assigned:
        """Assign at the top (leader) or re-assign under `parent_id` (its assignee)."""
        self._require_open()
        parent = self.get(parent_id) if parent_id is not None else None
        if parent is None:
            if not actor.is_leader or actor.agency != self.agency:
                raise RuleBroken(c.NOT_A_LEADER)
        else:
            self._require_assignee(actor, parent)
            next_state(parent.role, parent.state, A.REASSIGN)
        if not assignees:
            raise RuleBroken(c.MAIN_HANDLER_REQUIRED)
        self._check_roles(parent, assignees)
        self._check_people(parent, assignees, tree)
        self._check_deadlines(parent, assignees, today)

        created = tuple(
            Assignment(
                id=new_id,
                handling_id=self.id,
                parent_id=parent_id,
                kind=new.kind,
                assignee_id=new.assignee_id,
                role=new.role,
                assigned_by=actor.user_id,
                assigned_on_behalf_of=actor.on_behalf_of,
                deadline=new.deadline,
                instruction=instruction,
                state=S.PENDING,
                created_at=now,
                dirty=True,
            )
            for new_id, new in zip(ids, assignees, strict=True)
        )
        self.assignments.extend(created)
        if parent is not None:
            parent.move(A.REASSIGN, now)
        self._recompute_state()
        status = self._reach(SenderStatus.ASSIGNED) if parent is None else None
        if parent is not None and status is None:
            # A handler passing the work down is the first sign of work being done (05).
            status = self._reach(SenderStatus.IN_PROGRESS) if SenderStatus.ASSIGNED in self.statuses_sent else None
        return Assigned(status=status, parent_id=parent_id, assignments=created, instruction=instruction)

    def _check_roles(self, parent: Assignment | None, assignees: list[NewAssignee]) -> None:
        keys = [a.key for a in assignees]
        open_keys = {a.key for a in self.open_children(parent.id if parent else None)}
        if len(set(keys)) != len(keys) or open_keys & set(keys):
            raise RuleBroken(c.DUPLICATE_ASSIGNEE)
        if parent is not None:
            if parent.key in keys:
                raise RuleBroken(c.DUPLICATE_ASSIGNEE)
            allowed = CHILD_ROLES[parent.role]
            if any(a.role not in allowed for a in assignees):
                raise RuleBroken(c.ROLE_NOT_ALLOWED, {"parent_role": str(parent.role)})
        mains = sum(1 for a in assignees if a.role is R.MAIN)
        if mains > 1:
            raise RuleBroken(c.MAIN_HANDLER_REQUIRED, {"mains": mains})
        existing_main = self.open_main(parent.id if parent else None)
        if mains and existing_main is not None:
            raise RuleBroken(c.MAIN_HANDLER_EXISTS, {"assignment_id": existing_main.id})
        if parent is None and existing_main is None and mains == 0:
            raise RuleBroken(c.MAIN_HANDLER_REQUIRED, {"mains": 0})

    def _check_people(self, parent: Assignment | None, assignees: list[NewAssignee], tree: UnitTree) -> None:
        # The unit an assignee's re-assignment must stay inside: their unit, or the unit they are.
        root: str | None = None
        if parent is not None:
            root = parent.assignee_id if parent.kind is AssigneeKind.UNIT else tree.user_unit.get(parent.assignee_id)
        for new in assignees:
            if new.kind is AssigneeKind.UNIT:
                if not tree.unit_exists(new.assignee_id):
                    raise RuleBroken(c.OUTSIDE_AGENCY, {"assignee_id": new.assignee_id})
                unit = new.assignee_id
            else:
                if not tree.user_exists(new.assignee_id):
                    raise RuleBroken(c.OUTSIDE_AGENCY, {"assignee_id": new.assignee_id})
                unit = tree.user_unit.get(new.assignee_id)
            if parent is not None and (root is None or not tree.inside(unit, root)):
                raise RuleBroken(c.OUTSIDE_UNIT, {"assignee_id": new.assignee_id})

    def _check_deadlines(self, parent: Assignment | None, assignees: list[NewAssignee], today: date) -> None:
        for new in assignees:
            if new.deadline is None:
                continue
            if new.deadline < today:
                raise RuleBroken(c.DEADLINE_IN_PAST, {"assignee_id": new.assignee_id})
            if parent is not None and parent.deadline is not None and new.deadline > parent.deadline:
                raise RuleBroken(c.DEADLINE_AFTER_PARENT, {"assignee_id": new.assignee_id})

    def acknowledge(self, actor: Actor, assignment_id: str, now: datetime) -> Acknowledged:
        self._require_open()
        a = self.get(assignment_id)
        self._require_assignee(actor, a)
        a.move(A.ACKNOWLEDGE, now)
        return Acknowledged(status=None, assignment=a)

    def progress(self, actor: Actor, assignment_id: str, note: str, percent: int, now: datetime) -> Progressed:
        self._require_open()
        a = self.get(assignment_id)
        self._require_assignee(actor, a)
        a.move(A.PROGRESS, now)
        a.percent = percent
        return Progressed(status=self._reach(SenderStatus.IN_PROGRESS), assignment=a, note=note, percent=percent)

    def complete(
        self, actor: Actor, assignment_id: str, result: str, reply_draft_id: str | None, today: date, now: datetime
    ) -> Completed:
        self._require_open()
        a = self.get(assignment_id)
        self._require_assignee(actor, a)
        a.move(A.COMPLETE, now)
        a.percent = 100
        a.result = result
        a.reply_draft_id = reply_draft_id
        closed = self._close_all(self.descendants(a.id), now)
        document_done = a.parent_id is None and a.role is R.MAIN
        status = None
        if document_done:
            closed += self._close_all(self.assignments, now)
            self.state = HandlingState.COMPLETED
            self.completed_at = now
            status = self._reach(SenderStatus.COMPLETED)
        on_time = None if a.deadline is None else today <= a.deadline
        return Completed(status=status, assignment=a, document_completed=document_done, on_time=on_time, closed=closed)

    def return_(self, actor: Actor, assignment_id: str, reason: str, now: datetime) -> Returned:
        self._require_open()
        if not reason.strip():
            raise RuleBroken(c.REASON_REQUIRED)
        a = self.get(assignment_id)
        self._require_assignee(actor, a)
        a.move(A.RETURN, now)
        self._close_all(self.descendants(a.id), now, action=A.WITHDRAW)
        self._recompute_state()
        return Returned(status=None, assignment=a, reason=reason, returned_to=a.assigned_by)

    def withdraw(self, actor: Actor, assignment_id: str, now: datetime) -> Withdrawn:
        self._require_open()
        a = self.get(assignment_id)
        self._require_assigner(actor, a)
        a.move(A.WITHDRAW, now)
        withdrawn = (a, *self._close_all(self.descendants(a.id), now, action=A.WITHDRAW))
        self._recompute_state()
        return Withdrawn(status=None, assignment=a, withdrawn=withdrawn)

    def request_extension(
        self, actor: Actor, assignment_id: str, new_deadline: date, reason: str, today: date
    ) -> ExtensionRequested:
        self._require_open()
        a = self.get(assignment_id)
        self._require_assignee(actor, a)
        next_state(a.role, a.state, A.EXTEND)
        if not reason.strip():
            raise RuleBroken(c.REASON_REQUIRED)
        if a.extension_requested is not None:
            raise RuleBroken(c.EXTENSION_PENDING)
        if new_deadline < today:
            raise RuleBroken(c.DEADLINE_IN_PAST)
        if a.deadline is not None and new_deadline <= a.deadline:
            raise RuleBroken(c.EXTENSION_NOT_LATER)
        a.extension_requested = new_deadline
        a.extension_reason = reason
        a.dirty = True
        return ExtensionRequested(status=None, assignment=a, new_deadline=new_deadline, reason=reason)

    def decide_extension(
        self, actor: Actor, assignment_id: str, approve: bool, reason: str, now: datetime
    ) -> Extended | ExtensionRejected:
        self._require_open()
        a = self.get(assignment_id)
        self._require_assigner(actor, a)
        if a.extension_requested is None:
            raise RuleBroken(c.NO_EXTENSION_PENDING)
        requested = a.extension_requested
        a.extension_requested = None
        a.dirty = True
        if not approve:
            return ExtensionRejected(status=None, assignment=a, reason=reason)
        if a.parent_id is not None:
            parent = self.get(a.parent_id)
            if parent.deadline is not None and requested > parent.deadline:
                raise RuleBroken(c.DEADLINE_AFTER_PARENT)
        a.move(A.EXTEND, now)
        old = a.deadline
        a.deadline = requested
        return Extended(status=None, assignment=a, old_deadline=old, new_deadline=requested)

    def check_urge(self, actor: Actor, assignment_id: str) -> Assignment:
        """Leaders of the agency, and anyone above the handler in the tree, may urge."""
        a = self.get(assignment_id)
        next_state(a.role, a.state, A.URGE)
        if actor.agency != self.agency:
            raise RuleBroken(c.NOT_YOURS, {"assignment_id": a.id})
        if actor.is_leader or self.acts_as_assigner(actor, a):
            return a
        ancestor = a.parent_id
        while ancestor is not None:
            parent = self.get(ancestor)
            if self.acts_as_assignee(actor, parent):
                return a
            ancestor = parent.parent_id
        raise RuleBroken(c.NOT_YOURS, {"assignment_id": a.id})

    def refuse(self, reason: str, now: datetime) -> Refused | None:
        """The văn thư returned the document to its sender (02); ignored once it is completed."""
        if self.is_closed:
            return None
        closed = self._close_all(self.assignments, now, action=A.WITHDRAW)
        self.state = HandlingState.REFUSED
        status = self._reach(SenderStatus.REFUSED)
        return Refused(status=status, reason=reason, closed=closed)

    def _close_all(
        self, assignments: list[Assignment], now: datetime, action: Action = A.CLOSE
    ) -> tuple[Assignment, ...]:
        closed = []
        for a in assignments:
            if a.is_open:
                a.move(action, now)
                closed.append(a)
        return tuple(closed)
