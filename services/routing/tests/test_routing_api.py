"""The REST surface: OpenAPI, authentication, coded errors, the calendar helpers."""

from __future__ import annotations

from routing_support import Harness

from vanthu_contracts.events.common import Role


async def test_openapi_documents_every_area(routing: Harness) -> None:
    response = await routing.client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    paths = set(doc["paths"])
    for path in (
        "/api/v1/handlings/{handling_id}/assignments",
        "/api/v1/assignments/{assignment_id}/progress",
        "/api/v1/assignments/{assignment_id}/urge",
        "/api/v1/inbox/{box}",
        "/api/v1/drafts/{draft_id}/review",
        "/api/v1/drafts/{draft_id}/opinion-rounds",
        "/api/v1/delegations",
        "/api/v1/tasks/statistics",
        "/api/v1/notifications",
        "/api/v1/calendar/deadline",
    ):
        assert path in paths, path
    operation_ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert "handling-assign" in operation_ids


async def test_errors_are_coded_and_bilingual(routing: Harness) -> None:
    h = routing
    await h.add_person("spec_a", None, Role.SPECIALIST)  # a token is all these calls need
    anonymous = await h.client.get("/api/v1/inbox")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    bad = await h.call("POST", "/api/v1/assignments/x/progress", "spec_a", expect=422, json={"percent": 101})
    assert bad["code"] == "validation_error" and bad["details"]["errors"]
    missing = await h.call("POST", "/api/v1/assignments/nope/acknowledge", "spec_a", expect=404, json={})
    assert missing["code"] == "routing.assignment_not_found"
    assert missing["message_vi"] and missing["message_en"] and missing["message_vi"] != missing["message_en"]
    unknown_box = await h.call("GET", "/api/v1/inbox/everything", "spec_a", expect=422)
    assert unknown_box["code"] == "validation_error"


async def test_calendar_helpers(routing: Harness) -> None:
    h = routing
    await h.add_person("spec_a", None, Role.SPECIALIST)
    due = await h.call("GET", "/api/v1/calendar/deadline?start=2026-02-13&working_days=1", "spec_a")
    assert due["deadline"] == "2026-02-23"  # Tết Bính Ngọ in between
    days_off = await h.call("GET", "/api/v1/calendar/2026/days-off", "spec_a")
    assert "2026-02-17" in days_off and "2026-09-02" in days_off
