"""People of one agency can neither read nor change another agency's data, in any service.

Agency B (Sở Tài chính) makes one of every kind of resource through the APIs, as its own
people would: documents received, registered and issued, a work file, a handling and its
assignment, a draft in review with an opinion round, a chain template, a task, a delegation,
a signer profile and a pending token-agent request, outgoing packets and a dead-lettered
delivery. Then every person of agency A (Sở Xây dựng), whatever their role, tries to read
and change each of them. Every attempt must answer 403 or 404 with a coded bilingual error,
and agency B's data must read the same afterwards. List and search endpoints, which answer
200, must not show anything of agency B.
"""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
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
    task_for_unit,
)
from security_platform import AGENCY_A, AGENCY_B, PROVINCE, SecurityPlatform, eventually
from sqlalchemy import func, select

from vanthu_contracts.errors import lookup
from vanthu_testing.clock import local_today

# One person of each kind of role: văn thư, leader, unit head, specialist, administrator.
A_PEOPLE = ("vanthu", "lanhdao", "truongphong", "chuyenvien", "quantri")
ATTEMPTS_AT_LEAST = 100


@dataclass
class World:
    """Agency B's resources (ids), and a few of agency A's own used as the other half of an attempt."""

    ids: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.ids[key]


async def _token_request_for(platform: SecurityPlatform, user_id: str, profile_id: str) -> str:
    """A pending request for the person's token agent, as a signing worker writes it."""
    from vanthu_signing.repository import TokenRequestRepository, utcnow

    request_id = new_id()
    async with platform.uow("signing").begin() as tx:
        await TokenRequestRepository(tx.session).create(
            id=request_id,
            job_id=f"security-{request_id}",
            user_id=user_id,
            profile_id=profile_id,
            display={"subject": "Văn bản của Sở Tài chính"},
            to_sign=b"0" * 32,
            expires_at=utcnow() + timedelta(minutes=30),
        )
    return request_id


async def _delivery_state(platform: SecurityPlatform, document_id: str) -> list[str]:
    from vanthu_interop.repository import deliveries

    async with platform.uow("interop").read() as session:
        rows = await session.execute(
            select(deliveries.c.state).where(deliveries.c.document_id == document_id)
        )
        return sorted(r[0] for r in rows)


