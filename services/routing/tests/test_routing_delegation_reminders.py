"""Delegation with actor/on-behalf-of recorded, reminders, urging, and e-mail to a real SMTP
server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from routing_support import Harness, registered, seed_agency, unit_id

from vanthu_contracts.events import registry as reg
from vanthu_contracts.events.common import Role
from vanthu_testing._process import reserve_free_ports


class Inbox:
    """aiosmtpd handler: keeps every message the server accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    [port] = reserve_free_ports(1)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


async def _document(h: Harness) -> str:
    document_id = str(uuid.uuid4())
    await h.publish(reg.DOCUMENT_REGISTERED.type, registered(h.agency, document_id))
    await h.wait_event("routing.handling.accepted", document_id=document_id)
    return (await h.call("GET", f"/api/v1/documents/{document_id}/handling", "leader"))["id"]


async def test_delegate_acts_for_the_leader_and_it_is_recorded(routing: Harness) -> None:
    h = routing
    await seed_agency(h)
    hid = await _document(h)
    now = h.clock.now()
    leader, deputy = h.people["leader"].id, h.people["deputy"].id
    bad = await h.call(
        "POST", "/api/v1/delegations", "leader", expect=422,
        json={"delegate_id": leader, "scopes": ["handling"], "valid_from": now.isoformat(),
              "valid_until": (now + timedelta(hours=2)).isoformat()},
    )
    assert bad["code"] == "routing.delegation_invalid"
    granted = await h.call(
        "POST",
        "/api/v1/delegations",
        "leader",
        json={"delegate_id": deputy, "scopes": ["handling"], "valid_from": now.isoformat(),
              "valid_until": (now + timedelta(hours=2)).isoformat(), "note": "Đi công tác"},
    )
    await h.wait_event("routing.delegation.granted", delegation_id=granted["id"])

    # The deputy sees the leader's inbox and assigns for the leader.
    behalf = {"Vanthu-On-Behalf-Of": leader}
    counts = await h.call("GET", "/api/v1/inbox", "deputy", headers=behalf)
    assert counts["waiting"]["total"] == 1
    result = await h.call(
        "POST",
        f"/api/v1/handlings/{hid}/assignments",
        "deputy",
        headers=behalf,
        json={"assignees": [{"kind": "unit", "assignee_id": unit_id(h, "pa"), "role": "main"}]},
    )
    [a] = result["assignments"]
    assert a["assigned_by"] == leader and a["assigned_on_behalf_of"] == leader
    event = await h.wait_event("routing.handling.assigned", handling_id=hid)
    assert event["actor"] == deputy and event["on_behalf_of"] == leader
    history = (await h.call("GET", f"/api/v1/handlings/{hid}", "leader"))["history"]
    assigned = next(x for x in history if x["action"] == "assigned")
    assert assigned["actor"] == deputy and assigned["on_behalf_of"] == leader

    # Outside the scope, or for someone who never delegated: refused.
    drafts = await h.call(
        "POST", "/api/v1/drafts", "deputy", headers=behalf, expect=403,
        json={"type_name": "Công văn", "subject": "x"},
    )
    assert drafts["code"] == "routing.no_delegation"
    stranger = await h.call("GET", "/api/v1/inbox", "spec_b", headers=behalf, expect=403)
    assert stranger["code"] == "routing.no_delegation"

    # It ends by itself: after valid_until the header no longer works, and the end is published.
    h.clock.advance(timedelta(hours=3))
    expired = await h.call("GET", "/api/v1/inbox", "deputy", headers=behalf, expect=403)
    assert expired["code"] == "routing.no_delegation"
    await h.add_person("admin", unit_id(h, "vp"), Role.ADMIN)
    swept = await h.call("POST", "/api/v1/reminders/sweep", "admin")
    assert swept["delegations_ended"] == 1
    ended = await h.wait_event("routing.delegation.ended", delegation_id=granted["id"])
    assert ended["payload"]["reason"] == "expired"
    assert (await h.call("POST", "/api/v1/reminders/sweep", "admin"))["delegations_ended"] == 0
    forbidden = await h.call("POST", "/api/v1/reminders/sweep", "leader", expect=403)
    assert forbidden["code"] == "province_operator_only"


