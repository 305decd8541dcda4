"""Issuing outgoing documents: number and symbol per the decree, axis id, RPC and event paths."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import nats
import pytest
from registry_pdfs import make_pdf
from registry_support import AGENCY, Harness, eventually, publish_event

from vanthu_contracts.events import registry as contract
from vanthu_contracts.events import routing
from vanthu_contracts.events.common import Secrecy, Urgency
from vanthu_contracts.subjects import event_subject

pytestmark = [pytest.mark.nats]

TODAY = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


async def issue(h: Harness, **kw: Any) -> Any:
    body = {"type": "QĐ", "subject": "Quyết định phê duyệt kế hoạch", "signer_name": "Trần Văn Hùng",
            "signer_position": "Giám đốc", "recipients": [{"organ_name": "Sở Tài chính"}]}
    body.update(kw)
    return await h.client.post(
        "/api/v1/outgoing",
        headers=h.auth("vanthu"),
        data={"metadata": json.dumps(body)},
        files={"file": ("signed.pdf", make_pdf("Quyết định"), "application/pdf")},
    )


async def test_outgoing_numbers_and_symbols(sqlite_registry: Harness) -> None:
    h = sqlite_registry
    # QĐ gets its own series; everything else shares "di".
    r = await h.client.put(
        "/api/v1/series/outgoing",
        headers=h.auth("vanthu"),
        json=[
            {"series": "qd", "name": "Sổ quyết định", "types": ["QĐ"]},
            {"series": "di", "name": "Sổ văn bản đi", "types": []},
            {"series": "di-mat", "name": "Sổ văn bản đi mật", "types": [], "secret": True},
        ],
    )
    assert r.status_code == 200, r.text
    first = await issue(h)
    assert first.status_code == 201, first.text
    doc = first.json()
    assert doc["symbol"] == "01/QĐ-SXD" and doc["code_number"] == "01" and doc["code_notation"] == "QĐ-SXD"
    assert doc["issued_date"] == str(TODAY)
    assert doc["axis_document_id"] == f"{AGENCY},{TODAY:%Y/%m/%d},01/QĐ-SXD"
    assert doc["organ_id"] == AGENCY and doc["organ_name"] == "Sở Xây dựng"
    # The system fills the receivers' identifier codes it knows (Phụ lục VI I.13.1).
    assert doc["recipients"] == [{"organ_id": "000.00.13.H99", "organ_name": "Sở Tài chính"}]
    cv = await issue(h, type="cong_van", unit_abbreviation="VP", subject="V/v tăng cường kiểm tra")
    assert cv.json()["symbol"] == "01/SXD-VP"
    quy_dinh = await issue(h, type="QyĐ", subject="Quy định nội bộ")
    assert quy_dinh.json()["symbol"] == "02/QyĐ-SXD"
    to_trinh = await issue(h, type="TTr", subject="Tờ trình")
    assert to_trinh.json()["symbol"] == "03/TTr-SXD"
    second_qd = await issue(h)
    assert second_qd.json()["symbol"] == "02/QĐ-SXD"
    secret = await issue(h, secrecy="mat")
    assert secret.json()["symbol"] == "01/QĐ-SXD" and secret.json()["register_id"] != doc["register_id"]


async def test_cong_van_needs_the_unit_and_types_are_checked(sqlite_registry: Harness) -> None:
    r = await issue(sqlite_registry, type="cong_van")
    assert r.status_code == 422 and r.json()["code"] == "registry.unit_abbreviation_required"
    r = await issue(sqlite_registry, type="QD")
    assert r.status_code == 422 and r.json()["code"] == "registry.unknown_document_type"
    r = await issue(sqlite_registry, recipients=[{"organ_id": "123"}])
    assert r.status_code == 422 and r.json()["code"] == "registry.agency_code_invalid"


async def test_issue_over_rpc_is_idempotent(sqlite_registry: Harness) -> None:
    h = sqlite_registry
    stored = await h.services.storage.put_pdf(make_pdf("Kế hoạch đã ký"), "kh.pdf")
    request = contract.IssueDocumentRequest(
        agency_code=AGENCY,
        draft_id="draft-rpc-1",
        actor=h.people["vanthu"].user_id,
        type="KH",
        subject="Kế hoạch kiểm tra năm",
        signer_name="Trần Văn Hùng",
        files=[contract.FileRef(sha256=stored.sha256, name="kh.pdf", size=stored.size)],
        urgency=Urgency.URGENT,
    )
    nc = await nats.connect(h.settings.nats_url)
    try:
        replies = []
        for _ in range(2):
            msg = await nc.request(contract.ISSUE_DOCUMENT.subject, request.model_dump_json().encode(), timeout=15)
            replies.append(contract.IssueDocumentReply.model_validate_json(msg.data))
        bad = await nc.request(
            contract.ISSUE_DOCUMENT.subject,
            request.model_copy(update={"draft_id": "draft-rpc-2", "type": "KHX"}).model_dump_json().encode(),
            timeout=15,
        )
    finally:
        await nc.close()
    assert replies[0].ok and replies[0].symbol and replies[0].symbol.endswith("/KH-SXD")
    assert replies[1].document_id == replies[0].document_id and replies[1].number == replies[0].number
    assert replies[0].axis_document_id == f"{AGENCY},{TODAY:%Y/%m/%d},{replies[0].symbol}"
    failed = contract.IssueDocumentReply.model_validate_json(bad.data)
    assert not failed.ok and failed.error is not None and failed.error.code == "registry.unknown_document_type"


async def test_signed_draft_event_is_issued_once(sqlite_registry: Harness) -> None:
    h = sqlite_registry
    stored = await h.services.storage.put_pdf(make_pdf("Công văn đã ký"), "cv.pdf")
    event = routing.DraftSigned(
        draft_id="draft-evt-1",
        agency_code=AGENCY,
        unit_id=h.units["KT"],
        creator_id=h.people["chuyenvien"].user_id,
        type_name="Công văn",
        subject="V/v góp ý dự thảo",
        urgency=Urgency.NORMAL,
        secrecy=Secrecy.NORMAL,
        external_recipients=[{"organ_id": "000.00.01.G01", "organ_name": "Bộ Xây dựng"}],
        signer_id=h.people["lanhdao"].user_id,
        signer_name="Trần Văn Hùng",
        signer_position="Giám đốc",
        approved_at=datetime.now(UTC),
        signed_file=contract.FileRef(sha256=stored.sha256, name="cv.pdf", size=stored.size),
        signed_at=datetime.now(UTC),
    )
    for _ in range(2):  # a redelivered or re-published event issues nothing new
        await publish_event(h.settings.nats_url, "routing.draft.signed", "routing", AGENCY, event)

    async def issued() -> Any:
        r = await h.client.get("/api/v1/documents", headers=h.auth("vanthu"), params={"draft_id": "draft-evt-1", "columns": "number,code_notation,draft_id"})
        return r.json()["items"] if r.status_code == 200 and r.json()["items"] else None

    items = await eventually(issued)
    assert len(items) == 1 and items[0]["code_notation"] == "SXD-KT"


async def _who_may_open(h: Harness, document_id: str, people: tuple[str, ...]) -> dict[str, int]:
    url = f"/api/v1/documents/{document_id}"
    return {who: (await h.client.get(url, headers=h.auth(who))).status_code for who in people}


async def test_a_secret_document_issued_over_rpc_is_held_by_those_who_handled_it(sqlite_registry: Harness) -> None:
    """The system issues a signed secret draft: its drafter, reviewer and signer and the agency's
    văn thư (who registers and sends it) may open it, announced as secret grants; a specialist of
    the same agency who had no part in it, a name from another agency and another agency's văn
    thư may not (404: its existence is not revealed)."""
    h = sqlite_registry
    ids = {who: p.user_id for who, p in h.people.items()}
    stored = await h.services.storage.put_pdf(make_pdf("Quyết định mật"), "mat.pdf")
    request = contract.IssueDocumentRequest(
        agency_code=AGENCY,
        draft_id="draft-rpc-secret",
        actor=ids["lanhdao"],
        type="QĐ",
        subject="Quyết định về phương án bảo vệ bí mật nhà nước",
        signer_name="Trần Văn Hùng",
        signer_position="Giám đốc",
        secrecy=Secrecy.CONFIDENTIAL,
        files=[contract.FileRef(sha256=stored.sha256, name="mat.pdf", size=stored.size)],
        drafter_id=ids["chuyenvien"],
        signer_id=ids["lanhdao"],
        reviewer_ids=[ids["truongphong"], ids["stc.chuyenvien"]],
    )
    nc = await nats.connect(h.settings.nats_url)
    grants: list[dict[str, Any]] = []

    async def collect(msg: Any) -> None:
        grants.append(json.loads(msg.data)["payload"])

    await nc.subscribe(event_subject(contract.DOCUMENT_SECRET_GRANTED.type), cb=collect)
    try:
        msg = await nc.request(contract.ISSUE_DOCUMENT.subject, request.model_dump_json().encode(), timeout=15)
        reply = contract.IssueDocumentReply.model_validate_json(msg.data)
        assert reply.ok and reply.document_id, reply
        holders = ("vanthu", "chuyenvien", "truongphong", "lanhdao")

        async def announced() -> list[str]:
            mine = sorted(g["user_id"] for g in grants if g["document_id"] == reply.document_id)
            return mine if len(mine) >= len(holders) else []

        assert await eventually(announced) == sorted(ids[who] for who in holders)
    finally:
        await nc.close()
    assert all(g["source"] == "issue" and g["secrecy"] == "mat" for g in grants)
    assert await _who_may_open(h, reply.document_id, holders) == dict.fromkeys(holders, 200)
    outsiders = ("chuyenvien2", "stc.chuyenvien", "stc.vanthu")
    assert await _who_may_open(h, reply.document_id, outsiders) == dict.fromkeys(outsiders, 404)


async def test_a_secret_draft_issued_from_the_signed_event_is_held_by_those_who_handled_it(
    sqlite_registry: Harness,
) -> None:
    """The fallback path (`routing.draft.signed`) grants the same people: drafter, reviewers,
    signer and the văn thư."""
    h = sqlite_registry
    ids = {who: p.user_id for who, p in h.people.items()}
    stored = await h.services.storage.put_pdf(make_pdf("Công văn mật"), "cv-mat.pdf")
    event = routing.DraftSigned(
        draft_id="draft-evt-secret",
        agency_code=AGENCY,
        unit_id=h.units["KT"],
        creator_id=ids["chuyenvien"],
        type_name="Công văn",
        subject="V/v bảo vệ bí mật nhà nước",
        urgency=Urgency.NORMAL,
        secrecy=Secrecy.TOP_SECRET,
        signer_id=ids["lanhdao"],
        signer_name="Trần Văn Hùng",
        signer_position="Giám đốc",
        approved_at=datetime.now(UTC),
        signed_file=contract.FileRef(sha256=stored.sha256, name="cv-mat.pdf", size=stored.size),
        signed_at=datetime.now(UTC),
        reviewer_ids=[ids["truongphong"], ids["lanhdao"]],
    )
    await publish_event(h.settings.nats_url, "routing.draft.signed", "routing", AGENCY, event)

    async def issued() -> Any:
        r = await h.client.get("/api/v1/documents", headers=h.auth("vanthu"), params={"draft_id": "draft-evt-secret", "columns": "id,draft_id"})
        return r.json()["items"] if r.status_code == 200 and r.json()["items"] else None

    document_id = (await eventually(issued))[0]["id"]
    holders = ("vanthu", "chuyenvien", "truongphong", "lanhdao")
    assert await _who_may_open(h, document_id, holders) == dict.fromkeys(holders, 200)
    assert await _who_may_open(h, document_id, ("chuyenvien2",)) == {"chuyenvien2": 404}
