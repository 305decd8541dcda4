"""Inside one agency, each role does only what Decree 30 and the product give it.

Roles (vanthu_contracts Role): văn thư registers and numbers; leaders assign and sign;
the reviewer in turn approves a draft (the last one signs, nobody signs for them without a
delegation); administrators manage the directory, signer profiles and failed deliveries;
specialists see only what is given to them, secret documents need an explicit grant, and
the province-wide analytics are for the province's own people. Each refusal is checked
next to the role that is allowed, so a rule that refused everyone would fail here too.
"""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
from pypdf import PdfReader
from security_data import (
    assign_to_unit,
    draft_in_review,
    handling_of,
    issue_outgoing,
    letter_pdf,
    new_id,
    ok,
    open_work_file,
    register_incoming,
    seal_profile,
)
from security_platform import AGENCY_A, AGENCY_B, PROVINCE, SecurityPlatform, eventually
from sqlalchemy import select

from vanthu_contracts.errors import FORBIDDEN, PROVINCE_OPERATOR_ONLY
from vanthu_routing.domain.secrecy import SECRET_SUBJECT
from vanthu_testing.clock import local_today

NOT_CLERKS = ("lanhdao", "pholanhdao", "truongphong", "photruongphong", "chuyenvien", "quantri")


def refused(response: httpx.Response, code: str = FORBIDDEN.code, status: int = 403) -> None:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert body["code"] == code and body["message_vi"] and body["message_en"], body


async def test_only_the_clerk_registers_and_numbers_even_claiming_to_be_the_system(
    platform: SecurityPlatform,
) -> None:
    metadata = json.dumps(
        {
            "type": "cong_van",
            "subject": "V/v thử vai trò",
            "code_number": "9",
            "code_notation": "BXD-VP",
            "issued_date": str(local_today()),
            "organ_name": "Bộ Xây dựng",
        }
    )
    issue = json.dumps({"type": "QĐ", "subject": "Quyết định thử vai trò", "recipients": []})
    received = await register_incoming(platform, AGENCY_A, register=False)
    for who in NOT_CLERKS:
        # `X-Forwarded-For: nats` once passed for the registry's own NATS handlers.
        for spoof in ({}, {"X-Forwarded-For": "nats"}):
            refused(
                await platform.request(
                    "registry",
                    "POST",
                    "/api/v1/incoming",
                    AGENCY_A,
                    who,
                    headers=spoof,
                    data={"metadata": metadata},
                    files={"file": ("scan.pdf", letter_pdf(), "application/pdf")},
                )
            )
            refused(
                await platform.request(
                    "registry",
                    "POST",
                    "/api/v1/outgoing",
                    AGENCY_A,
                    who,
                    headers=spoof,
                    data={"metadata": issue},
                    files={"file": ("signed.pdf", letter_pdf(), "application/pdf")},
                )
            )
            refused(
                await platform.request(
                    "registry",
                    "POST",
                    f"/api/v1/incoming/{received['id']}/register",
                    AGENCY_A,
                    who,
                    headers=spoof,
                )
            )
            refused(
                await platform.request(
                    "registry",
                    "POST",
                    f"/api/v1/documents/{received['id']}/files",
                    AGENCY_A,
                    who,
                    headers=spoof,
                    files={"file": ("v2.pdf", letter_pdf(), "application/pdf")},
                )
            )
    numbered = ok(
        await platform.request(
            "registry", "POST", f"/api/v1/incoming/{received['id']}/register", AGENCY_A, "vanthu"
        )
    )
    assert numbered["state"] == "registered" and numbered["number"] is not None
    assert (await issue_outgoing(platform, AGENCY_A, recipients=[]))["number"] is not None


