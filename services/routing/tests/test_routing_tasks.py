"""Task tracking: every (state, action) pair, the VPCP statistics, and the flow over REST."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from routing_support import Harness, seed_agency, unit_id

from vanthu_contracts.events import routing as c
from vanthu_contracts.events.routing import TaskState
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.rules import RuleBroken
from vanthu_routing.domain.tasks import Task, TaskAction, TaskStats, next_task_state

T, X = TaskState, TaskAction
EXPECTED = {
    (T.NOT_STARTED, X.REPORT): T.IN_PROGRESS,
    (T.IN_PROGRESS, X.REPORT): T.IN_PROGRESS,
    (T.NOT_STARTED, X.SUBMIT): T.AWAITING_CONFIRMATION,
    (T.IN_PROGRESS, X.SUBMIT): T.AWAITING_CONFIRMATION,
    (T.NOT_STARTED, X.DELEGATE): T.IN_PROGRESS,
    (T.IN_PROGRESS, X.DELEGATE): T.IN_PROGRESS,
    (T.AWAITING_CONFIRMATION, X.CONFIRM): T.DONE,
    (T.AWAITING_CONFIRMATION, X.REOPEN): T.IN_PROGRESS,
    (T.NOT_STARTED, X.PAUSE): T.PAUSED,
    (T.IN_PROGRESS, X.PAUSE): T.PAUSED,
    (T.AWAITING_CONFIRMATION, X.PAUSE): T.PAUSED,
    (T.PAUSED, X.RESUME): T.IN_PROGRESS,
    (T.NOT_STARTED, X.CANCEL): T.CANCELLED,
    (T.IN_PROGRESS, X.CANCEL): T.CANCELLED,
    (T.AWAITING_CONFIRMATION, X.CANCEL): T.CANCELLED,
    (T.PAUSED, X.CANCEL): T.CANCELLED,
}


@pytest.mark.parametrize(("state", "action"), list(itertools.product(T, X)), ids=str)
def test_every_task_transition(state: TaskState, action: TaskAction) -> None:
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(RuleBroken) as info:
            next_task_state(state, action)
        assert info.value.code is c.TRANSITION_NOT_ALLOWED
    else:
        assert next_task_state(state, action) is expected


AGENCY = "000.00.12.H99"
LEADER = Actor("ld", AGENCY, "vp", frozenset({"lanh_dao"}))
HEAD = Actor("tp", AGENCY, "pa", frozenset({"truong_phong"}))
OTHER = Actor("tpb", AGENCY, "pb", frozenset({"truong_phong"}))
NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


def task(deadline: date | None, state: TaskState = T.NOT_STARTED, completed: datetime | None = None) -> Task:
    return Task("t", AGENCY, None, "Báo cáo", "pa", None, "ld", deadline, state, NOW, completed)


def test_who_may_do_what() -> None:
    t = task(date(2026, 3, 20))
    with pytest.raises(RuleBroken) as info:
        t.act(OTHER, X.REPORT, NOW)
    assert info.value.code is c.NOT_YOURS
    with pytest.raises(RuleBroken):
        t.act(HEAD, X.CONFIRM, NOW)  # the owner cannot confirm their own work
    t.act(HEAD, X.SUBMIT, NOW)
    with pytest.raises(RuleBroken):
        t.act(HEAD, X.CONFIRM, NOW)
    assert t.act(LEADER, X.CONFIRM, NOW) is T.DONE and t.completed_at == NOW and t.percent == 100


def test_statistics_follow_the_vpcp_categories() -> None:
    today = date(2026, 3, 15)
    stats = TaskStats()
    for t in (
        task(date(2026, 3, 20), T.DONE, datetime(2026, 3, 12, tzinfo=UTC)),  # done on time
        task(date(2026, 3, 10), T.DONE, datetime(2026, 3, 12, tzinfo=UTC)),  # done late
        task(date(2026, 3, 20), T.IN_PROGRESS),  # not done, in time
        task(date(2026, 3, 14), T.AWAITING_CONFIRMATION),  # not done, overdue
        task(date(2026, 3, 1), T.PAUSED),  # paused and overdue
        task(None, T.IN_PROGRESS),
        task(None, T.DONE, datetime(2026, 3, 12, tzinfo=UTC)),
        task(date(2026, 3, 1), T.CANCELLED),
    ):
        stats.add(t, today)
    assert (stats.total, stats.done_on_time, stats.done_late) == (8, 1, 1)
    assert (stats.not_done_in_time, stats.not_done_overdue, stats.paused) == (1, 2, 1)
    assert (stats.no_deadline_open, stats.no_deadline_done, stats.cancelled) == (1, 1, 1)


async def test_task_flow_over_rest(routing: Harness) -> None:
    h = routing
    await seed_agency(h)
    today = h.app.state.routing.clock.today()
    deadline = today + timedelta(days=10)
    denied = await h.call(
        "POST", "/api/v1/tasks", "head_a", expect=403,
        json={"title": "x", "owner_unit_id": unit_id(h, "pa")},
    )
    assert denied["code"] == "routing.not_a_leader"
    task = await h.call(
        "POST",
        "/api/v1/tasks",
        "leader",
        json={
            "title": "Xây dựng kế hoạch chuyển đổi số năm 2026",
            "owner_unit_id": unit_id(h, "pa"),
            "deadline": deadline.isoformat(),
            "expected_result": "Kế hoạch trình UBND tỉnh",
            "source_document_id": "3f1c2d4e-0000-4000-8000-000000000001",
        },
    )
    assert task["state"] == "chua_thuc_hien" and task["overdue"] is False
    created = await h.wait_event("routing.task.created", task_id=task["id"])
    assert created["payload"]["owner_unit_id"] == unit_id(h, "pa")

    late_child = await h.call(
        "POST", f"/api/v1/tasks/{task['id']}/subtasks", "head_a", expect=422,
        json={"title": "Dự thảo", "owner_unit_id": unit_id(h, "pa1"), "deadline": (deadline + timedelta(days=1)).isoformat()},
    )
    assert late_child["code"] == "routing.deadline_after_parent"
    outside = await h.call(
        "POST", f"/api/v1/tasks/{task['id']}/subtasks", "head_a", expect=422,
        json={"title": "Dự thảo", "owner_unit_id": unit_id(h, "pb"), "deadline": deadline.isoformat()},
    )
    assert outside["code"] == "routing.outside_unit"
    child = await h.call(
        "POST",
        f"/api/v1/tasks/{task['id']}/subtasks",
        "head_a",
        json={"title": "Dự thảo kế hoạch", "owner_unit_id": unit_id(h, "pa1"),
              "assignee_id": h.people["spec_a1"].id, "deadline": (deadline - timedelta(days=2)).isoformat()},
    )
    assert (await h.call("GET", f"/api/v1/tasks/{task['id']}", "leader"))["state"] == "dang_thuc_hien"
    await h.wait_event("routing.task.assigned", task_id=child["id"])
    await h.call("POST", f"/api/v1/tasks/{child['id']}/actions", "spec_a1", json={"action": "report", "percent": 50, "note": "Đã có đề cương"})
    await h.call("POST", f"/api/v1/tasks/{child['id']}/actions", "spec_a1", json={"action": "submit", "note": "Đã xong dự thảo"})
    await h.call("POST", f"/api/v1/tasks/{child['id']}/actions", "head_a", json={"action": "confirm"})

    submitted = await h.call("POST", f"/api/v1/tasks/{task['id']}/actions", "head_a", json={"action": "submit", "note": "Đã trình"})
    assert submitted["state"] == "cho_xac_nhan"
    not_theirs = await h.call("POST", f"/api/v1/tasks/{task['id']}/actions", "head_a", expect=403, json={"action": "confirm"})
    assert not_theirs["code"] == "routing.not_yours"
    reopened = await h.call(
        "POST", f"/api/v1/tasks/{task['id']}/actions", "leader", json={"action": "reopen", "note": "Bổ sung kinh phí"}
    )
    assert reopened["state"] == "dang_thuc_hien"
    stale = await h.call(
        "POST", f"/api/v1/tasks/{task['id']}/actions", "head_a", expect=409,
        json={"action": "submit", "version": submitted["version"]},
    )
    assert stale["code"] == "version_conflict"
    await h.call("POST", f"/api/v1/tasks/{task['id']}/actions", "head_a", json={"action": "submit"})
    # Confirmed after the deadline: done, but late.
    h.clock.advance(timedelta(days=15))
    done = await h.call("POST", f"/api/v1/tasks/{task['id']}/actions", "leader", json={"action": "confirm"})
    assert done["state"] == "hoan_thanh" and done["overdue"] is True
    confirmed = await h.wait_event("routing.task.confirmed", task_id=task["id"])
    assert confirmed["payload"]["overdue"] is True

    # A second task still open past its deadline, and a cancelled one.
    open_task = await h.call(
        "POST", "/api/v1/tasks", "leader",
        json={"title": "Tổng kết", "owner_unit_id": unit_id(h, "pb"),
              "deadline": (h.app.state.routing.clock.today() + timedelta(days=1)).isoformat()},
    )
    gone = await h.call(
        "POST", "/api/v1/tasks", "leader", json={"title": "Hủy", "owner_unit_id": unit_id(h, "pb")},
    )
    await h.call("POST", f"/api/v1/tasks/{gone['id']}/actions", "leader", json={"action": "cancel"})
    h.clock.advance(timedelta(days=5))
    stats = await h.call("GET", "/api/v1/tasks/statistics?by_unit=true", "leader")
    total = stats["total"]
    assert total["total"] == 3 and total["done_late"] == 1 and total["not_done_overdue"] == 1
    assert total["cancelled"] == 1 and total["done_on_time"] == 0
    assert stats["units"][unit_id(h, "pb")]["not_done_overdue"] == 1
    overdue_list = await h.call("GET", "/api/v1/tasks?overdue=true", "leader")
    assert {t["id"] for t in overdue_list} >= {open_task["id"]}
    history = (await h.call("GET", f"/api/v1/tasks/{task['id']}", "leader"))["history"]
    assert [x["action"] for x in history] == ["created", "submit", "reopen", "submit", "confirm"]
    # The reminder sweep covers tasks too: the open, overdue one is reminded once.
    swept = await h.app.state.reminders.sweep()
    assert swept.overdue == 1
    assert (await h.app.state.reminders.sweep()).overdue == 0
    notes = await h.call("GET", "/api/v1/notifications", "head_b")
    assert any(n["kind"] == "overdue" and n["ref_id"] == open_task["id"] for n in notes["items"])