async def _build_world(platform: SecurityPlatform) -> World:
    world = World()
    b = AGENCY_B
    # registry
    incoming = await register_incoming(platform, b, subject="V/v phân bổ ngân sách mật của Sở Tài chính")
    world.ids |= {"doc": incoming["id"], "file": incoming["files"][0]["id"]}
    world.texts["subject"] = incoming["subject"]
    world.ids["received"] = (await register_incoming(platform, b, register=False))["id"]
    world.ids["outgoing"] = (await issue_outgoing(platform, b))["id"]
    world.ids["secret_outgoing"] = (await issue_outgoing(platform, b, secrecy="mat"))["id"]
    world.ids["work_file"] = (await open_work_file(platform, b, [incoming["id"]]))["id"]
    registers = ok(await platform.request("registry", "GET", "/api/v1/registers", b, "vanthu"))
    world.ids["register"] = registers[0]["id"]
    world.ids["unit"] = platform.person(b, "truongphong").unit or ""
    world.ids["leader"] = platform.person(b, "lanhdao").user_id
    # routing
    handling = await handling_of(platform, b, incoming["id"])
    assigned = await assign_to_unit(platform, b, handling)
    world.ids["handling"] = handling["id"]
    world.ids["assignment"] = next(a["id"] for a in assigned["assignments"] if a["role"] == "main")
    draft = await draft_in_review(platform, b)
    world.ids["draft"] = draft["id"]
    opinion = ok(
        await platform.request(
            "routing",
            "POST",
            f"/api/v1/drafts/{draft['id']}/opinion-rounds",
            b,
            "truongphong",
            json={
                "participants": [
                    {"kind": "user", "participant_id": platform.person(b, "pholanhdao").user_id}
                ],
                "question": "Đề nghị góp ý",
                "due_date": str(local_today() + timedelta(days=5)),
            },
        )
    )
    world.ids["round"] = opinion["id"]
    template = ok(
        await platform.request(
            "routing",
            "POST",
            "/api/v1/chain-templates",
            b,
            "lanhdao",
            json={
                "name": "Quy trình của Sở Tài chính",
                "steps": [{"reviewer_id": world["leader"], "label": "Giám đốc"}],
            },
        )
    )
    world.ids["template"] = template["id"]
    world.ids["task"] = (await task_for_unit(platform, b))["id"]
    now = datetime.now(UTC)
    delegation = ok(
        await platform.request(
            "routing",
            "POST",
            "/api/v1/delegations",
            b,
            "lanhdao",
            json={
                "delegate_id": platform.person(b, "pholanhdao").user_id,
                "scopes": ["all"],
                "valid_from": (now - timedelta(hours=1)).isoformat(),
                "valid_until": (now + timedelta(days=3)).isoformat(),
            },
        )
    )
    world.ids["delegation"] = delegation["id"]
    # signing
    profile_id = f"stc-seal-{new_id()[:8]}"
    seal = seal_profile(b, display_name="Sở Tài chính")
    ok(
        await platform.request(
            "signing", "PUT", f"/api/v1/signer-profiles/{profile_id}", b, "quantri", json=seal
        )
    )
    world.ids["profile"] = profile_id
    world.ids["token_request"] = await _token_request_for(platform, world["leader"], profile_id)
    # interop: the ordinary document went to the axis, the secret one was refused and dead-lettered
    await eventually(
        lambda: _delivery_state(platform, world["outgoing"]), "interop's delivery of B's document"
    )
    await eventually(
        lambda: _delivery_state(platform, world["secret_outgoing"]),
        "interop's refusal of B's secret document",
    )
    failed = ok(await platform.request("interop", "GET", "/api/v1/deliveries/failed", b, "quantri"))
    world.ids["failed_delivery"] = next(
        d["id"] for d in failed if d["document_id"] == world["secret_outgoing"]
    )
    # agency A's own: a work file and a draft with its file, to mix with B's ids
    world.ids["a_work_file"] = (await open_work_file(platform, AGENCY_A, []))["id"]
    world.ids["a_draft"] = ok(
        await platform.request(
            "routing",
            "POST",
            "/api/v1/drafts",
            AGENCY_A,
            "chuyenvien",
            json={"type_name": "Công văn", "subject": "V/v dự thảo của Sở Xây dựng"},
        )
    )["id"]
    ok(
        await platform.request(
            "routing",
            "PUT",
            f"/api/v1/drafts/{world['a_draft']}/files/du-thao.pdf",
            AGENCY_A,
            "chuyenvien",
            content=letter_pdf(),
            headers={"Content-Type": "application/pdf"},
        )
    )
    return world


async def _snapshot(platform: SecurityPlatform, world: World) -> dict[str, Any]:
    """Agency B's data as its own people read it (and the rows only it may change)."""
    from vanthu_signing.repository import TokenRequestRepository

    b = AGENCY_B

    async def read(service: str, url: str, who: str) -> Any:
        return ok(await platform.request(service, "GET", url, b, who))

    async with platform.uow("signing").read() as session:
        token_request = await TokenRequestRepository(session).get(world["token_request"])
    assert token_request is not None
    return {
        "doc": await read("registry", f"/api/v1/documents/{world['doc']}", "vanthu"),
        "received": await read("registry", f"/api/v1/documents/{world['received']}", "vanthu"),
        "work_file": await read("registry", f"/api/v1/work-files/{world['work_file']}", "vanthu"),
        "agency": await read("registry", f"/api/v1/agencies/{b}", "vanthu"),
        "units": await read("registry", "/api/v1/units", "vanthu"),
        "users": await read("registry", "/api/v1/users", "quantri"),
        "handling": await read("routing", f"/api/v1/handlings/{world['handling']}", "lanhdao"),
        "draft": await read("routing", f"/api/v1/drafts/{world['draft']}", "chuyenvien"),
        "task": await read("routing", f"/api/v1/tasks/{world['task']}", "lanhdao"),
        "delegations": await read("routing", "/api/v1/delegations", "lanhdao"),
        "templates": await read("routing", "/api/v1/chain-templates", "lanhdao"),
        "profiles": await read("signing", "/api/v1/signer-profiles", "quantri"),
        "token_request": {k: token_request[k] for k in ("status", "signature", "error_code")},
        "recipients": await read("interop", f"/api/v1/outgoing/{world['outgoing']}/recipients", "vanthu"),
        "failed": await read("interop", "/api/v1/deliveries/failed", "quantri"),
        "deliveries": await _delivery_state(platform, world["outgoing"]),
    }