async def test_registers_grants_trails_and_prints_by_role(platform: SecurityPlatform) -> None:
    document = await register_incoming(platform, AGENCY_A)
    series = [{"series": "di", "name": "Sổ văn bản đi", "types": []}]
    for who in ("lanhdao", "truongphong", "chuyenvien"):
        refused(
            await platform.request("registry", "PUT", "/api/v1/series/outgoing", AGENCY_A, who, json=series)
        )
    for who in ("truongphong", "chuyenvien", "quantri"):
        grant = {
            "principal_type": "user",
            "principal_id": platform.person(AGENCY_A, who).user_id,
            "kind": "given",
        }
        refused(
            await platform.request(
                "registry", "POST", f"/api/v1/documents/{document['id']}/grants", AGENCY_A, who, json=grant
            )
        )
    for who in ("truongphong", "photruongphong", "chuyenvien"):
        refused(
            await platform.request(
                "registry", "GET", f"/api/v1/documents/{document['id']}/audit", AGENCY_A, who
            )
        )
    period = {"direction": "incoming", "from": str(local_today()), "to": str(local_today()), "format": "xlsx"}
    for who in ("truongphong", "chuyenvien", "quantri"):
        refused(
            await platform.request("registry", "GET", "/api/v1/registers/print", AGENCY_A, who, params=period)
        )
    # Allowed: the văn thư's register print, the leader's audit trail read.
    printed = await platform.request(
        "registry", "GET", "/api/v1/registers/print", AGENCY_A, "vanthu", params=period
    )
    assert printed.status_code == 200 and printed.content[:2] == b"PK"  # an XLSX workbook
    ok(
        await platform.request(
            "registry", "GET", f"/api/v1/documents/{document['id']}/audit", AGENCY_A, "lanhdao"
        )
    )


async def test_secret_documents_only_for_those_explicitly_granted(platform: SecurityPlatform) -> None:
    secret = await register_incoming(platform, AGENCY_A, secrecy="mat", subject="V/v kế hoạch mật")
    url = f"/api/v1/documents/{secret['id']}"
    # The văn thư who registered it holds it; leaders, who see everything ordinary, do not.
    ok(await platform.request("registry", "GET", url, AGENCY_A, "vanthu"))
    for who in ("lanhdao", "pholanhdao", "truongphong", "chuyenvien", "quantri"):
        refused(await platform.request("registry", "GET", url, AGENCY_A, who), "not_found", 404)
        found = ok(
            await platform.request(
                "registry", "GET", "/api/v1/documents", AGENCY_A, who, params={"q": "kế hoạch mật"}
            )
        )
        assert secret["id"] not in json.dumps(found), who
    leader = platform.person(AGENCY_A, "lanhdao").user_id
    grant = {"principal_type": "user", "principal_id": leader, "kind": "secret"}
    ok(await platform.request("registry", "POST", f"{url}/grants", AGENCY_A, "vanthu", json=grant), 204)
    ok(await platform.request("registry", "GET", url, AGENCY_A, "lanhdao"))
    refused(await platform.request("registry", "GET", url, AGENCY_A, "pholanhdao"), "not_found", 404)


