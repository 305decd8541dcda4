"""The handling state machine: every allowed and every forbidden transition, the rules of
assigning, and invariants under random action sequences (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from vanthu_contracts.events import routing as c
from vanthu_contracts.events.routing import AssigneeKind, HandlingRole, SenderStatus
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.handling import (
    OPEN_STATES,
    Action,
    AssignmentState,
    Handling,
    HandlingState,
    NewAssignee,
    UnitTree,
    next_state,
)
from vanthu_routing.domain.rules import RuleBroken

AGENCY = "000.00.12.H99"
TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = AssignmentState
R = HandlingRole
A = Action

# The expected table, written out by hand (not derived from the code under test).
# (role, from-state, action) -> to-state; every triple missing here must be refused.
EXPECTED: dict[tuple[R, S, A], S] = {}
for _role in R:
    for _state in (S.PENDING, S.ACKNOWLEDGED, S.IN_PROGRESS):
        EXPECTED[(_role, _state, A.WITHDRAW)] = S.WITHDRAWN
        EXPECTED[(_role, _state, A.CLOSE)] = S.CLOSED
        EXPECTED[(_role, _state, A.EXTEND)] = _state
        EXPECTED[(_role, _state, A.URGE)] = _state
for _role in (R.MAIN, R.SUPPORT):
    EXPECTED[(_role, S.PENDING, A.ACKNOWLEDGE)] = S.ACKNOWLEDGED
    EXPECTED[(_role, S.PENDING, A.PROGRESS)] = S.IN_PROGRESS
    EXPECTED[(_role, S.ACKNOWLEDGED, A.PROGRESS)] = S.IN_PROGRESS
    EXPECTED[(_role, S.IN_PROGRESS, A.PROGRESS)] = S.IN_PROGRESS
    EXPECTED[(_role, S.PENDING, A.COMPLETE)] = S.COMPLETED
    EXPECTED[(_role, S.ACKNOWLEDGED, A.COMPLETE)] = S.COMPLETED
    EXPECTED[(_role, S.IN_PROGRESS, A.COMPLETE)] = S.COMPLETED
    EXPECTED[(_role, S.PENDING, A.RETURN)] = S.RETURNED
    EXPECTED[(_role, S.ACKNOWLEDGED, A.RETURN)] = S.RETURNED
    EXPECTED[(_role, S.IN_PROGRESS, A.RETURN)] = S.RETURNED
    EXPECTED[(_role, S.PENDING, A.REASSIGN)] = S.ACKNOWLEDGED
    EXPECTED[(_role, S.ACKNOWLEDGED, A.REASSIGN)] = S.ACKNOWLEDGED
    EXPECTED[(_role, S.IN_PROGRESS, A.REASSIGN)] = S.IN_PROGRESS
EXPECTED[(R.INFO, S.PENDING, A.ACKNOWLEDGE)] = S.COMPLETED

ALL_TRIPLES = list(itertools.product(R, S, A))


@pytest.mark.parametrize(("role", "state", "action"), ALL_TRIPLES, ids=lambda v: str(v))
def test_every_transition_is_allowed_or_refused_as_the_table_says(role: R, state: S, action: A) -> None:
    expected = EXPECTED.get((role, state, action))
    if expected is None:
        with pytest.raises(RuleBroken) as info:
            next_state(role, state, action)
        assert info.value.code is c.TRANSITION_NOT_ALLOWED
        assert info.value.fmt == {"state": str(state)}
    else:
        assert next_state(role, state, action) is expected


def test_the_table_covers_both_outcomes() -> None:
    allowed = sum(1 for t in ALL_TRIPLES if t in EXPECTED)
    assert 0 < allowed < len(ALL_TRIPLES)
    # Terminal states accept nothing at all.
    for role, state, action in ALL_TRIPLES:
        if state not in OPEN_STATES:
            assert (role, state, action) not in EXPECTED


# -- fixtures of an agency --------------------------------------------------------------

LEADER = Actor("u-ld", AGENCY, "vp", frozenset({"lanh_dao"}))
DEPUTY = Actor("u-pld", AGENCY, "vp", frozenset({"pho_lanh_dao"}))
HEAD_A = Actor("u-tpa", AGENCY, "pa", frozenset({"truong_phong"}))
HEAD_B = Actor("u-tpb", AGENCY, "pb", frozenset({"truong_phong"}))
SPEC_A1 = Actor("u-a1", AGENCY, "pa", frozenset({"chuyen_vien"}))
SPEC_A2 = Actor("u-a2", AGENCY, "pa1", frozenset({"chuyen_vien"}))
SPEC_B1 = Actor("u-b1", AGENCY, "pb", frozenset({"chuyen_vien"}))
CLERK = Actor("u-vt", AGENCY, "vp", frozenset({"van_thu"}))
STRANGER = Actor("u-x", "000.00.13.H99", "zz", frozenset({"lanh_dao"}))

TREE = UnitTree(
    agency=AGENCY,
    unit_parent={"vp": None, "pa": None, "pa1": "pa", "pb": None},
    user_unit={
        "u-ld": "vp",
        "u-pld": "vp",
        "u-tpa": "pa",
        "u-tpb": "pb",
        "u-a1": "pa",
        "u-a2": "pa1",
        "u-b1": "pb",
        "u-vt": "vp",
    },
)


def unit(uid: str, role: R = R.MAIN, deadline: date | None = None) -> NewAssignee:
    return NewAssignee(AssigneeKind.UNIT, uid, role, deadline)


def user(uid: str, role: R = R.MAIN, deadline: date | None = None) -> NewAssignee:
    return NewAssignee(AssigneeKind.USER, uid, role, deadline)


_ids = itertools.count(1)


def new_handling() -> Handling:
    h = Handling(
        id="h1",
        document_id="d1",
        agency=AGENCY,
        state=HandlingState.WAITING,
        urgency="thuong",
        subject="V/v báo cáo",
        default_deadline=TODAY + timedelta(days=14),
        created_at=NOW,
    )
    assert h.accept() is SenderStatus.ACCEPTED
    return h


def assign(h: Handling, actor: Actor, people: list[NewAssignee], parent: str | None = None):
    return h.assign(
        actor,
        people,
        ids=[f"a{next(_ids)}" for _ in people],
        instruction="Xử lý theo quy định",
        today=TODAY,
        now=NOW,
        tree=TREE,
        parent_id=parent,
    )


def broken(code, fn, *args, **kwargs) -> RuleBroken:
    with pytest.raises(RuleBroken) as info:
        fn(*args, **kwargs)
    assert info.value.code is code, info.value.code.code
    return info.value


# -- assigning ---------------------------------------------------------------------------


def test_leader_assigns_one_main_any_support_and_info() -> None:
    h = new_handling()
    effect = assign(h, LEADER, [unit("pa"), unit("pb", R.SUPPORT), user("u-vt", R.INFO)])
    assert effect.status is SenderStatus.ASSIGNED
    assert [a.role for a in effect.assignments] == [R.MAIN, R.SUPPORT, R.INFO]
    assert h.state is HandlingState.IN_HANDLING
    # A second batch adds helpers but never a second main.
    more = assign(h, DEPUTY, [user("u-b1", R.SUPPORT)])
    assert more.status is None
    broken(c.MAIN_HANDLER_EXISTS, assign, h, LEADER, [user("u-a1")])


@pytest.mark.parametrize(
    ("people", "code"),
    [
        ([], c.MAIN_HANDLER_REQUIRED),
        ([unit("pb", R.SUPPORT)], c.MAIN_HANDLER_REQUIRED),
        ([unit("pa"), unit("pb")], c.MAIN_HANDLER_REQUIRED),
        ([unit("pa"), unit("pa", R.SUPPORT)], c.DUPLICATE_ASSIGNEE),
        ([unit("nowhere")], c.OUTSIDE_AGENCY),
        ([user("u-elsewhere")], c.OUTSIDE_AGENCY),
        ([unit("pa", deadline=TODAY - timedelta(days=1))], c.DEADLINE_IN_PAST),
    ],
)
def test_bad_top_level_assignments_are_refused(people: list[NewAssignee], code) -> None:
    h = new_handling()
    broken(code, assign, h, LEADER, people)
    assert h.assignments == [] and h.state is HandlingState.WAITING


@pytest.mark.parametrize("actor", [HEAD_A, SPEC_A1, CLERK, STRANGER])
def test_only_the_agency_leaders_assign_at_the_top(actor: Actor) -> None:
    broken(c.NOT_A_LEADER, assign, new_handling(), actor, [unit("pa")])


def test_unit_head_reassigns_down_inside_the_unit_only() -> None:
    h = new_handling()
    top = assign(h, LEADER, [unit("pa", deadline=TODAY + timedelta(days=10)), unit("pb", R.SUPPORT)])
    main_unit, support_unit = top.assignments
    # Another unit's head cannot act on pa's assignment.
    broken(c.NOT_YOURS, assign, h, HEAD_B, [user("u-b1")], parent=main_unit.id)
    broken(c.OUTSIDE_UNIT, assign, h, HEAD_A, [user("u-b1")], parent=main_unit.id)
    broken(
        c.DEADLINE_AFTER_PARENT,
        assign,
        h,
        HEAD_A,
        [user("u-a1", deadline=TODAY + timedelta(days=11))],
        parent=main_unit.id,
    )
    down = assign(h, HEAD_A, [user("u-a1", deadline=TODAY + timedelta(days=5)), unit("pa1", R.SUPPORT)], main_unit.id)
    assert down.status is SenderStatus.IN_PROGRESS  # work visibly started
    assert main_unit.state is S.ACKNOWLEDGED
    # …and further down any depth: the sub-unit pa1 is inside pa.
    deeper = assign(h, SPEC_A1, [user("u-a2", R.SUPPORT)], down.assignments[0].id)
    assert deeper.assignments[0].parent_id == down.assignments[0].id
    # A support unit re-assigns only support or info roles.
    broken(c.ROLE_NOT_ALLOWED, assign, h, HEAD_B, [user("u-b1")], parent=support_unit.id)
    assert assign(h, HEAD_B, [user("u-b1", R.SUPPORT)], support_unit.id).status is None


def test_info_assignment_is_read_and_done() -> None:
    h = new_handling()
    _, info = assign(h, LEADER, [unit("pa"), user("u-b1", R.INFO)]).assignments
    broken(c.TRANSITION_NOT_ALLOWED, h.progress, SPEC_B1, info.id, "x", 10, NOW)
    broken(c.TRANSITION_NOT_ALLOWED, assign, h, SPEC_B1, [user("u-b1", R.INFO)], info.id)
    h.acknowledge(SPEC_B1, info.id, NOW)
    assert info.state is S.COMPLETED


def test_progress_then_completion_by_the_main_handler_completes_the_document() -> None:
    h = new_handling()
    main, support = assign(h, LEADER, [unit("pa"), unit("pb", R.SUPPORT)]).assignments
    specialist = assign(h, HEAD_A, [user("u-a1")], main.id).assignments[0]
    broken(c.NOT_YOURS, h.progress, SPEC_B1, specialist.id, "x", 10, NOW)
    assert h.acknowledge(SPEC_A1, specialist.id, NOW).status is None
    first = h.progress(SPEC_A1, specialist.id, "Đang dự thảo", 40, NOW)
    assert first.status is None  # 05 was already reached by the re-assignment
    done = h.complete(SPEC_A1, specialist.id, "Đã dự thảo trả lời", None, TODAY, NOW)
    assert not done.document_completed and h.state is HandlingState.IN_HANDLING
    final = h.complete(HEAD_A, main.id, "Đã trả lời bằng công văn", "draft-1", TODAY, NOW)
    assert final.document_completed and final.status is SenderStatus.COMPLETED
    assert support in final.closed and support.state is S.CLOSED
    assert h.state is HandlingState.COMPLETED
    broken(c.HANDLING_CLOSED, h.progress, HEAD_B, support.id, "late", 10, NOW)


def test_return_sends_the_document_back_to_the_leaders_inbox() -> None:
    h = new_handling()
    main, _ = assign(h, LEADER, [unit("pa"), unit("pb", R.SUPPORT)]).assignments
    child = assign(h, HEAD_A, [user("u-a1")], main.id).assignments[0]
    broken(c.REASON_REQUIRED, h.return_, HEAD_A, main.id, "  ", NOW)
    returned = h.return_(HEAD_A, main.id, "Không thuộc chức năng của phòng", NOW)
    assert returned.returned_to == LEADER.user_id
    assert main.state is S.RETURNED and child.state is S.WITHDRAWN
    assert h.state is HandlingState.WAITING
    # The leader re-assigns the main role; no second 04 goes to the sender.
    broken(c.DUPLICATE_ASSIGNEE, assign, h, LEADER, [unit("pb")])
    assert assign(h, LEADER, [user("u-a1")]).status is None


def test_withdraw_by_the_assigner_only_takes_the_subtree_back() -> None:
    h = new_handling()
    main, support = assign(h, LEADER, [unit("pa"), unit("pb", R.SUPPORT)]).assignments
    child = assign(h, HEAD_A, [user("u-a1")], main.id).assignments[0]
    broken(c.NOT_YOURS, h.withdraw, SPEC_A1, main.id, NOW)
    broken(c.NOT_YOURS, h.withdraw, DEPUTY, main.id, NOW)  # neither the assigner nor the head
    effect = h.withdraw(HEAD_A, child.id, NOW)  # the unit head takes the specialist's back
    assert [a.id for a in effect.withdrawn] == [child.id]
    effect = h.withdraw(LEADER, main.id, NOW)
    assert main.state is S.WITHDRAWN and h.state is HandlingState.WAITING
    assert support.is_open
    broken(c.TRANSITION_NOT_ALLOWED, h.withdraw, LEADER, main.id, NOW)


def test_extension_requested_by_the_handler_and_decided_by_the_assigner() -> None:
    h = new_handling()
    deadline = TODAY + timedelta(days=5)
    main = assign(h, LEADER, [unit("pa", deadline=deadline)]).assignments[0]
    broken(c.EXTENSION_NOT_LATER, h.request_extension, HEAD_A, main.id, deadline, "cần thêm thời gian", TODAY)
    broken(c.REASON_REQUIRED, h.request_extension, HEAD_A, main.id, deadline + timedelta(days=3), "", TODAY)
    broken(c.NO_EXTENSION_PENDING, h.decide_extension, LEADER, main.id, True, "", NOW)
    h.request_extension(HEAD_A, main.id, deadline + timedelta(days=3), "Chờ số liệu của Sở Tài chính", TODAY)
    broken(c.EXTENSION_PENDING, h.request_extension, HEAD_A, main.id, deadline + timedelta(days=4), "x", TODAY)
    broken(c.NOT_YOURS, h.decide_extension, HEAD_A, main.id, True, "", NOW)
    extended = h.decide_extension(LEADER, main.id, True, "", NOW)
    assert extended.new_deadline == deadline + timedelta(days=3) and main.deadline == extended.new_deadline
    h.request_extension(HEAD_A, main.id, deadline + timedelta(days=9), "Thêm nữa", TODAY)
    rejected = h.decide_extension(LEADER, main.id, False, "Không đồng ý", NOW)
    assert rejected.reason == "Không đồng ý" and main.deadline == deadline + timedelta(days=3)


def test_urging_is_for_leaders_and_the_chain_above() -> None:
    h = new_handling()
    main = assign(h, LEADER, [unit("pa")]).assignments[0]
    child = assign(h, HEAD_A, [user("u-a1")], main.id).assignments[0]
    assert h.check_urge(DEPUTY, child.id) is child
    assert h.check_urge(HEAD_A, child.id) is child
    broken(c.NOT_YOURS, h.check_urge, SPEC_B1, child.id)
    broken(c.NOT_YOURS, h.check_urge, STRANGER, child.id)


def test_refusal_is_the_end_and_never_follows_completion() -> None:
    h = new_handling()
    main = assign(h, LEADER, [unit("pa")]).assignments[0]
    refused = h.refuse("Gửi nhầm cơ quan", NOW)
    assert refused is not None and refused.status is SenderStatus.REFUSED
    assert main.state is S.WITHDRAWN and h.state is HandlingState.REFUSED
    broken(c.HANDLING_CLOSED, assign, h, LEADER, [unit("pb")])
    done = new_handling()
    m = assign(done, LEADER, [unit("pa")]).assignments[0]
    done.complete(HEAD_A, m.id, "xong", None, TODAY, NOW)
    assert done.refuse("late", NOW) is None


def test_delegated_actor_records_on_whose_behalf() -> None:
    h = new_handling()
    delegated = Actor(LEADER.user_id, AGENCY, "vp", LEADER.roles, acted_by="u-pld")
    created = assign(h, delegated, [unit("pa")]).assignments[0]
    assert created.assigned_by == LEADER.user_id and created.assigned_on_behalf_of == LEADER.user_id
    assert delegated.person == "u-pld"


# -- invariants under random sequences -------------------------------------------------

PEOPLE = [unit("pa"), unit("pb"), unit("pa1"), user("u-a1"), user("u-a2"), user("u-b1"), user("u-vt")]
ACTORS = [LEADER, DEPUTY, HEAD_A, HEAD_B, SPEC_A1, SPEC_A2, SPEC_B1, CLERK]


class HandlingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.h = new_handling()
        self.statuses: list[SenderStatus] = [SenderStatus.ACCEPTED]

    def _record(self, effect) -> None:
        if effect is not None and effect.status is not None:
            self.statuses.append(effect.status)

    def _try(self, fn, *args) -> None:
        try:
            self._record(fn(*args))
        except RuleBroken:
            pass

    @rule(
        actor=st.sampled_from(ACTORS),
        people=st.lists(
            st.tuples(st.sampled_from(PEOPLE), st.sampled_from(list(R)), st.integers(0, 20)), max_size=3
        ),
        parent=st.integers(-1, 30),
    )
    def assign(self, actor, people, parent) -> None:
        parent_id = None if parent < 0 or parent >= len(self.h.assignments) else self.h.assignments[parent].id
        batch = [NewAssignee(p.kind, p.assignee_id, role, TODAY + timedelta(days=d)) for p, role, d in people]
        self._try(
            lambda: self.h.assign(
                actor,
                batch,
                ids=[f"x{next(_ids)}" for _ in batch],
                instruction="",
                today=TODAY,
                now=NOW,
                tree=TREE,
                parent_id=parent_id,
            )
        )

    @precondition(lambda self: self.h.assignments)
    @rule(
        actor=st.sampled_from(ACTORS),
        index=st.integers(0, 30),
        action=st.sampled_from(["ack", "progress", "complete", "return", "withdraw"]),
    )
    def act(self, actor, index, action) -> None:
        a = self.h.assignments[index % len(self.h.assignments)]
        calls = {
            "ack": lambda: self.h.acknowledge(actor, a.id, NOW),
            "progress": lambda: self.h.progress(actor, a.id, "", 50, NOW),
            "complete": lambda: self.h.complete(actor, a.id, "", None, TODAY, NOW),
            "return": lambda: self.h.return_(actor, a.id, "lý do", NOW),
            "withdraw": lambda: self.h.withdraw(actor, a.id, NOW),
        }
        self._try(calls[action])

    @rule()
    def refuse(self) -> None:
        self._record(self.h.refuse("x", NOW))

    @invariant()
    def at_most_one_open_main_per_level(self) -> None:
        parents = {None} | {a.id for a in self.h.assignments}
        for parent in parents:
            mains = [a for a in self.h.open_children(parent) if a.role is R.MAIN]
            assert len(mains) <= 1

    @invariant()
    def exactly_one_main_while_in_handling(self) -> None:
        mains = [a for a in self.h.open_children(None) if a.role is R.MAIN]
        if self.h.state is HandlingState.IN_HANDLING:
            assert len(mains) == 1
        else:
            assert mains == []

    @invariant()
    def closed_handling_has_no_open_assignment(self) -> None:
        if self.h.is_closed:
            assert not any(a.is_open for a in self.h.assignments)

    @invariant()
    def open_assignments_have_open_parents(self) -> None:
        for a in self.h.assignments:
            if a.is_open and a.parent_id is not None:
                assert self.h.get(a.parent_id).is_open

    @invariant()
    def children_deadlines_fit_the_parent(self) -> None:
        for a in self.h.assignments:
            if a.parent_id is not None and a.deadline is not None:
                parent = self.h.get(a.parent_id)
                assert parent.deadline is None or a.deadline <= parent.deadline

    @invariant()
    def sender_statuses_are_unique_and_in_order(self) -> None:
        assert len(self.statuses) == len(set(self.statuses))
        order = [SenderStatus.ACCEPTED, SenderStatus.ASSIGNED, SenderStatus.IN_PROGRESS, SenderStatus.COMPLETED]
        progress = [s for s in self.statuses if s is not SenderStatus.REFUSED]
        assert progress == sorted(progress, key=order.index)
        if SenderStatus.REFUSED in self.statuses:
            assert self.statuses[-1] is SenderStatus.REFUSED
            assert SenderStatus.COMPLETED not in self.statuses


HandlingMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_handling_invariants = HandlingMachine.TestCase