async def test_revoked_delegation_stops_at_once(routing: Harness) -> None:
    h = routing
    await seed_agency(h)
    now = h.clock.now()
    granted = await h.call(
        "POST", "/api/v1/delegations", "head_a",
        json={"delegate_id": h.people["spec_a"].id, "scopes": ["all"], "valid_from": now.isoformat(),
              "valid_until": (now + timedelta(days=2)).isoformat()},
    )
    behalf = {"Vanthu-On-Behalf-Of": h.people["head_a"].id}
    await h.call("GET", "/api/v1/inbox", "spec_a", headers=behalf)
    await h.call("POST", f"/api/v1/delegations/{granted['id']}/revoke", "head_a")
    ended = await h.wait_event("routing.delegation.ended", delegation_id=granted["id"])
    assert ended["payload"]["reason"] == "revoked"
    await h.call("GET", "/api/v1/inbox", "spec_a", headers=behalf, expect=403)
    mine = await h.call("GET", "/api/v1/delegations", "spec_a")
    assert mine[0]["active"] is False


async def test_reminders_urging_and_email(routing_factory, smtp_server) -> None:
    port, smtp = smtp_server
    async with routing_factory(smtp_host="127.0.0.1", smtp_port=port, mail_interval_s=0.1) as h:
        await seed_agency(h)
        await h.call(
            "PUT", "/api/v1/me/notification-settings", "head_a", json={"email": "truong.phong.a@example.gov.vn"}
        )
        bad_mail = await h.call("PUT", "/api/v1/me/notification-settings", "head_a", expect=422, json={"email": "x"})
        assert bad_mail["code"] == "validation_error"
        hid = await _document(h)
        today = h.app.state.routing.clock.today()
        deadline = h.app.state.routing.calendar.add_working_days(today, 1)
        result = await h.call(
            "POST",
            f"/api/v1/handlings/{hid}/assignments",
            "leader",
            json={"assignees": [{"kind": "unit", "assignee_id": unit_id(h, "pa"), "role": "main",
                                 "deadline": deadline.isoformat()}]},
        )
        aid = result["assignments"][0]["id"]
        await h.add_person("admin", unit_id(h, "vp"), Role.ADMIN)

        first = await h.call("POST", "/api/v1/reminders/sweep", "admin")
        assert first["due_soon"] >= 1
        again = await h.call("POST", "/api/v1/reminders/sweep", "admin")
        assert again["due_soon"] == 0 and again["overdue"] == 0  # each reminder once
        inbox = await h.call("GET", "/api/v1/inbox/main?due_soon=true", "head_a")
        assert [i["assignment_id"] for i in inbox["items"]] == [aid] and inbox["items"][0]["due_soon"]

        h.clock.advance(timedelta(days=10))
        late = await h.call("POST", "/api/v1/reminders/sweep", "admin")
        assert late["overdue"] >= 1
        overdue_box = await h.call("GET", "/api/v1/inbox/main?overdue=true", "head_a")
        assert overdue_box["total"] == 1 and overdue_box["items"][0]["overdue"]
        assert (await h.call("GET", "/api/v1/inbox", "head_a"))["main"]["overdue"] == 1
        kinds = {n["kind"] for n in (await h.call("GET", "/api/v1/notifications", "head_a"))["items"]}
        assert {"assigned", "due_soon", "overdue"} <= kinds
        leader_kinds = {n["kind"] for n in (await h.call("GET", "/api/v1/notifications", "leader"))["items"]}
        assert {"due_soon", "overdue"} <= leader_kinds  # the assigner hears of it too

        # Urging at three levels, counted per handler; only leaders and the chain above may urge.
        for level in ("nhac_nho", "phe_binh", "phe_binh"):
            await h.call("POST", f"/api/v1/assignments/{aid}/urge", "leader", json={"level": level, "message": "Khẩn trương"})
        nope = await h.call("POST", f"/api/v1/assignments/{aid}/urge", "spec_b", expect=403, json={"level": "kiem_diem"})
        assert nope["code"] == "routing.not_yours"
        counts = await h.call("GET", "/api/v1/urgings/counts", "leader")
        key = f"o:{unit_id(h, 'pa')}"
        assert {(c["level"], c["count"]) for c in counts if c["assignee_key"] == key} == {("nhac_nho", 1), ("phe_binh", 2)}
        urged = await h.wait_for(lambda: h.events("routing.handling.urged", level="phe_binh")[1:], "second urging")
        assert urged[0]["payload"]["count_for_handler"] == 2

        # E-mail reached the SMTP server for the head with an address, in Vietnamese.
        def mails_to_head():
            return [m for rcpt, m in smtp.messages if "truong.phong.a@example.gov.vn" in rcpt]

        def subjects() -> set[str]:
            return {str(make_header(decode_header(message_from_bytes(m)["Subject"]))) for m in mails_to_head()}

        def complete() -> bool:
            got = subjects()
            return sum(s.startswith("Phê bình") for s in got) >= 1 and any(s.startswith("Quá hạn xử lý") for s in got)

        await h.wait_for(complete, "e-mails to the unit head (overdue and phê bình)")
        assert len(mails_to_head()) >= 4
        # Users without an address are skipped, not retried for ever.
        await asyncio.sleep(0.5)
        from sqlalchemy import func, select

        from vanthu_routing.repository import notifications

        async with h.app.state.routing.uow.read() as session:
            states = dict(
                (await session.execute(
                    select(notifications.c.email_state, func.count()).group_by(notifications.c.email_state)
                )).all()
            )
        assert states.get("pending", 0) == 0 and states["sent"] >= 4 and states["skipped"] >= 1


