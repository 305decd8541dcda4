"""Two platforms exchange a document and all its statuses through the axis simulator, with faults.

Each platform is its own interop process with its own NATS server, database, object store and
agency codes; the simulator is a third process checking every request's HMAC. Injected: 5xx
answers, a lost sendEdoc answer (the axis took it), a lost acknowledgement, a timeout, every
list entry twice, packets re-serialised by the axis, and a packet re-delivered under a new
docId. Every packet must still be imported exactly once, and nothing sent twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from interop_harness import connect, handling, issued, publish

from vanthu_contracts.events.common import Role
from vanthu_contracts.events.registry import FileRef
from vanthu_interop.bench.platforms import A_FINANCE, A_PROVINCE, B_PROVINCE, TwoPlatforms
from vanthu_runtime.auth import DevTokenIssuer, Principal, ensure_dev_keypair
from vanthu_runtime.objectstore import LocalObjectStore, UrlSigner

pytestmark = [pytest.mark.nats, pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("exchange")
    private_key, public_key = ensure_dev_keypair(root / "keys")
    with TwoPlatforms(root, public_key) as platforms:
        yield {
            "sim": platforms.sim_url,
            "a": platforms.a,
            "b": platforms.b,
            "issuer": DevTokenIssuer(private_key.read_bytes(), issuer="vanthu-dev", audience="vanthu"),
        }


@pytest.fixture
async def wired(exchange: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    for side in (exchange["a"], exchange["b"]):
        side.nc, side.log = await connect(side.nats.url)  # type: ignore[attr-defined]
    yield exchange
    for side in (exchange["a"], exchange["b"]):
        await side.nc.close()  # type: ignore[attr-defined]


async def _put_file(objects: Path, data: bytes, name: str) -> FileRef:
    store = LocalObjectStore(objects, UrlSigner(b"k" * 32), "http://unused")
    await store.prepare()
    stored = await store.put(data, content_type="application/pdf")
    return FileRef(sha256=stored.sha256, name=name, content_type="application/pdf", size=len(data))


async def test_two_platforms_exchange_a_document_and_its_statuses_through_a_faulty_axis(
    wired: dict[str, Any],
) -> None:
    a, b, sim = wired["a"], wired["b"], wired["sim"]
    async with httpx.AsyncClient(base_url=sim) as control:
        faults = {
            "fail_next": {"sendEdoc": 1, "getEdoc": 1},
            "lose_answer_next": {"sendEdoc": 1, "updateStatus": 1},
            "timeout_next": {"getReceivedEdocList": 1},
            "timeout_s": 3.0,
            "error_rate": 0.05,
            "duplicate_list_entries": True,
            "reserialise": True,
            "redeliver_next": 1,
        }
        assert (await control.put("/_sim/faults", json=faults)).status_code == 200

        pdf = b"%PDF-1.7\n" + os.urandom(300_000) + b"\n%%EOF\n"
        main = await _put_file(a.objects, pdf, "45-UBND-VP.signed.pdf")
        document = issued(A_PROVINCE, 45, internal=[(A_FINANCE, "Sở Tài chính")],
                          external=[(B_PROVINCE, "UBND tỉnh Sơn Lâm")], files=[main])  # fmt: skip
        await publish(a.nc, "registry.document.issued", document, source="registry", agency=A_PROVINCE)

        # B imports it once, with the file intact, although the axis re-serialised and re-sent it.
        [received] = await b.log.wait_for("interop.document.received", timeout=60, agency_code=B_PROVINCE)
        receipt = received["payload"]
        assert receipt["channel"] == "axis" and receipt["external_document_id"] == document.axis_document_id
        assert receipt["sender"]["organ_id"] == A_PROVINCE and receipt["code_number"] == "45"
        [file] = receipt["files"]
        assert file["sha256"] == hashlib.sha256(pdf).hexdigest() and file["name"] == "45-UBND-VP.signed.pdf"
        stored = b.objects / file["sha256"][:2] / file["sha256"][2:4] / file["sha256"]
        assert stored.read_bytes() == pdf
        # The mixed recipient list was split: the hosted Sở got it over NATS.
        await a.log.wait_for("interop.document.received", agency_code=A_FINANCE)
        await a.log.wait_for("interop.status.received", timeout=60, code="01", document_id=document.document_id,
                             recipient={"organ_id": B_PROVINCE, "organ_name": "UBND tỉnh Sơn Lâm"})  # fmt: skip

        # B's routing moves the document on; A sees every status exactly once.
        for type_, code in (
            ("accepted", "03"),
            ("assigned", "04"),
            ("progressed", "05"),
            ("completed", "06"),
        ):
            await publish(
                b.nc,
                f"routing.handling.{type_}",
                handling(receipt, code),
                source="routing",
                agency=B_PROVINCE,
            )
        for code in ("03", "04", "05", "06"):
            await a.log.wait_for(
                "interop.status.received", timeout=60, code=code, document_id=document.document_id
            )

        # Recall from A: B's copy is recalled, A gets 15 from both recipients.
        token = wired["issuer"].mint(Principal(user_id="vt", agency=A_PROVINCE, roles=[str(Role.CLERK)]))
        async with httpx.AsyncClient(base_url=a.base_url) as api:
            response = await api.post(
                f"/api/v1/outgoing/{document.document_id}/recall", json={"reason": "Ban hành nhầm"},
                headers={"Authorization": f"Bearer {token}"},
            )  # fmt: skip
            assert response.status_code == 200 and response.json()["planned"] == 2, response.text
            [recalled] = await b.log.wait_for("interop.document.recalled", timeout=60, agency_code=B_PROVINCE)
            assert recalled["payload"]["document_id"] == receipt["document_id"]
            assert (
                recalled["payload"]["route"] == "status_13"
                and recalled["payload"]["reason"] == "Ban hành nhầm"
            )
            await a.log.wait_for(
                "interop.status.received", 2, timeout=60, code="15", document_id=document.document_id
            )

            # Let late duplicates (re-listing, re-delivery, retries) arrive, then count.
            await asyncio.sleep(3)
            assert len(b.log.of("interop.document.received")) == 1
            assert len(b.log.of("interop.document.recalled")) == 1
            by_code: dict[str, int] = {}
            for event in a.log.of("interop.status.received", document_id=document.document_id):
                key = f"{event['payload']['recipient']['organ_id']}:{event['payload']['code']}"
                by_code[key] = by_code.get(key, 0) + 1
            assert by_code == {
                f"{B_PROVINCE}:01": 1, f"{B_PROVINCE}:03": 1, f"{B_PROVINCE}:04": 1, f"{B_PROVINCE}:05": 1,
                f"{B_PROVINCE}:06": 1, f"{B_PROVINCE}:15": 1, f"{A_FINANCE}:01": 1, f"{A_FINANCE}:15": 1,
            }  # fmt: skip
            shown = (
                await api.get(
                    f"/api/v1/outgoing/{document.document_id}/recipients",
                    headers={"Authorization": f"Bearer {token}"},
                )
            ).json()
            assert {r["recipient_code"]: r["code"] for r in shown} == {B_PROVINCE: "15", A_FINANCE: "15"}

        # The axis saw the document sent once (the lost answer was not followed by a second send).
        deliveries = (await control.get("/_sim/deliveries")).json()
        documents = [d for d in deliveries if d["messageType"] == "edoc"]
        assert len({d["senderDocId"] for d in documents}) == 1
        assert all(d["status"] == "done" for d in deliveries), [
            d for d in deliveries if d["status"] != "done"
        ]
        requests = (await control.get("/_sim/requests")).json()
        assert requests["getSentEdocList"] >= 1  # the sender looked before re-sending


async def test_a_status_packet_whose_answer_was_lost_is_looked_up_not_sent_again(
    wired: dict[str, Any],
) -> None:
    """The axis took B's status 03 but its answer never came back (as when interop is killed
    between the send and recording it): the retry finds the packet in the sent list instead of
    sending a second one."""
    a, b, sim = wired["a"], wired["b"], wired["sim"]
    async with httpx.AsyncClient(base_url=sim) as control:
        assert (await control.put("/_sim/faults", json={})).status_code == 200
        document = issued(A_PROVINCE, 46, external=[(B_PROVINCE, "UBND tỉnh Sơn Lâm")])
        await publish(a.nc, "registry.document.issued", document, source="registry", agency=A_PROVINCE)
        [received] = await b.log.wait_for(
            "interop.document.received", timeout=60, external_document_id=document.axis_document_id
        )
        await a.log.wait_for(
            "interop.status.received", timeout=60, code="01", document_id=document.document_id
        )

        before = (await control.get("/_sim/requests")).json().get("getSentEdocList", 0)
        faults = {"lose_answer_next": {"sendEdoc": 1}}
        assert (await control.put("/_sim/faults", json=faults)).status_code == 200
        receipt = received["payload"]
        await publish(
            b.nc, "routing.handling.accepted", handling(receipt, "03"), source="routing", agency=B_PROVINCE
        )
        await a.log.wait_for(
            "interop.status.received", timeout=60, code="03", document_id=document.document_id
        )
        [sent] = await b.log.wait_for(
            "interop.status.sent", timeout=60, code="03", document_id=receipt["document_id"]
        )

        statuses = [
            d
            for d in (await control.get("/_sim/deliveries")).json()
            if d["messageType"] == "status"
            and d["fromCode"] == B_PROVINCE
            and d["notation"] == document.symbol
        ]
        assert len(statuses) == 2, statuses  # 01 and 03, each once
        assert (await control.get("/_sim/requests")).json()["getSentEdocList"] > before  # it looked first
        assert sent["payload"]["to"]["organ_id"] == A_PROVINCE


async def test_a_document_whose_files_are_too_big_for_memory_is_built_through_files(
    wired: dict[str, Any],
) -> None:
    """Files adding up to more than the in-memory limit are fetched to a working directory and the
    packet is built to a file and streamed; both files still arrive intact and in order."""
    from vanthu_interop.usecases.sending import IN_MEMORY_ATTACHMENTS

    a, b, sim = wired["a"], wired["b"], wired["sim"]
    async with httpx.AsyncClient(base_url=sim) as control:
        assert (await control.put("/_sim/faults", json={})).status_code == 200
    main_pdf = b"%PDF-1.7\n" + os.urandom(IN_MEMORY_ATTACHMENTS) + b"\n%%EOF\n"
    annex_pdf = b"%PDF-1.7\n" + os.urandom(50_000) + b"\n%%EOF\n"
    files = [
        await _put_file(a.objects, main_pdf, "47-UBND-VP.pdf"),
        await _put_file(a.objects, annex_pdf, "phu-luc.pdf"),
    ]
    document = issued(A_PROVINCE, 47, external=[(B_PROVINCE, "UBND tỉnh Sơn Lâm")], files=files)
    await publish(a.nc, "registry.document.issued", document, source="registry", agency=A_PROVINCE)
    [received] = await b.log.wait_for(
        "interop.document.received", timeout=60, external_document_id=document.axis_document_id
    )
    got = received["payload"]["files"]
    assert [(f["name"], f["sha256"]) for f in got] == [
        ("47-UBND-VP.pdf", hashlib.sha256(main_pdf).hexdigest()),
        ("phu-luc.pdf", hashlib.sha256(annex_pdf).hexdigest()),
    ]
    for f, data in zip(got, (main_pdf, annex_pdf), strict=True):
        assert (b.objects / f["sha256"][:2] / f["sha256"][2:4] / f["sha256"]).read_bytes() == data