@pytest.fixture(scope="module")
async def world(platform: SecurityPlatform) -> World:
    return await _build_world(platform)


@dataclass(frozen=True)
class Attempt:
    what: str
    service: str
    method: str
    url: str
    body: dict[str, Any] = field(default_factory=dict)  # httpx keyword arguments


def _attempts(platform: SecurityPlatform, w: World) -> list[Attempt]:
    b_unit, b_leader, month = w["unit"], w["leader"], f"{local_today():%Y-%m}"
    a_admin, a_unit = platform.person(AGENCY_A, "quantri"), platform.person(AGENCY_A, "truongphong").unit
    pdf = {"files": {"file": ("x.pdf", letter_pdf(), "application/pdf")}}
    take_b = {
        "json": {"code": AGENCY_B, "name": "Sở Tài chính", "abbreviation": "STC", "parent_code": AGENCY_A}
    }
    rename_b = {
        "json": {"code": AGENCY_B, "name": "Sở bị chiếm", "abbreviation": "STC", "parent_code": PROVINCE}
    }
    new_user = {
        "username": "ke.gian",
        "full_name": "Kẻ gian",
        "roles": ["lanh_dao"],
        "password": "mat-khau-ke-gian",
    }
    assignment = f"/api/v1/assignments/{w['assignment']}"
    extension = {"reason": "cần thêm thời gian", "new_deadline": str(local_today() + timedelta(days=60))}
    opinion = {
        "participants": [{"kind": "user", "participant_id": a_admin.user_id}],
        "question": "?",
        "due_date": str(local_today() + timedelta(days=3)),
    }
    as_b_leader = {"Vanthu-On-Behalf-Of": b_leader}
    request = f"/api/v1/token-agent/requests/{w['token_request']}"
    # fmt: off
    return [
        # registry: documents
        Attempt("read a registered document", "registry", "GET", f"/api/v1/documents/{w['doc']}"),
        Attempt("read a received document", "registry", "GET", f"/api/v1/documents/{w['received']}"),
        Attempt("read an issued document", "registry", "GET", f"/api/v1/documents/{w['outgoing']}"),
        Attempt("download a document's file", "registry", "GET", f"/api/v1/documents/{w['doc']}/files/{w['file']}/url"),
        Attempt("read a document's audit trail", "registry", "GET", f"/api/v1/documents/{w['doc']}/audit"),
        Attempt("add a file version", "registry", "POST", f"/api/v1/documents/{w['doc']}/files", pdf),
        Attempt("grant oneself access", "registry", "POST", f"/api/v1/documents/{w['doc']}/grants",
                {"json": {"principal_type": "user", "principal_id": a_admin.user_id, "kind": "given"}}),
        Attempt("register a received document", "registry", "POST", f"/api/v1/incoming/{w['received']}/register"),
        Attempt("return a received document", "registry", "POST", f"/api/v1/incoming/{w['received']}/return",
                {"json": {"reason": "Không đúng thẩm quyền"}}),
        # registry: work files
        Attempt("read a work file", "registry", "GET", f"/api/v1/work-files/{w['work_file']}"),
        Attempt("export a work file (XML)", "registry", "GET", f"/api/v1/work-files/{w['work_file']}/export.xml"),
        Attempt("export a work file (PDF)", "registry", "GET", f"/api/v1/work-files/{w['work_file']}/export.pdf"),
        Attempt("file into a work file", "registry", "POST", f"/api/v1/work-files/{w['work_file']}/documents",
                {"json": {"document_id": w["doc"]}}),
        Attempt("take out of a work file", "registry", "DELETE",
                f"/api/v1/work-files/{w['work_file']}/documents/{w['doc']}"),
        Attempt("close a work file", "registry", "POST", f"/api/v1/work-files/{w['work_file']}/close"),
        Attempt("file the document into one's own work file", "registry", "POST",
                f"/api/v1/work-files/{w['a_work_file']}/documents", {"json": {"document_id": w["doc"]}}),
        # registry: the directory
        Attempt("list the agency's users", "registry", "GET", f"/api/v1/users?agency={AGENCY_B}"),
        Attempt("rename the agency", "registry", "PUT", f"/api/v1/agencies/{AGENCY_B}", rename_b),
        Attempt("re-parent the agency under one's own", "registry", "PUT", f"/api/v1/agencies/{AGENCY_B}", take_b),
        Attempt("create a unit in the agency", "registry", "POST", "/api/v1/units",
                {"json": {"agency_code": AGENCY_B, "name": "Phòng lạ", "abbreviation": "LA"}}),
        Attempt("move the agency's unit into one's own", "registry", "POST", "/api/v1/units",
                {"json": {"id": b_unit, "agency_code": AGENCY_A, "name": "Phòng bị chiếm", "abbreviation": "NS"}}),
        Attempt("create a user in the agency", "registry", "POST", "/api/v1/users",
                {"json": new_user | {"agency_code": AGENCY_B}}),
        Attempt("take over the agency's leader account", "registry", "POST", "/api/v1/users",
                {"json": new_user | {"id": b_leader, "username": "stc.lanhdao", "agency_code": AGENCY_A}}),
        # routing: the handling of the incoming document
        Attempt("read a handling", "routing", "GET", f"/api/v1/handlings/{w['handling']}"),
        Attempt("read a document's handling", "routing", "GET", f"/api/v1/documents/{w['doc']}/handling"),
        Attempt("assign a handling", "routing", "POST", f"/api/v1/handlings/{w['handling']}/assignments",
                {"json": {"assignees": [{"kind": "user", "assignee_id": a_admin.user_id, "role": "main"}]}}),
        Attempt("acknowledge an assignment", "routing", "POST", f"{assignment}/acknowledge", {"json": {}}),
        Attempt("report progress", "routing", "POST", f"{assignment}/progress", {"json": {"percent": 50}}),
        Attempt("complete an assignment", "routing", "POST", f"{assignment}/complete", {"json": {"result": "xong"}}),
        Attempt("return an assignment", "routing", "POST", f"{assignment}/return", {"json": {"reason": "không phải"}}),
        Attempt("withdraw an assignment", "routing", "POST", f"{assignment}/withdraw", {"json": {}}),
        Attempt("request an extension", "routing", "POST", f"{assignment}/extension-request", {"json": extension}),
        Attempt("decide an extension", "routing", "POST", f"{assignment}/extension-decision", {"json": {"approve": True}}),
        Attempt("urge the handler", "routing", "POST", f"{assignment}/urge",
                {"json": {"level": "nhac_nho", "message": "Khẩn trương"}}),
        # routing: drafts, opinion rounds, templates
        Attempt("read a draft", "routing", "GET", f"/api/v1/drafts/{w['draft']}"),
        Attempt("edit a draft", "routing", "PATCH", f"/api/v1/drafts/{w['draft']}", {"json": {"subject": "Sửa trộm"}}),
        Attempt("upload a draft's file", "routing", "PUT", f"/api/v1/drafts/{w['draft']}/files/gia-mao.pdf",
                {"content": letter_pdf(), "headers": {"Content-Type": "application/pdf"}}),
        Attempt("submit a draft", "routing", "POST", f"/api/v1/drafts/{w['draft']}/submit",
                {"json": {"reviewers": [{"reviewer_id": a_admin.user_id}]}}),
        Attempt("approve a draft", "routing", "POST", f"/api/v1/drafts/{w['draft']}/review",
                {"json": {"decision": "approve"}}),
        Attempt("ask for signing again", "routing", "POST", f"/api/v1/drafts/{w['draft']}/retry-signing"),
        Attempt("open an opinion round", "routing", "POST", f"/api/v1/drafts/{w['draft']}/opinion-rounds",
                {"json": opinion}),
        Attempt("answer an opinion round", "routing", "POST", f"/api/v1/opinion-rounds/{w['round']}/answer",
                {"json": {"opinion": "Không đồng ý"}}),
        Attempt("submit one's own draft with the agency's chain template", "routing", "POST",
                f"/api/v1/drafts/{w['a_draft']}/submit", {"json": {"template_id": w["template"]}}),
        # routing: tasks, delegation, acting for the agency's people
        Attempt("read a task", "routing", "GET", f"/api/v1/tasks/{w['task']}"),
        Attempt("pass a task down to one's own unit", "routing", "POST", f"/api/v1/tasks/{w['task']}/subtasks",
                {"json": {"title": "Việc con", "owner_unit_id": a_unit}}),
        Attempt("act on a task", "routing", "POST", f"/api/v1/tasks/{w['task']}/actions",
                {"json": {"action": "cancel", "note": "hủy"}}),
        Attempt("revoke a delegation", "routing", "POST", f"/api/v1/delegations/{w['delegation']}/revoke"),
        Attempt("read the leader's inbox on their behalf", "routing", "GET", "/api/v1/inbox/waiting",
                {"headers": as_b_leader}),
        Attempt("draft on the leader's behalf", "routing", "POST", "/api/v1/drafts",
                {"json": {"type_name": "Công văn", "subject": "Mạo danh"}, "headers": as_b_leader}),
        # signing: profiles and the token agent
        Attempt("create a signer profile for the agency", "signing", "PUT", f"/api/v1/signer-profiles/{new_id()}",
                {"json": seal_profile(AGENCY_B)}),
        Attempt("take the agency's seal profile", "signing", "PUT", f"/api/v1/signer-profiles/{w['profile']}",
                {"json": seal_profile(AGENCY_A)}),
        Attempt("replace the agency's seal image", "signing", "PUT", f"/api/v1/signer-profiles/{w['profile']}/image",
                {"files": {"file": ("seal.png", _seal_png(), "image/png")}}),
        Attempt("answer the leader's token request", "signing", "POST", request, {"json": {"signature_b64": "AAAA"}}),
        Attempt("decline the leader's token request", "signing", "POST", request,
                {"json": {"decline_code": "signing.token_declined"}}),
        # interop: outgoing packets and deliveries
        Attempt("read the recipients' statuses", "interop", "GET", f"/api/v1/outgoing/{w['outgoing']}/recipients"),
        Attempt("recall a sent document", "interop", "POST", f"/api/v1/outgoing/{w['outgoing']}/recall",
                {"json": {"reason": "Thu hồi trái phép"}}),
        Attempt("send an update", "interop", "POST", f"/api/v1/outgoing/{w['outgoing']}/update",
                {"json": {"reason": "x"}}),
        Attempt("send a replacement", "interop", "POST", f"/api/v1/outgoing/{w['outgoing']}/replace",
                {"json": {"replaces": ["000.00.13.H99,2026/01/01,01/QĐ-STC"]}}),
        Attempt("replay a dead-lettered delivery", "interop", "POST",
                f"/api/v1/deliveries/{w['failed_delivery']}/replay"),
        # analytics: reports on the agency, and on the province above both
        *(
            Attempt(f"{report} report on {target}", "analytics", "GET",
                    f"/api/v1/analytics/{report}?agency={target}&month={month}")
            for report in ("usage", "province", "flags", "ranking")
            for target in (AGENCY_B, PROVINCE)
        ),
        Attempt("monthly workbook", "analytics", "GET",
                f"/api/v1/analytics/monthly/{month}/report.xlsx?agency={AGENCY_B}"),
        Attempt("monthly chart", "analytics", "GET",
                f"/api/v1/analytics/monthly/{month}/charts/usage.svg?agency={AGENCY_B}"),
    ]
    # fmt: on


