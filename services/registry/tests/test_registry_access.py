"""Access rules: other agencies get 404, chuyên viên see only what is assigned, secret needs a grant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from registry_support import AGENCY, Harness, eventually, publish_event, register

from vanthu_contracts.events import routing
from vanthu_contracts.events.registry import Channel

pytestmark = [pytest.mark.nats, pytest.mark.postgres]


def assigned(h: Harness, document_id: str, kind: str, assignee: str) -> routing.HandlingAssigned:
    return routing.HandlingAssigned(
        handling_id="h-" + document_id[:8],
        document_id=document_id,
        agency_code=AGENCY,
        channel=Channel.PAPER,
        assigned_by=h.people["lanhdao"].user_id,
        assignees=[routing.AssigneeOut(assignment_id="a1", kind=kind, assignee_id=assignee, role=routing.HandlingRole.MAIN)],
        assigned_at=datetime.now(UTC),
    )


async def test_another_agency_gets_404(pg_registry: Harness) -> None:
    h = pg_registry
    doc = (await register(h, code_number="101")).json()
    mine = await h.client.get(f"/api/v1/documents/{doc['id']}", headers=h.auth("vanthu"))
    assert mine.status_code == 200
    other = await h.client.get(f"/api/v1/documents/{doc['id']}", headers=h.auth("stc.vanthu"))
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    listed = await h.client.get("/api/v1/documents", headers=h.auth("stc.vanthu"), params={"q": "bao cao"})
    assert doc["id"] not in [i["id"] for i in listed.json()["items"]]


async def test_leaders_see_everything_public(pg_registry: Harness) -> None:
    h = pg_registry
    doc = (await register(h, code_number="102")).json()
    for who in ("lanhdao", "vanthu"):
        assert (await h.client.get(f"/api/v1/documents/{doc['id']}", headers=h.auth(who))).status_code == 200


async def test_specialist_sees_only_after_assignment(pg_registry: Harness) -> None:
    h = pg_registry
    doc = (await register(h, code_number="103", subject="Văn bản giao cho chuyên viên")).json()
    url = f"/api/v1/documents/{doc['id']}"
    assert (await h.client.get(url, headers=h.auth("chuyenvien"))).status_code == 404
    search = await h.client.get("/api/v1/documents", headers=h.auth("chuyenvien"), params={"q": "giao cho chuyen vien"})
    assert search.json()["items"] == []
    await publish_event(
        h.settings.nats_url,
        "routing.handling.assigned",
        "routing",
        AGENCY,
        assigned(h, doc["id"], "user", h.people["chuyenvien"].user_id),
    )

    async def visible() -> bool:
        return (await h.client.get(url, headers=h.auth("chuyenvien"))).status_code == 200

    await eventually(visible)
    assert (await h.client.get(url, headers=h.auth("chuyenvien2"))).status_code == 404
    search = await h.client.get("/api/v1/documents", headers=h.auth("chuyenvien"), params={"q": "giao cho chuyen vien"})
    assert [i["id"] for i in search.json()["items"]] == [doc["id"]]


async def test_unit_assignment_reaches_the_unit_head(pg_registry: Harness) -> None:
    h = pg_registry
    doc = (await register(h, code_number="104")).json()
    url = f"/api/v1/documents/{doc['id']}"
    assert (await h.client.get(url, headers=h.auth("truongphong"))).status_code == 404
    await publish_event(h.settings.nats_url, "routing.handling.assigned", "routing", AGENCY, assigned(h, doc["id"], "unit", h.units["KT"]))

    async def visible() -> bool:
        return (await h.client.get(url, headers=h.auth("truongphong"))).status_code == 200

    await eventually(visible)
    # The unit's specialists still need a personal assignment.
    assert (await h.client.get(url, headers=h.auth("chuyenvien2"))).status_code == 404


async def test_secret_documents_need_an_explicit_grant(pg_registry: Harness) -> None:
    h = pg_registry
    doc = (await register(h, code_number="105", secrecy="toi_mat", subject="Tài liệu tối mật")).json()
    url = f"/api/v1/documents/{doc['id']}"
    assert (await h.client.get(url, headers=h.auth("vanthu"))).status_code == 200  # the registrar holds it
    assert (await h.client.get(url, headers=h.auth("lanhdao"))).status_code == 404
    search = await h.client.get("/api/v1/documents", headers=h.auth("lanhdao"), params={"q": "toi mat"})
    assert search.json()["items"] == []
    r = await h.client.post(
        f"{url}/grants",
        headers=h.auth("vanthu"),
        json={"principal_type": "user", "principal_id": h.people["lanhdao"].user_id, "kind": "secret"},
    )
    assert r.status_code == 204, r.text
    assert (await h.client.get(url, headers=h.auth("lanhdao"))).status_code == 200
    bad = await h.client.post(
        f"{url}/grants",
        headers=h.auth("vanthu"),
        json={"principal_type": "user", "principal_id": h.people["stc.vanthu"].user_id, "kind": "secret"},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "registry.grant_invalid"
    denied = await h.client.post(
        f"{url}/grants",
        headers=h.auth("chuyenvien"),
        json={"principal_type": "user", "principal_id": h.people["chuyenvien"].user_id, "kind": "secret"},
    )
    assert denied.status_code == 403


async def test_reads_are_audited_with_who_and_where(pg_registry: Harness) -> None:
    h = pg_registry
    doc = (await register(h, code_number="106")).json()
    await h.client.get(f"/api/v1/documents/{doc['id']}", headers={**h.auth("lanhdao"), "X-Forwarded-For": "10.1.2.3"})
    trail = (await h.client.get(f"/api/v1/documents/{doc['id']}/audit", headers=h.auth("vanthu"))).json()
    reads = [e for e in trail if e["action"] == "document.read"]
    assert reads and reads[0]["actor"] == h.people["lanhdao"].user_id and reads[0]["source_ip"] == "10.1.2.3"
    assert {e["action"] for e in trail} >= {"document.register", "document.read"}


async def test_signed_download_url(pg_registry: Harness) -> None:
    h = pg_registry
    doc = (await register(h, code_number="107")).json()
    file_id = doc["files"][0]["id"]
    r = await h.client.get(f"/api/v1/documents/{doc['id']}/files/{file_id}/url", headers=h.auth("vanthu"))
    assert r.status_code == 200
    url = r.json()["url"]
    download = await h.client.get(url.replace("http://testserver", ""))
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")
    tampered = await h.client.get(url.replace("http://testserver", "").replace("sig=", "sig=A"))
    assert tampered.status_code == 403
    denied = await h.client.get(f"/api/v1/documents/{doc['id']}/files/{file_id}/url", headers=h.auth("chuyenvien"))
    assert denied.status_code == 404