async def test_routing_shows_a_secret_handling_only_to_those_with_access(platform: SecurityPlatform) -> None:
    """Leaders see every handling of their agency; a secret one only redacted until the registry
    gives them the document. Its subject reaches no notification, no other leader and no
    analytics table, while analytics still counts it."""
    subject = f"V/v phương án tác chiến bí mật {new_id()[:8]}"
    secret = await register_incoming(platform, AGENCY_A, secrecy="tuyet_mat", subject=subject)
    handling = await handling_of(platform, AGENCY_A, secret["id"])
    assert handling["redacted"] is True and handling["subject"] == SECRET_SUBJECT, handling
    url = f"/api/v1/handlings/{handling['id']}"
    for who in ("lanhdao", "pholanhdao"):
        waiting = ok(await platform.request("routing", "GET", "/api/v1/inbox/waiting", AGENCY_A, who))
        [item] = [i for i in waiting["items"] if i["document_id"] == secret["id"]]
        assert item["redacted"] is True and subject not in json.dumps(waiting, ensure_ascii=False), who
        notices = await platform.request("routing", "GET", "/api/v1/notifications", AGENCY_A, who)
        assert notices.status_code == 200 and subject not in notices.text, who
    refused(
        await platform.request(
            "routing",
            "POST",
            f"{url}/assignments",
            AGENCY_A,
            "lanhdao",
            json={"assignees": [], "instruction": "", "version": handling["version"]},
        ),
        "routing.secret_not_granted",
    )
    assert ok(await platform.request("routing", "GET", url, AGENCY_A, "vanthu"))["subject"] == subject

    leader = platform.person(AGENCY_A, "lanhdao").user_id
    grant = {"principal_type": "user", "principal_id": leader, "kind": "secret"}
    ok(
        await platform.request(
            "registry", "POST", f"/api/v1/documents/{secret['id']}/grants", AGENCY_A, "vanthu", json=grant
        ),
        204,
    )

    async def the_leader_sees_it() -> dict[str, Any] | None:
        shown = ok(await platform.request("routing", "GET", url, AGENCY_A, "lanhdao"))
        return shown if shown["subject"] == subject else None

    await assign_to_unit(
        platform, AGENCY_A, await eventually(the_leader_sees_it, "the leader's grant in routing")
    )
    assert ok(await platform.request("routing", "GET", url, AGENCY_A, "truongphong"))["subject"] == subject
    other = ok(await platform.request("routing", "GET", url, AGENCY_A, "pholanhdao"))
    assert other["redacted"] is True and subject not in json.dumps(other, ensure_ascii=False)
    refused(await platform.request("routing", "GET", url, AGENCY_A, "chuyenvien"), "routing.not_yours")

    # Analytics counts the secret document like any other and keeps nothing of its subject.
    from vanthu_analytics.repository import documents as counted

    async def analytics_counts_it() -> bool:
        async with platform.uow("analytics").read() as session:
            row = (
                await session.execute(select(counted).where(counted.c.document_id == secret["id"]))
            ).first()
        return row is not None and row.assigned_at is not None

    await eventually(analytics_counts_it, "analytics counting the secret document's assignment")
    stored = b"".join(path.read_bytes() for path in platform.root.glob("analytics.db*"))
    assert stored and subject.encode() not in stored


async def test_a_work_file_does_not_open_a_secret_document_to_others(platform: SecurityPlatform) -> None:
    """The văn thư files a secret and an ordinary document together; the file shows and exports
    to everyone else only what each of them may see."""
    secret = await register_incoming(platform, AGENCY_A, secrecy="toi_mat", subject="V/v phương án tối mật")
    ordinary = await register_incoming(platform, AGENCY_A)
    work_file = await open_work_file(platform, AGENCY_A, [secret["id"], ordinary["id"]])
    url = f"/api/v1/work-files/{work_file['id']}"

    async def listed(who: str) -> set[str]:
        shown = ok(await platform.request("registry", "GET", url, AGENCY_A, who))
        return {d["id"] for d in shown["documents"]}

    assert await listed("vanthu") == {secret["id"], ordinary["id"]}
    assert await listed("lanhdao") == {ordinary["id"]}
    assert await listed("chuyenvien") == set()  # nothing given to the specialist
    ok(await platform.request("registry", "POST", f"{url}/close", AGENCY_A, "vanthu"))
    pages: dict[str, int] = {}
    for who, holds_it in (("vanthu", True), ("lanhdao", False), ("pholanhdao", False)):
        exported = await platform.request("registry", "GET", f"{url}/export.xml", AGENCY_A, who)
        assert exported.status_code == 200, exported.text
        assert (secret["subject"] in exported.text) is holds_it, who
        pdf = await platform.request("registry", "GET", f"{url}/export.pdf", AGENCY_A, who)
        assert pdf.status_code == 200, pdf.text
        pages[who] = len(PdfReader(io.BytesIO(pdf.content)).pages)
    # The leaders' copies lack exactly the secret document's pages.
    secret_pages = len(PdfReader(io.BytesIO(letter_pdf())).pages)
    assert pages["lanhdao"] == pages["pholanhdao"] == pages["vanthu"] - secret_pages, pages