def _seal_png() -> bytes:
    from vanthu_signing.samples import seal_png

    return seal_png(120)


async def test_no_one_reads_or_changes_another_agencys_data(platform: SecurityPlatform, world: World) -> None:
    before = await _snapshot(platform, world)
    attempts = _attempts(platform, world)
    headers = {who: platform.auth(AGENCY_A, who) for who in A_PEOPLE}
    refused: list[str] = []
    for attempt in attempts:
        for who in A_PEOPLE:
            body = dict(attempt.body)
            extra = body.pop("headers", {})
            response = await platform.clients[attempt.service].request(
                attempt.method, attempt.url, headers=headers[who] | extra, **body
            )
            where = f"{who} of A: {attempt.what} ({attempt.method} {attempt.url})"
            assert response.status_code in (403, 404), (
                f"{where}: {response.status_code} {response.text[:300]}"
            )
            error = response.json()
            code = lookup(error["code"])
            assert code is not None and code.http_status == response.status_code, (where, error)
            assert error["message_vi"] and error["message_en"], where
            refused.append(f"{attempt.service}:{attempt.what}")
    refused.append(await _signing_job_with_anothers_seal(platform, world))
    assert len(refused) >= ATTEMPTS_AT_LEAST, len(refused)
    # Every service was tried, and nothing of agency B changed.
    assert {r.split(":", 1)[0] for r in refused} == {"registry", "routing", "signing", "interop", "analytics"}
    assert await _snapshot(platform, world) == before
    await _nothing_audited_against(platform, world)


