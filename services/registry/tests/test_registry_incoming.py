"""Incoming registration over REST on SQLite and PostgreSQL: numbering, fields, duplicates, states."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from registry_pdfs import make_pdf
from registry_support import Harness, meta, register

from vanthu_testing.clock import local_today

pytestmark = [pytest.mark.nats]


async def test_paper_registration_fills_the_system_fields(registry: Harness) -> None:
    r = await register(registry, code_number="4711")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["state"] == "registered"
    assert doc["number"] >= 1 and doc["register_year"] == local_today().year
    assert doc["page_amount"] == 2  # counted from the PDF, not typed
    assert doc["arrival_date"] == str(local_today())
    assert doc["type_name"] == "Công văn" and doc["type_abbreviation"] is None
    assert doc["files"][0]["page_count"] == 2 and len(doc["files"][0]["sha256"]) == 64
    assert doc["warnings"] == []


async def test_numbers_are_consecutive_and_shared_by_paper_and_electronic(registry: Harness) -> None:
    numbers = []
    for i in range(3):
        r = await register(registry, code_number=str(5000 + i))
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    # An electronic one, accepted by the văn thư, continues the same series.
    stored = await registry.services.storage.put_pdf(make_pdf("Điện tử"), "e.pdf")
    r = await registry.client.post(
        "/api/v1/incoming/electronic",
        headers=registry.auth("vanthu"),
        json={
            "metadata": meta(code_number="6001", organ_id="000.00.13.H99", organ_name="Sở Tài chính"),
            "files": [{"sha256": stored.sha256, "name": "e.pdf", "size": stored.size}],
            "external_document_id": "000.00.13.H99,2026/11/01,6001/STC-VP",
            "sender": {"organ_id": "000.00.13.H99", "organ_name": "Sở Tài chính"},
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "received" and r.json()["number"] is None
    accepted = await registry.client.post(
        f"/api/v1/incoming/{r.json()['id']}/register", headers=registry.auth("vanthu")
    )
    assert accepted.status_code == 200, accepted.text
    numbers.append(accepted.json()["number"])
    assert numbers == list(range(numbers[0], numbers[0] + 4))


async def test_duplicate_warning_on_same_number_notation_and_issuer(registry: Harness) -> None:
    first = await register(registry, code_number="777", code_notation="BXD-KHTC")
    assert first.status_code == 201 and first.json()["warnings"] == []
    second = await register(registry, code_number="777", code_notation="BXD-KHTC")
    assert second.status_code == 201
    [warning] = second.json()["warnings"]
    assert warning["code"] == "registry.possible_duplicate"
    assert warning["duplicate_of"] == [first.json()["id"]]
    assert "trùng" in warning["message_vi"]
    check = await registry.client.post(
        "/api/v1/incoming/duplicates",
        headers=registry.auth("vanthu"),
        json={"code_number": "777", "code_notation": "BXD-KHTC", "organ_name": "Bộ Xây dựng"},
    )
    assert set(check.json()["duplicate_of"]) == {first.json()["id"], second.json()["id"]}


async def test_duplicate_warning_on_same_document_id(registry: Harness) -> None:
    stored = await registry.services.storage.put_pdf(make_pdf("Trùng mã"), "d.pdf")
    body = {
        "metadata": meta(code_number="9101"),
        "files": [{"sha256": stored.sha256, "name": "d.pdf", "size": stored.size}],
        "external_document_id": "000.00.01.G01,2026/10/10,9101/BXD-VP",
        "register_now": True,
    }
    first = await registry.client.post(
        "/api/v1/incoming/electronic", headers=registry.auth("vanthu"), json=body
    )
    body["metadata"] = meta(code_number="9102")
    second = await registry.client.post(
        "/api/v1/incoming/electronic", headers=registry.auth("vanthu"), json=body
    )
    assert second.status_code == 201
    assert second.json()["warnings"][0]["duplicate_of"] == [first.json()["id"]]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"type": "nghi_dinh_thu"}, "registry.unknown_document_type"),
        ({"type": "QYĐ"}, "registry.unknown_document_type"),
        ({"subject": "   "}, "registry.subject_required"),
        ({"issued_date": str(local_today() + timedelta(days=3))}, "registry.future_date"),
        ({"organ_id": "000.00.12.h99"}, "registry.agency_code_invalid"),
        ({"subject": "x" * 501}, "registry.field_too_long"),
        ({"code_notation": "B" * 31}, "registry.field_too_long"),
        ({"code_number": "số 5"}, "registry.code_number_invalid"),
    ],
)
async def test_bad_metadata_is_refused_with_a_stable_code(registry: Harness, change: dict, code: str) -> None:
    before = await registry.services.registers.list_registers(_clerk(registry))
    r = await register(registry, **change)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == code
    assert body["message_vi"] and body["message_en"]
    after = await registry.services.registers.list_registers(_clerk(registry))
    assert [x.last_number for x in after] == [x.last_number for x in before]


def _clerk(h: Harness) -> Any:
    from vanthu_registry.caller import Caller

    return Caller.of(h.people["vanthu"])


async def test_non_pdf_and_oversize_files_are_refused(registry: Harness) -> None:
    r = await register(registry, pdf=b"GIF89a not a pdf at all")
    assert r.status_code == 422 and r.json()["code"] == "registry.file_not_pdf"
    r = await register(registry, pdf=b"%PDF-1.7 but then garbage without pages")
    assert r.status_code == 422 and r.json()["code"] == "registry.file_not_pdf"
    limit = registry.services.storage.max_bytes
    registry.services.storage.max_bytes = 20_000
    try:
        r = await register(registry, pdf=make_pdf(padding=30_000))
    finally:
        registry.services.storage.max_bytes = limit
    assert r.status_code == 422 and r.json()["code"] == "registry.file_too_large"
    assert r.json()["details"]["limit"] == 20_000


async def test_only_the_clerk_registers(registry: Harness) -> None:
    r = await register(registry, who="chuyenvien")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


async def test_return_to_sender_needs_a_reason_and_a_received_document(registry: Harness) -> None:
    stored = await registry.services.storage.put_pdf(make_pdf("Trả lại"), "r.pdf")
    r = await registry.client.post(
        "/api/v1/incoming/electronic",
        headers=registry.auth("vanthu"),
        json={
            "metadata": meta(code_number="4040"),
            "files": [{"sha256": stored.sha256, "name": "r.pdf", "size": stored.size}],
        },
    )
    doc_id = r.json()["id"]
    no_reason = await registry.client.post(
        f"/api/v1/incoming/{doc_id}/return", headers=registry.auth("vanthu"), json={}
    )
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "registry.return_reason_required"
    ok = await registry.client.post(
        f"/api/v1/incoming/{doc_id}/return",
        headers=registry.auth("vanthu"),
        json={"reason": "Gửi nhầm cơ quan"},
    )
    assert ok.status_code == 200 and ok.json()["state"] == "returned"
    again = await registry.client.post(f"/api/v1/incoming/{doc_id}/register", headers=registry.auth("vanthu"))
    assert again.status_code == 409 and again.json()["code"] == "registry.illegal_transition"


async def test_unknown_file_reference_is_refused(registry: Harness) -> None:
    r = await registry.client.post(
        "/api/v1/incoming/electronic",
        headers=registry.auth("vanthu"),
        json={"metadata": meta(), "files": [{"sha256": "a" * 64, "name": "x.pdf", "size": 10}]},
    )
    assert r.status_code == 422 and r.json()["code"] == "registry.file_not_stored"


async def test_secret_documents_use_their_own_series(registry: Harness) -> None:
    normal = await register(registry, code_number="8001")
    secret = await register(registry, code_number="8002", secrecy="mat")
    assert secret.status_code == 201, secret.text
    assert secret.json()["register_id"] != normal.json()["register_id"]
    registers = {r.id: r for r in await registry.services.registers.list_registers(_clerk(registry))}
    assert registers[secret.json()["register_id"]].secret is True
    assert registers[secret.json()["register_id"]].series == "den-mat"


async def test_a_secret_documents_events_travel_apart_from_the_registrys_subjects(registry: Harness) -> None:
    """Other systems may be given `vanthu.evt.registry.>`: a secret document's subject never
    reaches them there; its event is under `vanthu.evt.secret.>`, for the platform's services."""
    import nats

    nc = await nats.connect(registry.settings.nats_url)
    seen: list[tuple[str, dict[str, Any]]] = []

    async def collect(msg: Any) -> None:
        seen.append((msg.subject, json.loads(msg.data)))

    subs = [
        await nc.subscribe(subject, cb=collect)
        for subject in ("vanthu.evt.registry.>", "vanthu.evt.secret.>")
    ]
    try:
        secret = await register(
            registry, code_number="8300", secrecy="mat", subject="Về phương án bảo vệ mục tiêu X"
        )
        normal = await register(registry, code_number="8301")
        ids = {secret.json()["id"]: "secret", normal.json()["id"]: "normal"}
        deadline = asyncio.get_running_loop().time() + 15
        while asyncio.get_running_loop().time() < deadline:
            found = {
                ids[e["payload"]["document_id"]] for _, e in seen if e["payload"].get("document_id") in ids
            }
            if found == {"secret", "normal"}:
                break
            await asyncio.sleep(0.05)
        registered = {
            ids[e["payload"]["document_id"]]: subject
            for subject, e in seen
            if e["type"] == "registry.document.registered" and e["payload"]["document_id"] in ids
        }
        assert registered == {
            "secret": "vanthu.evt.secret.registry.document.registered",
            "normal": "vanthu.evt.registry.document.registered",
        }
        leaked = [
            s
            for s, e in seen
            if s.startswith("vanthu.evt.registry.") and "mục tiêu X" in json.dumps(e, ensure_ascii=False)
        ]
        assert not leaked, leaked
    finally:
        for sub in subs:
            await sub.unsubscribe()
        await nc.close()


