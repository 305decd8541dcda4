"""Electronic documents arriving from interop: recorded once, with interop's id, ready to register."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from registry_pdfs import make_pdf
from registry_support import AGENCY, PARENT, Harness, eventually, publish_event
from uuid_utils import uuid7

from vanthu_contracts.events import interop
from vanthu_contracts.events.registry import Channel, FileRef
from vanthu_testing.clock import local_today

pytestmark = [pytest.mark.nats]


async def test_interop_received_event_becomes_a_received_document(sqlite_registry: Harness) -> None:
    h = sqlite_registry
    stored = await h.services.storage.put_pdf(make_pdf("Công văn liên thông"), "lt.pdf")
    document_id = str(uuid7())
    event = interop.DocumentReceived(
        document_id=document_id,
        agency_code=AGENCY,
        type_name="Công văn",
        code_number="88",
        code_notation="BXD-KHTC",
        issued_date=date(2026, 11, 2),
        issuer={"organ_id": "000.00.01.G12", "organ_name": "Bộ Xây dựng"},
        subject="V/v hướng dẫn lập kế hoạch vốn",
        files=[FileRef(sha256=stored.sha256, name="lt.pdf", size=stored.size)],
        channel=Channel.AXIS,
        external_document_id="000.00.01.G12,2026/11/02,88/BXD-KHTC",
        sender={"organ_id": "000.00.01.G12", "organ_name": "Bộ Xây dựng"},
        signer={"position": "Thứ trưởng", "full_name": "Lê Văn B"},
        received_at=datetime.now(UTC),
    )
    for _ in range(2):  # delivered twice: recorded once
        await publish_event(h.settings.nats_url, "interop.document.received", "interop", AGENCY, event)

    async def received() -> Any:
        r = await h.client.get(f"/api/v1/documents/{document_id}", headers=h.auth("vanthu"))
        return r.json() if r.status_code == 200 else None

    doc = await eventually(received)
    assert doc["state"] == "received" and doc["channel"] == "axis"
    assert doc["organ_id"] == "000.00.01.G12" and doc["signer_name"] == "Lê Văn B" and doc["page_amount"] == 1
    search = await h.client.get(
        "/api/v1/documents", headers=h.auth("vanthu"), params={"q": "lap ke hoach von"}
    )
    assert [i["id"] for i in search.json()["items"]] == [document_id]
    registered = await h.client.post(f"/api/v1/incoming/{document_id}/register", headers=h.auth("vanthu"))
    assert registered.status_code == 200 and registered.json()["number"] >= 1


async def test_a_secret_document_from_inside_the_province_is_held_by_the_agencys_clerks(
    sqlite_registry: Harness,
) -> None:
    """Interop keeps a secret document's secrecy when it delivers it inside the province: the
    văn thư on duty may open and register it, nobody else without a grant, and the grant is
    announced (routing shows the handling to the same people)."""
    import json

    import nats

    h = sqlite_registry
    nc = await nats.connect(h.settings.nats_url)
    grants: list[dict[str, Any]] = []

    async def collect(msg: Any) -> None:
        grants.append(json.loads(msg.data))

    await nc.subscribe("vanthu.evt.registry.document.secret_granted", cb=collect)
    try:
        stored = await h.services.storage.put_pdf(make_pdf("Công văn mật"), "mat.pdf")
        document_id = str(uuid7())
        event = interop.DocumentReceived(
            document_id=document_id,
            agency_code=AGENCY,
            type_name="Công văn",
            code_number="12",
            code_notation="UBND-VP",
            issued_date=local_today(),
            issuer={"organ_id": PARENT, "organ_name": "UBND tỉnh H99"},
            subject="V/v phương án bảo vệ bí mật nhà nước",
            secrecy="mat",
            files=[FileRef(sha256=stored.sha256, name="mat.pdf", size=stored.size)],
            channel=Channel.INTERNAL,
            external_document_id=f"{PARENT},{local_today():%Y/%m/%d},12/UBND-VP",
            sender={"organ_id": PARENT, "organ_name": "UBND tỉnh H99"},
            received_at=datetime.now(UTC),
        )
        await publish_event(h.settings.nats_url, "interop.document.received", "interop", AGENCY, event)
        url = f"/api/v1/documents/{document_id}"

        async def held() -> Any:
            r = await h.client.get(url, headers=h.auth("vanthu"))
            return r.json() if r.status_code == 200 else None

        doc = await eventually(held)
        assert doc["secrecy"] == "mat" and doc["state"] == "received"
        for who in ("lanhdao", "chuyenvien", "stc.vanthu"):
            assert (await h.client.get(url, headers=h.auth(who))).status_code == 404, who
        registered = await h.client.post(f"/api/v1/incoming/{document_id}/register", headers=h.auth("vanthu"))
        assert registered.status_code == 200, registered.text
        granted = await eventually(lambda: _granted(grants, document_id))
        assert [(g["user_id"], g["source"]) for g in granted] == [(h.people["vanthu"].user_id, "arrival")]
    finally:
        await nc.close()


async def _granted(grants: list[dict[str, Any]], document_id: str) -> list[dict[str, Any]]:
    return [g["payload"] for g in grants if g["payload"]["document_id"] == document_id]