async def _signing_job_with_anothers_seal(platform: SecurityPlatform, world: World) -> str:
    """A sign job queued for agency A naming agency B's seal profile fails: the profile is not A's."""
    import nats

    from vanthu_contracts.envelope import Envelope
    from vanthu_contracts.events import signing as contract

    stored = await platform.state("signing").storage.put_pdf(letter_pdf())
    job = contract.SignDocument(
        job_id=f"security-{new_id()}",
        agency_code=AGENCY_A,
        kind="seal",
        file={"sha256": stored.sha256, "name": "qd.pdf"},
        signer={"profile_id": world["profile"]},
    )
    outcome: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def on_event(msg: Any) -> None:
        data = json.loads(msg.data)
        if data["payload"].get("job_id") == job.job_id and not outcome.done():
            outcome.set_result(data)

    nc = await nats.connect(platform.nats.url)
    try:
        await nc.subscribe("vanthu.evt.signing.document.>", cb=on_event)
        envelope = Envelope(type=contract.SIGN.type, source="routing", agency=AGENCY_A, payload=job)
        await nc.jetstream().publish(
            contract.SIGN.subject,
            envelope.model_dump_json().encode(),
            headers={"Nats-Msg-Id": envelope.msg_id},
        )
        event = await asyncio.wait_for(outcome, 60)
    finally:
        await nc.close()
    assert event["type"] == contract.DOCUMENT_FAILED.type, event
    assert (
        event["payload"]["code"] == contract.PROFILE_NOT_FOUND.code
        and contract.PROFILE_NOT_FOUND.http_status == 404
    )
    return "signing:a sign job with another agency's seal"