async def test_urgency_sets_the_priority_digit(registry: Harness) -> None:
    r = await register(registry, code_number="8100", urgency="hoa_toc")
    assert r.json()["urgency"] == "hoa_toc" and r.json()["priority"] == 3


async def test_registration_event_reaches_a_subscriber(registry: Harness) -> None:
    import nats

    nc = await nats.connect(registry.settings.nats_url)
    got: asyncio.Queue = asyncio.Queue()

    async def collect(msg: Any) -> None:
        got.put_nowait(msg)

    sub = await nc.subscribe("vanthu.evt.registry.document.registered", cb=collect)
    try:
        r = await register(registry, code_number="8200")
        doc_id = r.json()["id"]
        deadline = asyncio.get_running_loop().time() + 15
        while True:
            msg = await asyncio.wait_for(
                got.get(), timeout=max(0.1, deadline - asyncio.get_running_loop().time())
            )
            envelope = json.loads(msg.data)
            if envelope["payload"]["document_id"] == doc_id:
                break
        payload = envelope["payload"]
        assert payload["incoming_number"] == r.json()["number"]
        assert payload["files"][0]["sha256"] == r.json()["files"][0]["sha256"]
        assert (
            payload["type_code"] == "cong_van"
            and payload["registered_by"] == registry.people["vanthu"].user_id
        )
    finally:
        await sub.unsubscribe()
        await nc.close()
