"""Secret documents (mật, tối mật, tuyệt mật) never reach the national axis.

The platform's interop talks to the axis simulator over real HTTP with its HMAC secret.
An ordinary document goes through (so the path works and this test could fail); each
secret one is refused for the axis with the coded error `interop.secret_document` in the
`interop.send.failed` event and in the sender's per-recipient view, a replay or an update
is refused the same way, while the province-internal recipient still gets it over NATS
(its events under `vanthu.evt.secret.>`, which other systems are never given).
Afterwards the simulator holds nothing of any secret document: no delivery, no packet
file with its subject. A secret document numbered in its own series may repeat an ordinary
one's number, symbol and so edXML DocumentId: it still reaches the province's recipient,
as a secret document.
"""

from __future__ import annotations

import json
from typing import Any

import nats
from security_data import issue_outgoing, ok
from security_platform import AGENCY_A, AGENCY_B, VPCP, SecurityPlatform, eventually

from vanthu_contracts.events import interop as contract
from vanthu_contracts.events.common import Secrecy

SECRET_LEVELS = [level for level in Secrecy if level is not Secrecy.NORMAL]


class Events:
    """Interop's events, as they are published from now on."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def on_message(self, msg: Any) -> None:
        self.seen.append({**json.loads(msg.data), "subject": msg.subject})

    async def listen(self, nc: Any) -> None:
        # A secret document's received event holds its subject: it is under the secret prefix,
        # which only the platform's services (and this test) listen to.
        for subject in ("vanthu.evt.interop.>", "vanthu.evt.secret.interop.>"):
            await nc.subscribe(subject, cb=self.on_message)

    async def wait(self, type_: str, **match: Any) -> dict[str, Any]:
        async def found() -> dict[str, Any] | None:
            for event in self.seen:
                if event["type"] == type_ and all(event["payload"].get(k) == v for k, v in match.items()):
                    return event
            return None

        return await eventually(found, f"{type_} {match}")


def _on_the_axis(platform: SecurityPlatform, document: dict[str, Any]) -> list[Any]:
    """What the axis simulator holds of a document: its deliveries, and packet files naming its subject."""
    deliveries = [d for d in platform.axis.deliveries.values() if d.notation == document["symbol"]]
    packets = [
        path
        for path in platform.axis.packets_dir.glob("*")
        if document["subject"].encode() in path.read_bytes()
        or document["axis_document_id"].encode() in path.read_bytes()
    ]
    return deliveries + packets


async def test_secret_documents_never_reach_the_axis(platform: SecurityPlatform) -> None:
    events = Events()
    nc = await nats.connect(platform.nats.url)
    try:
        await events.listen(nc)
        both = [
            {"organ_id": VPCP, "organ_name": "Văn phòng Chính phủ"},
            {"organ_id": AGENCY_B, "organ_name": "Sở Tài chính"},
        ]

        ordinary = await issue_outgoing(platform, AGENCY_A, recipients=both)
        await events.wait(contract.DOCUMENT_SENT.type, document_id=ordinary["id"], channel="axis")
        assert _on_the_axis(platform, ordinary), "the ordinary document should have reached the axis"

        secrets = [
            await issue_outgoing(platform, AGENCY_A, secrecy=level, recipients=both)
            for level in SECRET_LEVELS
        ]
        for secret in secrets:
            refusal = await events.wait(contract.SEND_FAILED.type, document_id=secret["id"])
            assert refusal["payload"]["error_code"] == contract.SECRET_DOCUMENT.code
            assert refusal["payload"]["recipient"]["organ_id"] == VPCP and refusal["payload"]["attempts"] == 0
            assert contract.SECRET_DOCUMENT.message_vi in refusal["payload"]["error"]
            # Inside the province it still travels (over NATS, never through the axis).
            await events.wait(
                contract.DOCUMENT_RECEIVED.type,
                agency_code=AGENCY_B,
                external_document_id=secret["axis_document_id"],
            )
            shown = ok(
                await platform.request(
                    "interop", "GET", f"/api/v1/outgoing/{secret['id']}/recipients", AGENCY_A, "vanthu"
                )
            )
            by_code = {r["recipient_code"]: r for r in shown}
            assert (
                by_code[VPCP]["delivery"] == "failed"
                and by_code[VPCP]["error"]["code"] == contract.SECRET_DOCUMENT.code
            )
            assert by_code[VPCP]["error"]["message_vi"] == contract.SECRET_DOCUMENT.message_vi
            assert by_code[AGENCY_B]["error"] is None

            failed = ok(
                await platform.request("interop", "GET", "/api/v1/deliveries/failed", AGENCY_A, "quantri")
            )
            [dead] = [d for d in failed if d["document_id"] == secret["id"]]
            replay = await platform.request(
                "interop", "POST", f"/api/v1/deliveries/{dead['id']}/replay", AGENCY_A, "quantri"
            )
            assert replay.status_code == 422 and replay.json()["code"] == contract.SECRET_DOCUMENT.code, (
                replay.text
            )
            update = ok(
                await platform.request(
                    "interop",
                    "POST",
                    f"/api/v1/outgoing/{secret['id']}/update",
                    AGENCY_A,
                    "vanthu",
                    json={"reason": "Sửa lỗi chính tả"},
                )
            )
            assert update["planned"] == 1  # the province-internal recipient only
            await events.wait(
                contract.SEND_FAILED.type, document_id=secret["id"], error_code=contract.SECRET_DOCUMENT.code
            )
            await events.wait(contract.DOCUMENT_UPDATED.type, agency_code=AGENCY_B)
        # The axis was working all along: a second ordinary document after the secret ones went through.
        after = await issue_outgoing(platform, AGENCY_A)
        await events.wait(contract.DOCUMENT_SENT.type, document_id=after["id"], channel="axis")
        for secret in secrets:
            assert _on_the_axis(platform, secret) == [], secret["secrecy"]
    finally:
        await nc.close()


async def test_a_secret_document_repeating_an_ordinary_documents_number_still_reaches_the_province(
    platform: SecurityPlatform,
) -> None:
    events = Events()
    nc = await nats.connect(platform.nats.url)
    try:
        await events.listen(nc)
        to_b = [{"organ_id": AGENCY_B, "organ_name": "Sở Tài chính"}]

        async def decision(secrecy: str) -> dict[str, Any]:
            return await issue_outgoing(platform, AGENCY_A, secrecy=secrecy, recipients=to_b, doc_type="QĐ")

        # Each series counts on its own: issue until both reach the same number.
        ordinary, secret = await decision("thuong"), await decision("mat")
        while ordinary["number"] != secret["number"]:
            if ordinary["number"] < secret["number"]:
                ordinary = await decision("thuong")
            else:
                secret = await decision("mat")
        assert ordinary["axis_document_id"] == secret["axis_document_id"], (ordinary, secret)

        copies = {}
        for document in (ordinary, secret):
            await events.wait(contract.DOCUMENT_SENT.type, document_id=document["id"], channel="internal")
            received = await events.wait(
                contract.DOCUMENT_RECEIVED.type,
                agency_code=AGENCY_B,
                external_document_id=document["axis_document_id"],
                secrecy=document["secrecy"],
            )
            copies[document["secrecy"]] = received["payload"]["document_id"]
            secret_prefix = received["subject"].startswith("vanthu.evt.secret.")
            assert secret_prefix is (document["secrecy"] != "thuong"), received["subject"]
        assert copies["thuong"] != copies["mat"]

        async def seen_by(who: str, copy: str) -> int:
            response = await platform.request("registry", "GET", f"/api/v1/documents/{copy}", AGENCY_B, who)
            return response.status_code

        async def b_holds_both() -> bool:
            return [await seen_by("vanthu", copy) for copy in copies.values()] == [200, 200]

        await eventually(b_holds_both, "Sở Tài chính's văn thư holding both copies")
        shown = ok(
            await platform.request(
                "registry", "GET", f"/api/v1/documents/{copies['mat']}", AGENCY_B, "vanthu"
            )
        )
        assert shown["secrecy"] == "mat" and shown["subject"] == secret["subject"]
        # The secret copy stays secret at the receiver: its leader needs a grant, the ordinary one not.
        assert await seen_by("lanhdao", copies["thuong"]) == 200
        assert await seen_by("lanhdao", copies["mat"]) == 404
        for document in (ordinary, secret):
            await events.wait(contract.STATUS_RECEIVED.type, document_id=document["id"], code="01")
    finally:
        await nc.close()