async def _nothing_audited_against(platform: SecurityPlatform, world: World) -> None:
    """Refused reads leave no 'read' entry of agency A against agency B's documents in the audit log."""
    from vanthu_registry.tables import audit_log, audit_pending

    targets = [world["doc"], world["received"], world["outgoing"], world["work_file"]]
    async with platform.uow("registry").read() as session:
        for table in (audit_log, audit_pending):
            count = (
                await session.execute(
                    select(func.count())
                    .select_from(table)
                    .where(table.c.agency_code == AGENCY_A, table.c.target_id.in_(targets))
                )
            ).scalar_one()
            assert count == 0, table.name


async def test_lists_and_searches_show_nothing_of_another_agency(
    platform: SecurityPlatform, world: World
) -> None:
    a = AGENCY_A

    async def listed(service: str, url: str, who: str, **kwargs: Any) -> Any:
        return ok(await platform.request(service, "GET", url, a, who, **kwargs))

    found = await listed("registry", "/api/v1/documents", "vanthu", params={"q": world.texts["subject"]})
    assert found["total"] == 0 and found["items"] == []
    for who in ("vanthu", "lanhdao", "quantri"):
        assert all(r["agency_code"] == a for r in await listed("registry", "/api/v1/registers", who))
    catalog = await listed("registry", f"/api/v1/work-files/catalog/{local_today().year}", "vanthu")
    assert world["work_file"] not in json.dumps(catalog)
    printed = await platform.request(
        "registry",
        "GET",
        "/api/v1/registers/print",
        a,
        "vanthu",
        params={
            "direction": "incoming",
            "from": str(local_today() - timedelta(days=1)),
            "to": str(local_today()),
            "register_id": world["register"],
            "format": "xlsx",
        },
    )
    assert printed.status_code == 200
    from openpyxl import load_workbook

    cells = [
        str(c.value)
        for sheet in load_workbook(io.BytesIO(printed.content))
        for row in sheet.iter_rows()
        for c in row
    ]
    assert not any(world.texts["subject"] in cell for cell in cells)
    for url, key in (
        ("/api/v1/tasks", world["task"]),
        ("/api/v1/chain-templates", world["template"]),
        ("/api/v1/delegations", world["delegation"]),
        ("/api/v1/inbox/waiting", world["doc"]),
        ("/api/v1/notifications", world["handling"]),
    ):
        for who in ("lanhdao", "quantri", "truongphong"):
            assert key not in json.dumps(await listed("routing", url, who)), (url, who)
    assert world["profile"] not in json.dumps(await listed("signing", "/api/v1/signer-profiles", "quantri"))
    pending = await listed("signing", "/api/v1/token-agent/requests", "lanhdao", params={"wait": 0})
    assert pending == []
    failed = await listed("interop", "/api/v1/deliveries/failed", "quantri")
    assert all(d["agency_code"] == a for d in failed) and world["failed_delivery"] not in json.dumps(failed)
