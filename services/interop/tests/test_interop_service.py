"""One interop service on real NATS and SQLite: province-internal delivery, status feedback,
recall/update/replace, secret documents, the dead-letter list and replay."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from interop_harness import EventLog, connect, handling, issued, publish

from vanthu_contracts.events.common import Role
from vanthu_interop.app import create_app
from vanthu_interop.settings import InteropSettings, OwnAgency
from vanthu_runtime.auth import DevTokenIssuer, Principal, ensure_dev_keypair
from vanthu_testing.nats_server import NatsServer

pytestmark = [pytest.mark.nats]

PROVINCE = "000.00.00.H99"
FINANCE = "000.00.12.H99"
VPCP = "000.00.00.G22"


@pytest.fixture
def nats_server_private(tmp_path: Path) -> Any:
    # A server of its own: the interop_* durables must not see other tests' events.
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


class Platform:
    def __init__(
        self,
        client: httpx.AsyncClient,
        log: EventLog,
        nc: Any,
        issuer: DevTokenIssuer,
        settings: InteropSettings,
    ) -> None:
        self.settings = settings
        self.client = client
        self.log = log
        self.nc = nc
        self.issuer = issuer

    def auth(self, agency: str, *roles: Role) -> dict[str, str]:
        token = self.issuer.mint(
            Principal(user_id=f"u-{agency}", agency=agency, roles=[str(r) for r in roles])
        )
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def platform(tmp_path: Path, nats_server_private: Any) -> AsyncIterator[Platform]:
    private_key, public_key = ensure_dev_keypair(tmp_path / "keys")
    settings = InteropSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'interop.db'}",
        nats_url=nats_server_private.url,
        object_store_dir=tmp_path / "objects",
        jwt_public_key_file=public_key,
        agencies=[
            OwnAgency(code=PROVINCE, name="UBND tỉnh Hòa Bình Xanh", address="Số 1 Trần Hưng Đạo"),
            OwnAgency(code=FINANCE, name="Sở Tài chính"),
        ],
        send_backoff_s=[0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05],
        outbox_poll_interval_s=0.05,
        log_json=False,
        log_level="WARNING",
    )
    nc, log = await connect(nats_server_private.url)
    app = create_app(settings)
    issuer = DevTokenIssuer(
        private_key.read_bytes(), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    async with LifespanManager(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://interop"
        ) as client:
            yield Platform(client, log, nc, issuer, settings)
    await nc.close()


async def test_internal_delivery_with_every_status_recall_and_the_dead_letter_list(
    platform: Platform,
) -> None:
    log = platform.log
    document = issued(
        PROVINCE, 7, internal=[(FINANCE, "Sở Tài chính")], external=[(VPCP, "Văn phòng Chính phủ")]
    )
    await publish(platform.nc, "registry.document.issued", document, source="registry", agency=PROVINCE)
    [received] = await log.wait_for("interop.document.received", agency_code=FINANCE)
    receipt = received["payload"]
    assert receipt["channel"] == "internal" and receipt["external_document_id"] == document.axis_document_id
    assert (
        receipt["sender"]["organ_id"] == PROVINCE
        and receipt["sender"]["organ_name"] == "UBND tỉnh Hòa Bình Xanh"
    )
    assert receipt["code_number"] == "07" and receipt["business"]["doc_type"] == 0
    await log.wait_for("interop.document.sent", channel="internal", document_id=document.document_id)
    await log.wait_for("interop.status.received", code="01", document_id=document.document_id)

    # Routing's handling events carry the status; the first names the registry's own id.
    first = handling(receipt, "03") | {"document_id": "registry-id-of-the-copy"}
    await publish(platform.nc, "routing.handling.accepted", first, source="routing", agency=FINANCE)
    for type_, code in (
        ("assigned", "04"),
        ("acknowledged", None),
        ("progressed", "05"),
        ("completed", "06"),
    ):
        event = handling(receipt, code) | {"document_id": "registry-id-of-the-copy"}
        await publish(platform.nc, f"routing.handling.{type_}", event, source="routing", agency=FINANCE)
    await publish(
        platform.nc, "routing.handling.progressed", handling(receipt, "05"), source="routing"
    )  # again
    await log.wait_for("interop.status.received", 5, document_id=document.document_id)
    await log.wait_for("interop.status.sent", 5, agency_code=FINANCE)
    # Each status once; jobs run in parallel, so they may arrive in any order.
    codes = [
        e["payload"]["code"] for e in log.of("interop.status.received", document_id=document.document_id)
    ]
    assert sorted(codes) == ["01", "03", "04", "05", "06"]
    sent = [e["payload"]["code"] for e in log.of("interop.status.sent", agency_code=FINANCE)]
    assert sorted(sent) == ["01", "03", "04", "05", "06"]

    clerk = platform.auth(PROVINCE, Role.CLERK)
    response = await platform.client.get(f"/api/v1/outgoing/{document.document_id}/recipients", headers=clerk)
    assert response.status_code == 200, response.text
    shown = {r["recipient_code"]: r for r in response.json()}
    assert shown[FINANCE]["code"] == "06" and shown[FINANCE]["label_vi"] == "Hoàn thành"
    assert sorted(h["code"] for h in shown[FINANCE]["history"]) == ["01", "03", "04", "05", "06"]
    # Not sent yet (no axis here; retried): the sender is not told it was.
    assert shown[VPCP]["code"] is None and shown[VPCP]["delivery"] in ("pending", "sending", "failed")
    assert shown[VPCP]["label_vi"] in ("Đang gửi", "Gửi không thành công")
    assert shown[FINANCE]["delivery"] == "sent" and shown[FINANCE]["sent_at"]
    other = platform.auth(FINANCE, Role.CLERK)
    assert (
        await platform.client.get(f"/api/v1/outgoing/{document.document_id}/recipients", headers=other)
    ).status_code == 404

    # No axis is configured here: the external send is retried, then dead-lettered.
    [failed] = await log.wait_for("interop.send.failed", document_id=document.document_id)
    assert (
        failed["payload"]["error_code"] == "interop.axis_unavailable" and failed["payload"]["attempts"] == 8
    )
    admin = platform.auth(PROVINCE, Role.ADMIN)
    listed = (await platform.client.get("/api/v1/deliveries/failed", headers=admin)).json()
    assert [d["recipient_code"] for d in listed] == [VPCP]
    assert (await platform.client.get("/api/v1/deliveries/failed", headers=clerk)).status_code == 403
    replayed = await platform.client.post(f"/api/v1/deliveries/{listed[0]['id']}/replay", headers=admin)
    assert replayed.status_code == 200 and replayed.json()["state"] in ("pending", "sending")
    again = await platform.client.post(f"/api/v1/deliveries/{listed[0]['id']}/replay", headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "interop.delivery_not_failed"
    await log.wait_for("interop.send.failed", 2, document_id=document.document_id)

    # Recall: the sender's copy is frozen, the receiver's copy recalled, 15 comes back.
    recalled = await platform.client.post(
        f"/api/v1/outgoing/{document.document_id}/recall", json={"reason": "Ban hành nhầm"}, headers=clerk
    )
    assert recalled.status_code == 200 and recalled.json()["planned"] == 1, recalled.text
    [requested] = await log.wait_for("interop.recall.requested", document_id=document.document_id)
    assert requested["payload"]["reason"] == "Ban hành nhầm"
    [gone] = await log.wait_for("interop.document.recalled", agency_code=FINANCE)
    assert gone["payload"]["document_id"] == receipt["document_id"] and gone["payload"]["answer"] == "15"
    assert gone["payload"]["registry_document_id"] == "registry-id-of-the-copy"
    await log.wait_for("interop.status.received", code="15", document_id=document.document_id)
    twice = await platform.client.post(
        f"/api/v1/outgoing/{document.document_id}/recall", json={"reason": "x"}, headers=clerk
    )
    assert twice.status_code == 409 and twice.json()["code"] == "interop.document_recalled"


async def test_secret_documents_never_use_the_axis_and_changes_are_answered(platform: Platform) -> None:
    log = platform.log
    secret = issued(
        PROVINCE, 8, internal=[(FINANCE, "Sở Tài chính")], external=[(VPCP, "VPCP")], secrecy="mat"
    )
    await publish(platform.nc, "registry.document.issued", secret, source="registry", agency=PROVINCE)
    [refused] = await log.wait_for("interop.send.failed", document_id=secret.document_id)
    assert refused["payload"]["error_code"] == "interop.secret_document"
    assert refused["payload"]["recipient"]["organ_id"] == VPCP and refused["payload"]["attempts"] == 0
    [received] = await log.wait_for(
        "interop.document.received", agency_code=FINANCE, external_document_id=secret.axis_document_id
    )
    # Its subject (trích yếu) is in the event: only the platform's services may read that prefix.
    assert received["subject"] == "vanthu.evt.secret.interop.document.received", received["subject"]
    admin = platform.auth(PROVINCE, Role.ADMIN)
    [dead] = (await platform.client.get("/api/v1/deliveries/failed", headers=admin)).json()
    response = await platform.client.post(f"/api/v1/deliveries/{dead['id']}/replay", headers=admin)
    assert response.status_code == 422 and response.json()["code"] == "interop.secret_document"

    # Update and replacement of a delivered document are answered 15 by the receiver.
    clerk = platform.auth(PROVINCE, Role.CLERK)
    response = await platform.client.post(
        f"/api/v1/outgoing/{secret.document_id}/update", json={"reason": "Sửa lỗi chính tả"}, headers=clerk
    )
    assert response.status_code == 200 and response.json()["planned"] == 1, response.text
    [updated] = await log.wait_for("interop.document.updated", agency_code=FINANCE)
    assert (
        updated["payload"]["business"]["doc_type"] == 2
        and updated["payload"]["business"]["reason"] == "Sửa lỗi chính tả"
    )
    await log.wait_for("interop.status.received", code="15", document_id=secret.document_id)
    response = await platform.client.post(
        f"/api/v1/outgoing/{secret.document_id}/replace", json={"replaces": ["000.00.00.H99,2026/01/02,01/UBND-VP"]},
        headers=clerk,
    )  # fmt: skip
    assert response.status_code == 200
    [replaced] = await log.wait_for("interop.document.replaced", agency_code=FINANCE)
    assert replaced["payload"]["business"]["related_document_ids"] == ["000.00.00.H99,2026/01/02,01/UBND-VP"]
    # The replaced document is not held by the receiver: 16 with the reason.
    [answer] = await log.wait_for("interop.status.received", code="16", document_id=secret.document_id)
    assert "không tìm thấy" in answer["payload"]["description"]
    # A refusal (02) carries routing's reason to the sender.
    receipt = (await log.wait_for("interop.document.received", agency_code=FINANCE))[0]["payload"]
    refusal = handling(receipt, "02", reason="Không thuộc thẩm quyền")
    await publish(platform.nc, "routing.handling.refused", refusal, source="routing", agency=FINANCE)
    [two] = await log.wait_for("interop.status.received", code="02", document_id=secret.document_id)
    assert two["payload"]["description"] == "Không thuộc thẩm quyền"
    forbidden = await platform.client.post(
        f"/api/v1/outgoing/{secret.document_id}/recall",
        json={"reason": "x"},
        headers=platform.auth(PROVINCE, Role.SPECIALIST),
    )
    assert forbidden.status_code == 403
    assert json.dumps(two)  # events are plain JSON


async def test_a_secret_document_sharing_an_ordinary_documents_id_is_delivered_and_tracked_on_its_own(
    platform: Platform,
) -> None:
    """Secret documents are numbered in their own series (Decree 30), so a secret document can
    repeat an ordinary one's number and symbol, and so its edXML DocumentId. Inside the province
    both are delivered (the secret one keeping its secrecy), each gets its own statuses, and a
    recall of one leaves the other in use."""
    log = platform.log
    finance = [(FINANCE, "Sở Tài chính")]
    ordinary = issued(PROVINCE, 31, internal=finance)
    secret = issued(PROVINCE, 31, internal=finance, secrecy="toi_mat")
    assert ordinary.axis_document_id == secret.axis_document_id
    for document in (ordinary, secret):
        await publish(platform.nc, "registry.document.issued", document, source="registry", agency=PROVINCE)
    received = await log.wait_for(
        "interop.document.received", 2, agency_code=FINANCE, external_document_id=ordinary.axis_document_id
    )
    copies = {event["payload"]["secrecy"]: event["payload"] for event in received}
    assert sorted(copies) == ["thuong", "toi_mat"] and len(received) == 2, [e["payload"] for e in received]
    for document in (ordinary, secret):
        await log.wait_for("interop.document.sent", channel="internal", document_id=document.document_id)
        await log.wait_for("interop.status.received", code="01", document_id=document.document_id)

    # Routing's 03 about the secret copy reaches the secret document's sender view only.
    accepted = handling(copies["toi_mat"], "03")
    await publish(platform.nc, "routing.handling.accepted", accepted, source="routing", agency=FINANCE)
    await log.wait_for("interop.status.received", code="03", document_id=secret.document_id)

    clerk = platform.auth(PROVINCE, Role.CLERK)
    recalled = await platform.client.post(
        f"/api/v1/outgoing/{ordinary.document_id}/recall", json={"reason": "Ban hành nhầm"}, headers=clerk
    )
    assert recalled.status_code == 200 and recalled.json()["planned"] == 1, recalled.text
    await log.wait_for("interop.status.received", code="15", document_id=ordinary.document_id)
    gone = log.of("interop.document.recalled", agency_code=FINANCE)
    assert [g["payload"]["document_id"] for g in gone] == [copies["thuong"]["document_id"]]

    async def shown(document_id: str) -> dict[str, Any]:
        response = await platform.client.get(f"/api/v1/outgoing/{document_id}/recipients", headers=clerk)
        assert response.status_code == 200, response.text
        [row] = response.json()
        return row

    assert sorted(h["code"] for h in (await shown(secret.document_id))["history"]) == ["01", "03"]
    assert sorted(h["code"] for h in (await shown(ordinary.document_id))["history"]) == ["01", "15"]


async def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the operator CLI without blocking the event loop.

    The service under test shares this loop: a blocking `subprocess.run` freezes it, and if the
    service is inside a write transaction at that moment the CLI waits for SQLite's lock until
    its busy timeout ("database is locked") — a deadlock of the test's own making.
    """
    return await asyncio.to_thread(subprocess.run, args, env=env, capture_output=True, text=True, timeout=120)


