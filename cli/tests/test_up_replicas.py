"""`vanthu up --replicas signing=2,interop=2`: the extra worker processes share the job queues,
and no job is done twice.

Work goes in the way producers send it: sign jobs published on `vanthu.job.signing.sign` for a
PDF in the shared object store, and `registry.document.issued` events that interop turns into
`interop.send` jobs (one per recipient, plus the 01 status each hosted recipient sends back).
Exactly once is read from the outcome events, counted by job / delivery id; sharing from each
replica's own `/metrics` (messages its consumers applied), checked against the number of jobs
the work-queue stream ever held, and for signing against the `worker` field of each event.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_up_e2e import UpProcess, cleanup  # noqa: F401  (cleanup is a fixture used below)

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events import interop as interop_contract
from vanthu_contracts.events import signing as signing_contract
from vanthu_contracts.events.registry import AgencyUpserted, OrganRef, OutgoingIssued
from vanthu_contracts.subjects import event_subject
from vanthu_testing.clock import local_today

pytestmark = [pytest.mark.e2e, pytest.mark.nats, pytest.mark.slow]

SIGN_JOBS = 20
DOCUMENTS = 12
SENDER = ("000.00.00.H97", "UBND tỉnh Thử Nghiệm")
RECIPIENTS = (("000.00.12.H97", "Sở Tài chính"), ("000.00.13.H97", "Sở Nội vụ"))
SIGNING_AGENCY = SENDER[0]
# Both outcomes: signing is CPU-bound (~0.1–0.5 s a job here); interop's internal sends are quick.
DONE_WITHIN_S = 60.0


# ----------------------------------------------------------------------------- helpers


def _self_signed_pkcs12(directory: Path) -> tuple[Path, Path]:
    """A development seal key (non-repudiation, valid now) and the file holding its passphrase."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "UBND tỉnh Thử Nghiệm (replicas)")])
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    passphrase = "mat-khau-thu"
    p12 = directory / "seal.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", key, cert, None, serialization.BestAvailableEncryption(passphrase.encode())
        )
    )
    secret = directory / "seal.pass"
    secret.write_text(passphrase, encoding="utf-8")
    return p12, secret


async def _publish(js: Any, subject: str, envelope: Envelope[Any]) -> None:
    ack = await js.publish(
        subject, envelope.model_dump_json().encode(), headers={"Nats-Msg-Id": envelope.msg_id}
    )
    assert not ack.duplicate


async def _applied(client: httpx.AsyncClient, url: str, consumer: str) -> int:
    """Messages this one process's consumers `consumer` finished successfully (its /metrics)."""
    from prometheus_client.parser import text_string_to_metric_families

    response = await client.get(f"{url}/metrics", timeout=5)
    response.raise_for_status()
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
            if sample.name == "events_consumed_total"
            and sample.labels.get("consumer") == consumer
            and sample.labels.get("outcome") == "applied"
        )
    )


async def _until(check: Any, what: str, timeout: float = DONE_WITHIN_S) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.2)


def _issued(number: int) -> OutgoingIssued:
    import uuid

    today = local_today()
    symbol = f"{number}/UBND-VP"
    return OutgoingIssued(
        document_id=str(uuid.uuid4()), agency_code=SENDER[0], type_name="Công văn", code_number=str(number),
        code_notation="UBND-VP", issued_date=today, issuer=OrganRef(organ_id=SENDER[0], organ_name=SENDER[1]),
        subject=f"V/v thử nhân bản dịch vụ số {number}", register_id="di-replicas", register_year=today.year,
        number=number, symbol=symbol, axis_document_id=f"{SENDER[0]},{today:%Y/%m/%d},{symbol}",
        issued_at=datetime.now(UTC),
        internal_recipients=[OrganRef(organ_id=code, organ_name=name) for code, name in RECIPIENTS],
    )  # fmt: skip


# ----------------------------------------------------------------------------- the scenario


