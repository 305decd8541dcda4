"""A secret document's handling: in full for those the registry lets read it and those handling
it, redacted for the agency's other leaders — in the inbox, the detail, notifications and events."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from routing_support import Harness, registered, seed_agency, unit_id

from vanthu_contracts.events import registry as reg
from vanthu_routing.domain.secrecy import SECRET_SUBJECT

SUBJECT = "V/v phương án bảo vệ mục tiêu trọng yếu năm 2027"


def _granted(h: Harness, document_id: str, who: str, source: str = "manual") -> reg.SecretAccessGranted:
    return reg.SecretAccessGranted(
        document_id=document_id,
        agency_code=h.agency,
        user_id=h.people[who].id,
        secrecy="toi_mat",
        source=source,
        granted_by=h.people["clerk"].id,
        granted_at=datetime.now(UTC),
    )


def _assign_main(h: Harness, unit: str, version: int) -> dict:
    return {
        "assignees": [{"kind": "unit", "assignee_id": unit_id(h, unit), "role": "main"}],
        "instruction": "Phòng A chủ trì, giữ bí mật theo quy định",
        "version": version,
    }


async def _secret_registered(h: Harness, secrecy: str) -> str:
    """The văn thư registered a secret document (the registry's event); returns its id."""
    await seed_agency(h)
    document_id = str(uuid.uuid4())
    clerk = h.people["clerk"].id
    facts = registered(h.agency, document_id, subject=SUBJECT, secrecy=secrecy, registered_by=clerk)
    await h.publish(reg.DOCUMENT_REGISTERED.type, facts, actor=clerk)
    return document_id


async def test_a_secret_handling_is_shown_in_full_only_to_those_with_access(routing: Harness) -> None:
    h = routing
    document_id = await _secret_registered(h, "toi_mat")
    accepted = await h.wait_event("routing.handling.accepted", document_id=document_id)
    # Kept for ever in the event stream and read by every service: never the subject.
    assert accepted["payload"]["subject"] == SECRET_SUBJECT and accepted["payload"]["secrecy"] == "toi_mat"

    # Every leader learns a secret document waits — by its number, not its subject.
    [waiting] = (await h.call("GET", "/api/v1/inbox/waiting", "deputy"))["items"]
    assert waiting["document_id"] == document_id and waiting["redacted"] is True
    assert waiting["subject"] == SECRET_SUBJECT and waiting["code_notation"] is None
    assert waiting["incoming_number"] == 17 and waiting["secrecy"] == "toi_mat"
    assert (await h.call("GET", "/api/v1/inbox", "leader"))["waiting"]["total"] == 1
    notices = await h.wait_for(
        lambda: h.events("routing.notification.created", ref_type="handling"), "notices"
    )
    assert notices and all(SUBJECT not in json.dumps(n, ensure_ascii=False) for n in notices)
    assert all("văn bản mật, số đến 17" in n["payload"]["title_vi"] for n in notices)

    detail = await h.call("GET", f"/api/v1/documents/{document_id}/handling", "leader")
    assert (
        detail["redacted"] is True and detail["subject"] == SECRET_SUBJECT and detail["code_notation"] is None
    )
    hid = detail["id"]
    refused = await h.call(
        "POST", f"/api/v1/handlings/{hid}/assignments", "leader", expect=403, json=_assign_main(h, "pa", 1)
    )
    assert refused["code"] == "routing.secret_not_granted" and refused["message_vi"] and refused["message_en"]

    # The văn thư who registered it sees it; the registry's grant lets the leader in.
    assert (await h.call("GET", f"/api/v1/handlings/{hid}", "clerk"))["subject"] == SUBJECT
    await h.publish(reg.DOCUMENT_SECRET_GRANTED.type, _granted(h, document_id, "leader"))

    async def leader_sees() -> bool:
        shown = await h.call("GET", f"/api/v1/handlings/{hid}", "leader")
        return shown["subject"] == SUBJECT and not shown["redacted"]

    await h.wait_for(leader_sees, "the leader's grant to reach routing")
    [mine] = (await h.call("GET", "/api/v1/inbox/waiting", "leader"))["items"]
    assert mine["subject"] == SUBJECT and mine["code_notation"] == "123/BNV-VP" and mine["redacted"] is False
    assert (await h.call("GET", "/api/v1/inbox/waiting", "deputy"))["items"][0]["redacted"] is True

    assigned = await h.call(
        "POST", f"/api/v1/handlings/{hid}/assignments", "leader", json=_assign_main(h, "pa", 1)
    )
    assert assigned["subject"] == SUBJECT and assigned["assignments"][0]["instruction"]
    # Handling it means reading it: the unit's head sees it in full, in the inbox and the detail.
    [item] = (await h.call("GET", "/api/v1/inbox/main", "head_a"))["items"]
    assert item["subject"] == SUBJECT and item["redacted"] is False
    assert (await h.call("GET", f"/api/v1/handlings/{hid}", "head_a"))["subject"] == SUBJECT
    main = assigned["assignments"][0]
    await h.call(
        "POST", f"/api/v1/assignments/{main['id']}/progress", "head_a",
        json={"note": "Đã lập phương án bảo vệ", "percent": 40},
    )  # fmt: skip

    # Another leader may open it (leaders see every handling) but not its details.
    other = await h.call("GET", f"/api/v1/handlings/{hid}", "deputy")
    assert other["redacted"] is True and other["subject"] == SECRET_SUBJECT
    assert [a["instruction"] for a in other["assignments"]] == [""]
    assert all(entry["note"] == "" and entry["files"] == [] for entry in other["history"])
    assert {entry["action"] for entry in other["history"]} >= {"accepted", "assigned", "progress"}
    # Nothing of the secret document went into routing's events or notifications.
    assert all(SUBJECT not in json.dumps(e, ensure_ascii=False) for e in h.events("routing."))


async def test_a_delegate_needs_a_grant_of_their_own(routing: Harness) -> None:
    h = routing
    document_id = await _secret_registered(h, "mat")
    await h.publish(reg.DOCUMENT_SECRET_GRANTED.type, _granted(h, document_id, "leader"))

    async def leader_sees() -> dict | None:
        response = await h.client.get(f"/api/v1/documents/{document_id}/handling", headers=h.token("leader"))
        shown = response.json() if response.status_code == 200 else {}
        return shown if shown.get("subject") == SUBJECT else None

    hid = (await h.wait_for(leader_sees, "the handling and the leader's grant"))["id"]
    now = h.clock.now()
    await h.call(
        "POST", "/api/v1/delegations", "leader",
        json={"delegate_id": h.people["deputy"].id, "scopes": ["handling"], "valid_from": now.isoformat(),
              "valid_until": (now + timedelta(hours=2)).isoformat()},
    )  # fmt: skip
    behalf = {"Vanthu-On-Behalf-Of": h.people["leader"].id}
    [item] = (await h.call("GET", "/api/v1/inbox/waiting", "deputy", headers=behalf))["items"]
    assert item["redacted"] is True
    refused = await h.call(
        "POST", f"/api/v1/handlings/{hid}/assignments", "deputy", expect=403, headers=behalf,
        json=_assign_main(h, "pa", 1),
    )  # fmt: skip
    assert refused["code"] == "routing.secret_not_granted"
    await h.publish(reg.DOCUMENT_SECRET_GRANTED.type, _granted(h, document_id, "deputy"))

    async def delegate_sees() -> bool:
        page = await h.call("GET", "/api/v1/inbox/waiting", "deputy", headers=behalf)
        return page["items"][0]["redacted"] is False

    await h.wait_for(delegate_sees, "the deputy's own grant")
    await h.call(
        "POST",
        f"/api/v1/handlings/{hid}/assignments",
        "deputy",
        headers=behalf,
        json=_assign_main(h, "pa", 1),
    )
