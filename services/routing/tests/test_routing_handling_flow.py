"""One incoming document from registration to completion, on real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from routing_support import Harness, registered, seed_agency, unit_id
from sqlalchemy import func, select

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events import registry as reg
from vanthu_routing.repository import assignments, handlings


async def _handling_for(h: Harness, document_id: str) -> dict:
    return await h.call("GET", f"/api/v1/documents/{document_id}/handling", "leader")


async def test_document_from_registration_to_completion(routing: Harness) -> None:
    h = routing
    await seed_agency(h)
    document_id = str(uuid.uuid4())
    env = await h.publish(reg.DOCUMENT_REGISTERED.type, registered(h.agency, document_id), actor="clerk")
    accepted = await h.wait_event("routing.handling.accepted", document_id=document_id)
    assert accepted["payload"]["status_code"] == "03" and accepted["payload"]["channel"] == "axis"
    assert accepted["payload"]["sender"]["organ_id"] == "000.00.00.G22"

    # It waits in the leaders' inbox, with a count, and they were notified.
    counts = await h.call("GET", "/api/v1/inbox", "leader")
    assert counts["waiting"]["total"] == 1
    waiting = await h.call("GET", "/api/v1/inbox/waiting", "deputy")
    assert [i["document_id"] for i in waiting["items"]] == [document_id]
    assert (await h.call("GET", "/api/v1/inbox", "spec_a"))["waiting"]["total"] == 0

    # A redelivered event (same id) and the same document under a new event id open nothing new.
    js = h.nc.jetstream()
    await js.publish("vanthu.evt.registry.document.registered", env.model_dump_json().encode())
    await h.publish(reg.DOCUMENT_REGISTERED.type, registered(h.agency, document_id), actor="clerk")
    await asyncio.sleep(1.0)
    async with h.app.state.routing.uow.read() as session:
        count = (
            await session.execute(select(func.count()).where(handlings.c.document_id == document_id))
        ).scalar_one()
    assert count == 1
    assert len(h.events("routing.handling.accepted", document_id=document_id)) == 1

    handling = await _handling_for(h, document_id)
    hid = handling["id"]
    deadline = (datetime.now(UTC) + timedelta(days=20)).date()
    assigned = await h.call(
        "POST",
        f"/api/v1/handlings/{hid}/assignments",
        "leader",
        json={
            "assignees": [
                {
                    "kind": "unit",
                    "assignee_id": unit_id(h, "pa"),
                    "role": "main",
                    "deadline": deadline.isoformat(),
                },
                {"kind": "unit", "assignee_id": unit_id(h, "pb"), "role": "support"},
                {"kind": "user", "assignee_id": h.people["clerk"].id, "role": "info"},
            ],
            "instruction": "Phòng A chủ trì, phòng B phối hợp; báo cáo trước hạn",
            "version": handling["version"],
        },
    )
    main = next(a for a in assigned["assignments"] if a["role"] == "main")
    support = next(a for a in assigned["assignments"] if a["role"] == "support")
    assert support["deadline"] == handling["deadline"]  # the document's default handling period
    first = await h.wait_event("routing.handling.assigned", document_id=document_id)
    assert first["payload"]["status_code"] == "04"
    assert {(a["kind"], a["role"]) for a in first["payload"]["assignees"]} == {
        ("unit", "main"),
        ("unit", "support"),
        ("user", "info"),
    }
    # Each assignee is notified, a unit through its head (not its specialists): in their list,
    # and by an event each, queued in the same transaction as the assignment.
    info = next(a for a in assigned["assignments"] if a["role"] == "info")

    async def assigned_to(who: str) -> list[str]:
        notes = (await h.call("GET", "/api/v1/notifications", who))["items"]
        return [n["ref_id"] for n in notes if n["kind"] == "assigned"]

    for who, assignment in (("head_a", main), ("head_b", support), ("clerk", info)):
        assert await assigned_to(who) == [assignment["id"]]
        await h.wait_event(
            "routing.notification.created", user_id=h.people[who].id, kind="assigned", ref_id=assignment["id"]
        )
    assert await assigned_to("spec_a") == []

    # Only people in the tree (and leaders, the văn thư) read the handling.
    outsider = await h.call("GET", f"/api/v1/handlings/{hid}", "spec_b", expect=403)
    assert outsider["code"] == "routing.not_yours"
    await h.call("GET", f"/api/v1/handlings/{hid}", "head_b")  # its unit supports

    # The unit head sees it in xử lý chính and passes it to a specialist.
    head_inbox = await h.call("GET", "/api/v1/inbox/main", "head_a")
    assert [i["assignment_id"] for i in head_inbox["items"]] == [main["id"]]
    assert (await h.call("GET", "/api/v1/inbox", "head_b"))["support"]["total"] == 1
    down = await h.call(
        "POST",
        f"/api/v1/handlings/{hid}/assignments",
        "head_a",
        json={
            "assignees": [
                {
                    "kind": "user",
                    "assignee_id": h.people["spec_a"].id,
                    "role": "main",
                    "deadline": (deadline - timedelta(days=3)).isoformat(),
                }
            ],
            "parent_assignment_id": main["id"],
        },
    )
    specialist = next(a for a in down["assignments"] if a["parent_id"] == main["id"])
    await h.wait_for(
        lambda: len(h.events("routing.handling.assigned", document_id=document_id)) == 2, "re-assign"
    )

    # Bad input, each with its stable code.
    other = await h.call(
        "POST",
        f"/api/v1/handlings/{hid}/assignments",
        "head_a",
        expect=422,
        json={
            "assignees": [{"kind": "user", "assignee_id": h.people["spec_b"].id, "role": "support"}],
            "parent_assignment_id": main["id"],
        },
    )
    assert other["code"] == "routing.outside_unit"
    outside = await h.call(
        "POST",
        f"/api/v1/handlings/{hid}/assignments",
        "leader",
        expect=422,
        json={"assignees": [{"kind": "unit", "assignee_id": "unit-of-another-agency", "role": "support"}]},
    )
    assert outside["code"] == "routing.outside_agency" and outside["message_vi"]
    past = await h.call(
        "POST",
        f"/api/v1/handlings/{hid}/assignments",
        "leader",
        expect=422,
        json={
            "assignees": [
                {
                    "kind": "user",
                    "assignee_id": h.people["spec_b"].id,
                    "role": "support",
                    "deadline": "2020-01-01",
                }
            ]
        },
    )
    assert past["code"] == "routing.deadline_in_past"
    not_mine = await h.call(
        "POST", f"/api/v1/assignments/{specialist['id']}/progress", "spec_b", expect=403, json={"percent": 10}
    )
    assert not_mine["code"] == "routing.not_yours"
    second_main = await h.call(
        "POST",
        f"/api/v1/handlings/{hid}/assignments",
        "leader",
        expect=409,
        json={"assignees": [{"kind": "unit", "assignee_id": unit_id(h, "pa1"), "role": "main"}]},
    )
    assert second_main["code"] == "routing.main_handler_exists"

    # Two conflicting actions on the same version: exactly one wins, the other gets 409.
    version = specialist["version"]
    results = await asyncio.gather(
        h.client.post(
            f"/api/v1/assignments/{specialist['id']}/progress",
            headers=h.token("spec_a"),
            json={"percent": 30, "note": "Đang tổng hợp", "version": version},
        ),
        h.client.post(
            f"/api/v1/assignments/{specialist['id']}/return",
            headers=h.token("spec_a"),
            json={"reason": "Không đủ thông tin", "version": version},
        ),
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 409).json()
    assert loser["code"] == "version_conflict"
    winner = next(r for r in results if r.status_code == 200)
    if "return" in str(winner.request.url):
        # The return won: the head hands it to the specialist again.
        again = await h.call(
            "POST",
            f"/api/v1/handlings/{hid}/assignments",
            "head_a",
            json={
                "assignees": [{"kind": "user", "assignee_id": h.people["spec_a"].id, "role": "main"}],
                "parent_assignment_id": main["id"],
            },
        )
        specialist = next(
            a for a in again["assignments"] if a["parent_id"] == main["id"] and a["state"] == "pending"
        )
        await h.call("POST", f"/api/v1/assignments/{specialist['id']}/acknowledge", "spec_a", json={})
    else:
        # Progress won: acknowledging afterwards is a transition the state machine refuses.
        late = await h.call(
            "POST", f"/api/v1/assignments/{specialist['id']}/acknowledge", "spec_a", expect=409, json={}
        )
        assert late["code"] == "routing.transition_not_allowed"
    progressed = await h.call(
        "POST",
        f"/api/v1/assignments/{specialist['id']}/progress",
        "spec_a",
        json={"percent": 60, "note": "Đã có dự thảo trả lời"},
    )
    assert next(a for a in progressed["assignments"] if a["id"] == specialist["id"])["percent"] == 60
    await h.call(
        "POST",
        f"/api/v1/assignments/{specialist['id']}/complete",
        "spec_a",
        json={"result": "Đã trình dự thảo"},
    )
    no_draft = await h.call(
        "POST",
        f"/api/v1/assignments/{main['id']}/complete",
        "head_a",
        expect=404,
        json={"result": "x", "reply_draft_id": "no-such-draft"},
    )
    assert no_draft["code"] == "routing.draft_not_found"
    done = await h.call(
        "POST",
        f"/api/v1/assignments/{main['id']}/complete",
        "head_a",
        json={"result": "Đã trả lời bằng Công văn số 45/UBND-VP"},
    )
    assert done["state"] == "completed"
    assert {a["state"] for a in done["assignments"] if a["id"] == support["id"]} == {"closed"}
    completed = await h.wait_event("routing.handling.completed", document_completed=True)
    assert completed["payload"]["status_code"] == "06"

    # The sender-visible statuses, in order, each once.
    await asyncio.sleep(0.3)
    mine = [e for e in h.events("routing.handling.") if e["payload"]["document_id"] == document_id]
    codes_seen = [e["payload"]["status_code"] for e in mine if e["payload"]["status_code"]]
    assert codes_seen == ["03", "04", "05", "06"]
    kinds = [e["type"] for e in mine]
    assert kinds[0] == "routing.handling.accepted" and kinds[-1] == "routing.handling.completed"
    assert kinds.index("routing.handling.assigned") < kinds.index("routing.handling.progressed")
    # Every action records who acted.
    history = (await h.call("GET", f"/api/v1/handlings/{hid}", "leader"))["history"]
    assert {"accepted", "assigned", "progress", "complete"} <= {x["action"] for x in history}
    # Nothing open remains in anyone's inbox.
    async with h.app.state.routing.uow.read() as session:
        still_open = (
            await session.execute(
                select(func.count()).where(assignments.c.handling_id == hid, assignments.c.is_open.is_(True))
            )
        ).scalar_one()
    assert still_open == 0


async def test_refusal_from_the_registry_is_status_02(routing: Harness) -> None:
    h = routing
    await seed_agency(h)
    document_id = str(uuid.uuid4())
    await h.publish(reg.DOCUMENT_REGISTERED.type, registered(h.agency, document_id))
    await h.wait_event("routing.handling.accepted", document_id=document_id)
    await h.publish(
        reg.DOCUMENT_RETURNED.type,
        reg.IncomingReturned(
            document_id=document_id,
            agency_code=h.agency,
            channel=reg.Channel.AXIS,
            sender=reg.OrganRef(organ_id="000.00.00.G22", organ_name="Bộ Nội vụ"),
            reason="Gửi nhầm cơ quan",
            returned_at=datetime.now(UTC),
        ),
    )
    refused = await h.wait_event("routing.handling.refused", document_id=document_id)
    assert refused["payload"]["status_code"] == "02" and refused["payload"]["reason"] == "Gửi nhầm cơ quan"
    handling = await _handling_for(h, document_id)
    assert handling["state"] == "refused"
    assert (await h.call("GET", "/api/v1/inbox", "leader"))["waiting"]["total"] == 0


async def test_direct_forward_to_the_proposed_unit(routing_factory) -> None:
    """Where the agency's rules allow it, the văn thư's proposal is the assignment (no leader step)."""
    async with routing_factory(direct_forward=True) as h:
        await seed_agency(h)
        document_id = str(uuid.uuid4())
        await h.publish(
            reg.DOCUMENT_REGISTERED.type,
            registered(h.agency, document_id, proposed_unit_id=unit_id(h, "pa"), urgency="khan"),
            actor=h.people["clerk"].id,
        )
        assigned = await h.wait_event("routing.handling.assigned", document_id=document_id)
        assert assigned["payload"]["status_code"] == "04"
        assert assigned["payload"]["assigned_by"] == h.people["clerk"].id
        [assignee] = assigned["payload"]["assignees"]
        assert (assignee["kind"], assignee["assignee_id"], assignee["role"]) == (
            "unit",
            unit_id(h, "pa"),
            "main",
        )
        # khẩn: 3 working days from today, not the normal 10.
        calendar, today = h.app.state.routing.calendar, h.app.state.routing.clock.today()
        assert assignee["deadline"] == calendar.add_working_days(today, 3).isoformat()
        assert (await h.call("GET", "/api/v1/inbox", "leader"))["waiting"]["total"] == 0
        box = await h.call("GET", "/api/v1/inbox/main?urgency=khan", "head_a")
        assert [i["document_id"] for i in box["items"]] == [document_id]
        # A unit the directory does not know: the leaders decide instead of failing the event.
        lost = str(uuid.uuid4())
        await h.publish(
            reg.DOCUMENT_REGISTERED.type, registered(h.agency, lost, proposed_unit_id="no-such-unit")
        )
        await h.wait_event("routing.handling.accepted", document_id=lost)
        waiting = await h.call("GET", "/api/v1/inbox/waiting", "leader")
        assert [i["document_id"] for i in waiting["items"]] == [lost]


async def test_an_event_that_breaks_its_contract_is_dead_lettered(routing: Harness) -> None:
    h = routing
    dead: list = []

    async def on_dead(msg) -> None:
        if msg.headers and h.agency.encode() in msg.data:
            dead.append(msg)

    sub = await h.nc.subscribe("vanthu.dlq.routing.routing_documents", cb=on_dead)
    try:
        broken = Envelope[dict](
            type=reg.DOCUMENT_REGISTERED.type,
            source="registry",
            agency=h.agency,
            payload={"document_id": "x", "agency_code": h.agency},  # most required facts missing
        )
        await h.nc.jetstream().publish(
            "vanthu.evt.registry.document.registered",
            broken.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(broken.id)},
        )
        [msg] = await h.wait_for(lambda: dead, "the dead letter")
        assert msg.headers["Vanthu-Error-Code"] == "routing.invalid_event"
        assert msg.headers["Vanthu-Deliveries"] == "1"  # not retried: it can never succeed
    finally:
        await sub.unsubscribe()