class Platform:
    """The running platform as the test sees it: NATS, each instance's URL, the shared store."""

    def __init__(self, data_dir: Path, state: dict[str, Any]) -> None:
        self.data_dir = data_dir
        self.nats_url: str = state["nats"]["url"]
        self.urls: dict[str, str] = {record["instance"]: record["url"] for record in state["instances"]}
        self.events: list[dict[str, Any]] = []

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == type_]

    async def replica_counts(self, service: str, consumer: str) -> dict[str, int]:
        async with httpx.AsyncClient() as client:
            return {
                instance: await _applied(client, url, consumer)
                for instance, url in self.urls.items()
                if instance.startswith(f"{service}-")
            }


async def _sign_jobs(platform: Platform, js: Any, scratch: Path) -> list[str]:
    from vanthu_runtime.auth import DevTokenIssuer, Principal
    from vanthu_runtime.objectstore import LocalObjectStore, UrlSigner
    from vanthu_signing import samples

    p12, secret = _self_signed_pkcs12(scratch)
    keys = platform.data_dir / "keys"
    issuer = DevTokenIssuer((keys / "jwt-private.pem").read_bytes(), issuer="vanthu-dev", audience="vanthu")
    admin = issuer.mint(Principal(user_id="qt-replicas", agency=SIGNING_AGENCY, roles=["quan_tri"]))
    async with httpx.AsyncClient(base_url=platform.urls["signing-1"]) as api:
        response = await api.put(
            "/api/v1/signer-profiles/seal-replicas",
            headers={"Authorization": f"Bearer {admin}"},
            json={
                "agency_code": SIGNING_AGENCY, "purpose": "agency", "key_kind": "pkcs12",
                "display_name": SENDER[1], "pkcs12_path": str(p12), "pkcs12_passphrase_secret": f"file:{secret}",
            },
        )  # fmt: skip
        assert response.status_code == 200, response.text
    # `vanthu up` gives every service one content-addressed store (as one S3 bucket in production).
    store = LocalObjectStore(platform.data_dir / "objects", UrlSigner(b"k" * 32), "http://unused")
    await store.prepare()
    source = await store.put(samples.official_letter(), content_type="application/pdf")
    job_ids = [f"replicas-{i}" for i in range(SIGN_JOBS)]
    for job_id in job_ids:
        job = signing_contract.SignDocument(
            job_id=job_id, agency_code=SIGNING_AGENCY, kind="attachment",
            file={"sha256": source.sha256, "name": "cong-van.pdf"},
            appearance={"main_document_symbol": f"{job_id}/UBND-VP"},
        )  # fmt: skip
        envelope = Envelope(
            type=signing_contract.SIGN.type, source="test", agency=SIGNING_AGENCY, payload=job
        )
        await _publish(js, signing_contract.SIGN.subject, envelope)
    return job_ids


async def _issue_documents(platform: Platform, js: Any) -> list[OutgoingIssued]:
    directory = interop_contract.DIRECTORY_CONSUMER.durable
    before = sum((await platform.replica_counts("interop", directory)).values())
    for code, name in (SENDER, *RECIPIENTS):
        agency = AgencyUpserted(code=code, name=name, abbreviation="UBND", hosted=True)
        envelope = Envelope(type="registry.agency.upserted", source="registry", agency=code, payload=agency)
        await _publish(js, event_subject(envelope.type), envelope)

    async def agencies_known() -> bool:
        return sum((await platform.replica_counts("interop", directory)).values()) >= before + 3

    await _until(agencies_known, "interop applied the three hosted agencies")
    documents = [_issued(number) for number in range(1, DOCUMENTS + 1)]
    for document in documents:
        envelope = Envelope(
            type="registry.document.issued", source="registry", agency=SENDER[0], payload=document
        )
        await _publish(js, event_subject(envelope.type), envelope)
    return documents