async def test_operators_list_and_replay_failed_deliveries_from_the_command_line(platform: Platform) -> None:
    document = issued(PROVINCE, 9, external=[(VPCP, "Văn phòng Chính phủ")])
    await publish(platform.nc, "registry.document.issued", document, source="registry", agency=PROVINCE)
    await platform.log.wait_for("interop.send.failed", document_id=document.document_id)
    env = {**os.environ, "VANTHU_INTEROP_DATABASE_URL": platform.settings.database_url}
    vanthu = str(Path(sys.executable).parent / "vanthu")
    listed = await run_cli([vanthu, "interop", "failed", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (
        row["recipient_code"] == VPCP
        and row["error_code"] == "interop.axis_unavailable"
        and row["attempts"] == 8
    )
    replayed = await run_cli([vanthu, "interop", "replay", row["id"]], env)
    assert replayed.returncode == 0 and row["id"] in replayed.stdout, replayed.stderr
    # The running service's relay picks the job up from the outbox; it fails again (no axis here).
    await platform.log.wait_for("interop.send.failed", 2, document_id=document.document_id)
    again = await run_cli([vanthu, "interop", "replay", "no-such-id"], env)
    assert (
        again.returncode != 0
        and "error interop.document_unknown:" in again.stderr
        and "Traceback" not in again.stderr
    )