async def test_directory_is_managed_by_administrators_of_the_agency_or_above(
    platform: SecurityPlatform,
) -> None:
    def user(username: str) -> dict[str, Any]:
        return {
            "username": username,
            "full_name": "Người dùng thử",
            "agency_code": AGENCY_A,
            "roles": ["chuyen_vien"],
        }

    for who in ("vanthu", "lanhdao", "truongphong", "chuyenvien"):
        refused(
            await platform.request(
                "registry", "POST", "/api/v1/users", AGENCY_A, who, json=user(f"sxd.thu.{who}")
            )
        )
        refused(
            await platform.request(
                "registry",
                "POST",
                "/api/v1/units",
                AGENCY_A,
                who,
                json={"agency_code": AGENCY_A, "name": "Phòng thử", "abbreviation": "PT"},
            )
        )
    own = ok(
        await platform.request(
            "registry", "POST", "/api/v1/users", AGENCY_A, "quantri", json=user("sxd.thu.a")
        )
    )
    # The province's administrator manages the Sở below it (and sees its people); a Sở's does not see the province's.
    moved = ok(
        await platform.request(
            "registry",
            "POST",
            "/api/v1/users",
            PROVINCE,
            "quantri",
            json=user("sxd.thu.a") | {"id": own["id"]},
        )
    )
    assert moved["id"] == own["id"]
    assert ok(
        await platform.request("registry", "GET", f"/api/v1/users?agency={AGENCY_A}", PROVINCE, "quantri")
    )
    refused(
        await platform.request("registry", "GET", f"/api/v1/users?agency={PROVINCE}", AGENCY_A, "quantri")
    )


async def test_leaders_assign_and_the_reviewer_in_turn_signs(platform: SecurityPlatform) -> None:
    document = await register_incoming(platform, AGENCY_A)
    handling = await handling_of(platform, AGENCY_A, document["id"])
    unit = platform.person(AGENCY_A, "truongphong").unit
    assign = {
        "assignees": [{"kind": "unit", "assignee_id": unit, "role": "main"}],
        "version": handling["version"],
    }
    for who in ("vanthu", "truongphong", "chuyenvien", "quantri"):
        refused(
            await platform.request(
                "routing",
                "POST",
                f"/api/v1/handlings/{handling['id']}/assignments",
                AGENCY_A,
                who,
                json=assign,
            ),
            "routing.not_a_leader",
        )
    task = {"title": "Việc thử", "owner_unit_id": unit}
    for who in ("vanthu", "chuyenvien"):
        refused(
            await platform.request("routing", "POST", "/api/v1/tasks", AGENCY_A, who, json=task),
            "routing.not_a_leader",
        )
    ok(
        await platform.request(
            "routing",
            "POST",
            f"/api/v1/handlings/{handling['id']}/assignments",
            AGENCY_A,
            "lanhdao",
            json=assign,
        )
    )

    draft = await draft_in_review(platform, AGENCY_A)
    url = f"/api/v1/drafts/{draft['id']}/review"
    approve = {"decision": "approve", "comment": "Đồng ý"}
    # Not the leader's turn yet: even the leader waits for the unit head.
    refused(
        await platform.request("routing", "POST", url, AGENCY_A, "lanhdao", json=approve),
        "routing.not_your_turn",
    )
    ok(await platform.request("routing", "POST", url, AGENCY_A, "truongphong", json=approve))
    leader = platform.person(AGENCY_A, "lanhdao").user_id
    for who in ("vanthu", "chuyenvien", "pholanhdao", "quantri"):
        refused(
            await platform.request("routing", "POST", url, AGENCY_A, who, json=approve),
            "routing.not_your_turn",
        )
        refused(
            await platform.request(
                "routing", "POST", url, AGENCY_A, who, json=approve, headers={"Vanthu-On-Behalf-Of": leader}
            ),
            "routing.no_delegation",
        )
    signed = ok(await platform.request("routing", "POST", url, AGENCY_A, "lanhdao", json=approve))
    assert signed["state"] == "approved" and signed["signer"]["id"] == leader