async def _scenario(platform: Platform, scratch: Path) -> None:
    import nats

    nc = await nats.connect(platform.nats_url, connect_timeout=5)
    try:
        js = nc.jetstream(timeout=10)

        async def collect(msg: Any) -> None:
            platform.events.append(json.loads(msg.data))

        for subject in ("vanthu.evt.signing.>", "vanthu.evt.interop.>"):
            await js.subscribe(subject, cb=collect, ordered_consumer=True)

        job_ids = await _sign_jobs(platform, js, scratch)
        documents = await _issue_documents(platform, js)
        deliveries = {(doc.document_id, code) for doc in documents for code, _ in RECIPIENTS}
        # What the recipients see (and report status on): the edXML DocumentId.
        copies = {(doc.axis_document_id, code) for doc in documents for code, _ in RECIPIENTS}

        async def all_done() -> bool:
            signed = {e["payload"]["job_id"] for e in platform.of(signing_contract.DOCUMENT_SIGNED.type)}
            failed = platform.of(signing_contract.DOCUMENT_FAILED.type) + platform.of(
                interop_contract.SEND_FAILED.type
            )
            assert not failed, failed
            sent = {
                (e["payload"]["document_id"], e["payload"]["recipient"]["organ_id"])
                for e in platform.of(interop_contract.DOCUMENT_SENT.type)
            }
            statuses = platform.of(interop_contract.STATUS_RECEIVED.type)
            return signed >= set(job_ids) and sent >= deliveries and len(statuses) >= len(deliveries)

        await _until(all_done, f"{SIGN_JOBS} signatures and {len(deliveries)} deliveries")
        await asyncio.sleep(2.0)  # a job done twice would publish its second outcome by now

        # --- exactly once, per job id / per delivery
        signed = Counter(e["payload"]["job_id"] for e in platform.of(signing_contract.DOCUMENT_SIGNED.type))
        assert signed == dict.fromkeys(job_ids, 1), signed
        sent_events = platform.of(interop_contract.DOCUMENT_SENT.type)
        assert len({e["payload"]["delivery_id"] for e in sent_events}) == len(sent_events)
        sent = Counter(
            (e["payload"]["document_id"], e["payload"]["recipient"]["organ_id"]) for e in sent_events
        )
        assert sent == dict.fromkeys(deliveries, 1), sent
        received = Counter(
            (e["payload"]["external_document_id"], e["payload"]["agency_code"])
            for e in platform.of(interop_contract.DOCUMENT_RECEIVED.type)
        )
        assert received == dict.fromkeys(copies, 1), received
        # Each recipient's 01 (received) went back once: one send job more per delivery.
        status_01 = Counter(
            (e["payload"]["external_document_id"], e["payload"]["recipient"]["organ_id"])
            for e in platform.of(interop_contract.STATUS_RECEIVED.type)
            if e["payload"]["code"] == "01"
        )
        assert status_01 == dict.fromkeys(copies, 1), status_01

        # --- both replicas did some of it, and together each job once
        for service, consumer, stream in (
            ("signing", signing_contract.SIGN_CONSUMER.durable, signing_contract.SIGN_CONSUMER.stream),
            ("interop", interop_contract.SEND_CONSUMER.durable, interop_contract.SEND_CONSUMER.stream),
        ):
            counts = await platform.replica_counts(service, consumer)
            assert set(counts) == {f"{service}-1", f"{service}-2"}
            assert all(n > 0 for n in counts.values()), (service, counts)
            info = await js.stream_info(stream)
            assert info.state.messages == 0, f"{stream} still holds {info.state.messages} jobs"
            # A fresh platform: the work queue's last sequence is every job it ever held.
            assert sum(counts.values()) == info.state.last_seq, (service, counts, info.state.last_seq)
        by_worker = Counter(
            e["payload"]["worker"] for e in platform.of(signing_contract.DOCUMENT_SIGNED.type)
        )
        assert by_worker == await platform.replica_counts("signing", signing_contract.SIGN_CONSUMER.durable)
    finally:
        await nc.close()


def test_replicas_share_the_job_queues_and_no_job_is_done_twice(
    tmp_path: Path,
    cleanup: list[UpProcess],  # noqa: F811
) -> None:
    data_dir = tmp_path / "var"
    run = UpProcess(data_dir, tmp_path / "up.log", "--replicas", "signing=2,interop=2")
    cleanup.append(run)
    report = run.wait_until_healthy()
    instances = {service["instance"] for service in report["services"]}
    assert {"signing-1", "signing-2", "interop-1", "interop-2"} <= instances
    state = json.loads((data_dir / "platform.json").read_text(encoding="utf-8"))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    asyncio.run(_scenario(Platform(data_dir, state), scratch))
    assert run.interrupt() == 0, run.text()