async def test_a_sweep_costs_the_same_statements_for_three_reminders_or_twelve(routing: Harness) -> None:
    """Due assignments are remembered, their units' heads found and their notices stored in a
    few statements whatever their number (a statement per reminder was four per row)."""
    from sqlalchemy import event, func, select

    from vanthu_routing.repository import notifications

    h = routing
    await seed_agency(h)
    await h.add_person("admin", unit_id(h, "vp"), Role.ADMIN)
    today = h.app.state.routing.clock.today()
    deadline = h.app.state.routing.calendar.add_working_days(today, 1)

    head_of: dict[str, str] = {}  # assignment → the head of the unit it went to

    async def assign(count: int) -> list[str]:
        ids = []
        for i in range(count):
            hid = await _document(h)
            unit = unit_id(h, "pa" if i % 2 else "pb")
            assigned = await h.call(
                "POST", f"/api/v1/handlings/{hid}/assignments", "leader",
                json={"assignees": [{"kind": "unit", "assignee_id": unit, "role": "main", "deadline": deadline.isoformat()}]},
            )  # fmt: skip
            ids.append(assigned["assignments"][0]["id"])
            head_of[ids[-1]] = h.people["head_a" if i % 2 else "head_b"].id
        return ids

    engine = h.app.state.routing.uow.db.engine.sync_engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    async def sweep() -> tuple[int, int]:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            swept = await h.call("POST", "/api/v1/reminders/sweep", "admin")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return swept["due_soon"], len(statements)

    few = await assign(3)
    due, few_statements = await sweep()
    assert due == 3
    many = await assign(12)
    due, many_statements = await sweep()
    assert due == 12 and many_statements == few_statements, (few_statements, many_statements)
    assert (await sweep())[0] == 0  # each reminder once

    async with h.app.state.routing.uow.read() as session:
        rows = (
            await session.execute(
                select(notifications.c.user_id, notifications.c.ref_id, func.count())
                .where(notifications.c.kind == "due_soon", notifications.c.ref_id.in_(few + many))
                .group_by(notifications.c.user_id, notifications.c.ref_id)
            )
        ).all()
    per_user: dict[str, set[str]] = {}
    for user_id, ref_id, n in rows:
        assert n == 1, (user_id, ref_id, n)  # one notice per reminder and person
        per_user.setdefault(user_id, set()).add(ref_id)
    for head in {h.people["head_a"].id, h.people["head_b"].id}:
        assert per_user[head] == {a for a, its_head in head_of.items() if its_head == head}, head
    assert per_user[h.people["leader"].id] == set(few + many)  # the assigner hears of each