async def test_operations_and_signer_profiles_are_for_administrators(platform: SecurityPlatform) -> None:
    profile = seal_profile(AGENCY_A)
    outgoing = await issue_outgoing(platform, AGENCY_A)
    for who in ("vanthu", "lanhdao", "truongphong", "chuyenvien"):
        refused(await platform.request("signing", "GET", "/api/v1/signer-profiles", AGENCY_A, who))
        refused(
            await platform.request(
                "signing", "PUT", f"/api/v1/signer-profiles/sxd-{who}", AGENCY_A, who, json=profile
            )
        )
        for method, url in (("GET", "/api/v1/deliveries/failed"), ("POST", "/api/v1/deliveries/x/replay")):
            refused(await platform.request("interop", method, url, AGENCY_A, who))
    for who in ("truongphong", "photruongphong", "chuyenvien"):
        refused(
            await platform.request(
                "interop",
                "POST",
                f"/api/v1/outgoing/{outgoing['id']}/recall",
                AGENCY_A,
                who,
                json={"reason": "x"},
            )
        )
    ok(
        await platform.request(
            "signing", "PUT", "/api/v1/signer-profiles/sxd-seal", AGENCY_A, "quantri", json=profile
        )
    )
    ok(await platform.request("interop", "GET", "/api/v1/deliveries/failed", AGENCY_A, "quantri"))


PROVINCE_WIDE = (
    ("routing", "/api/v1/reminders/sweep"),  # reminders of every agency's handlers
    ("interop", "/api/v1/partners/sync"),  # the platform's partner directory
    ("interop", "/api/v1/axis/poll"),  # the platform's one axis connection
)


async def test_province_wide_operations_are_for_the_provinces_administrators(
    platform: SecurityPlatform,
) -> None:
    """An administrator manages their own agency; what runs for every agency is the province's."""
    for service, url in PROVINCE_WIDE:
        for agency, who in [(AGENCY_A, "quantri"), (AGENCY_B, "quantri")] + [
            (agency, who) for agency in (AGENCY_A, PROVINCE) for who in ("vanthu", "lanhdao", "chuyenvien")
        ]:
            refused(
                await platform.request(service, "POST", url, agency, who),
                PROVINCE_OPERATOR_ONLY.code,
            )
        answer = ok(await platform.request(service, "POST", url, PROVINCE, "quantri"))
        assert isinstance(answer, dict) and answer, (service, url, answer)


async def test_analytics_for_readers_and_the_province_for_the_province(platform: SecurityPlatform) -> None:
    await register_incoming(platform, AGENCY_B)  # something of another Sở to be counted
    month = {"month": f"{local_today():%Y-%m}"}
    for report in ("usage", "province", "flags", "ranking", "status"):
        for who in ("chuyenvien",):
            refused(
                await platform.request(
                    "analytics", "GET", f"/api/v1/analytics/{report}", AGENCY_A, who, params=month
                )
            )
    for who in ("vanthu", "lanhdao", "truongphong", "quantri"):
        refused(
            await platform.request(
                "analytics",
                "GET",
                "/api/v1/analytics/province",
                AGENCY_A,
                who,
                params=month | {"agency": PROVINCE},
            ),
            "analytics.outside_scope",
        )
    by_agency = month | {"group_by": "agency"}

    async def province_sees_both() -> set[str]:
        rows = ok(
            await platform.request(
                "analytics", "GET", "/api/v1/analytics/usage", PROVINCE, "quantri", params=by_agency
            )
        )["rows"]
        agencies = {r["agency"] for r in rows}
        return agencies if {AGENCY_A, AGENCY_B} <= agencies else set()

    await eventually(province_sees_both, "the province's usage of both Sở")
    own = ok(
        await platform.request(
            "analytics", "GET", "/api/v1/analytics/usage", AGENCY_A, "lanhdao", params=by_agency
        )
    )
    assert {r["agency"] for r in own["rows"]} == {AGENCY_A}
    whole = ok(
        await platform.request(
            "analytics", "GET", "/api/v1/analytics/province", PROVINCE, "lanhdao", params=month
        )
    )
    assert whole["incoming"] >= 2
