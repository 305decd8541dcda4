"""Sign jobs through the work queue: NATS JetStream, a database, the object store, SoftHSM.

Each job is fetched from storage and hash-checked, signed once whatever the deliveries,
stored as a new object and reported with `signing.document.signed`; bad input fails with a
stable code, a `signing.document.failed` event, a dead letter, and nothing stored.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader, PdfWriter
from signing_support import hsm_profile, signing_app

from vanthu_signing import samples

PIN_ENV = "VANTHU_TEST_HSM_PIN"


@pytest.fixture(scope="module")
async def harness(tmp_path_factory, nats_url, hsm, pki, documents):  # type: ignore[no-untyped-def]
    os.environ[PIN_ENV] = hsm.user_pin
    os.environ["VANTHU_TEST_WRONG_PIN"] = "0000"
    tmp = tmp_path_factory.mktemp("jobs")
    async with signing_app(
        tmp,
        nats_url,
        extra_trust_anchors=[pki.root_pem()],
        max_pdf_bytes=1_000_000,
        retry_delays_s=[0.1],
        tsa_url=pki.tsa_url,
    ) as h:
        await h.put_profile(
            "person",
            image=documents.signature_png,
            **hsm_profile(hsm, "person", "personal", user_id="u-dong"),
        )
        await h.put_profile(
            "seal",
            image=documents.seal_png,
            **hsm_profile(
                hsm, "seal", "agency", display_name="Ủy ban nhân dân tỉnh Hà Giang", image_width_mm=36
            ),
        )
        yield h


def _objects(h) -> set[str]:  # type: ignore[no-untyped-def]
    root = Path(h.settings.object_store_dir)
    return {p.name for p in root.rglob("*") if p.is_file() and len(p.name) == 64}


async def test_personal_then_seal_signature_through_the_queue(harness, documents) -> None:  # type: ignore[no-untyped-def]
    h = harness
    source = await h.store(documents.letter)
    job = h.job(
        source,
        kind="personal",
        signer={"user_id": "u-dong"},
        document_number="45/UBND-VP",
        reason="Ký ban hành",
    )
    await h.enqueue(job, correlation_id="draft-1")
    signed = await h.outcome(job.job_id)
    assert signed["type"] == "signing.document.signed", signed
    assert signed["correlation_id"] == "draft-1"
    payload = signed["payload"]
    assert payload["source_sha256"] == source and payload["signed"]["sha256"] != source
    assert payload["signer"]["common_name"] == "Nguyễn Văn Đông" and payload["level"] == "B-B"
    personal_pdf = await h.app.state.storage.fetch(payload["signed"]["sha256"])

    seal_job = h.job(payload["signed"]["sha256"], kind="seal")
    await h.enqueue(seal_job)
    sealed = await h.outcome(seal_job.job_id)
    assert sealed["type"] == "signing.document.signed", sealed
    final = await h.app.state.storage.fetch(sealed["payload"]["signed"]["sha256"])
    assert final.startswith(personal_pdf[:1000])  # an incremental update of the personally signed file
    names = [s.field_name for s in PdfFileReader(io.BytesIO(final)).embedded_signatures]
    assert names == ["vanthu-personal-1", "vanthu-seal-1"]
    report = await h.app.state.validator.validate(final)
    assert report.verdict.value == "valid", report.model_dump()


async def test_a_job_delivered_twice_is_signed_once(harness, documents) -> None:  # type: ignore[no-untyped-def]
    h = harness
    source = await h.store(documents.letter)
    job = h.job(source, kind="attachment", appearance={"main_document_symbol": "45/UBND-VP"})
    await h.enqueue(job)
    await h.enqueue(job)  # a producer retry: another envelope, the same job id
    first = await h.outcome(job.job_id)
    assert first["type"] == "signing.document.signed"
    # Let the second delivery run to completion, then look again.
    import asyncio

    await asyncio.sleep(1.5)
    assert len(h.events_of(job.job_id)) == 1
    async with h.app.state.uow.read() as session:
        from vanthu_signing.repository import JobRepository

        row = await JobRepository(session).get(job.job_id)
    assert row is not None and row["status"] == "signed" and row["attempts"] == 1
    signed = await h.app.state.storage.fetch(first["payload"]["signed"]["sha256"])
    assert len(PdfFileReader(io.BytesIO(signed)).embedded_signatures) == 1


def _encrypted(pdf: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt("secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BAD_INPUTS = [
    ("not_pdf", lambda d: b"GIF89a this is not a PDF" * 10, {}, "signing.not_pdf"),
    ("broken", lambda d: d.letter[:900], {}, "signing.pdf_broken"),
    ("encrypted", lambda d: _encrypted(d.letter), {}, "signing.pdf_encrypted"),
    ("too_large", lambda d: samples.official_letter(padding_bytes=1_200_000), {}, "signing.file_too_large"),
    (
        "no_anchor",
        lambda d: samples.official_letter(anchor="(chữ ký)"),
        {"kind": "personal", "signer": {"user_id": "u-dong"}},
        "signing.anchor_not_found",
    ),
    ("seal_first", lambda d: d.letter, {"kind": "seal"}, "signing.no_personal_signature"),
    (
        "no_profile",
        lambda d: d.letter,
        {"kind": "personal", "signer": {"user_id": "nobody"}},
        "signing.profile_not_found",
    ),
    ("expired", lambda d: d.letter, {"signer": {"profile_id": "expired"}}, "signing.certificate_expired"),
    (
        "no_non_repudiation",
        lambda d: d.letter,
        {"signer": {"profile_id": "no-nr"}},
        "signing.certificate_key_usage",
    ),
    ("wrong_pin", lambda d: d.letter, {"signer": {"profile_id": "wrong-pin"}}, "signing.wrong_pin"),
    (
        "kind_mismatch",
        lambda d: d.letter,
        {"kind": "personal", "signer": {"profile_id": "seal"}},
        "signing.profile_kind_mismatch",
    ),
    (
        "no_certificate",
        lambda d: d.letter,
        {"kind": "personal", "signer": {"user_id": "u-no-token"}},
        "signing.certificate_missing",
    ),
]


@pytest.mark.parametrize(("name", "make", "fields", "code"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
async def test_bad_input_fails_with_a_stable_code_and_stores_nothing(
    harness, hsm, documents, name, make, fields, code
) -> None:  # type: ignore[no-untyped-def]
    h = harness
    await h.put_profile("expired", **hsm_profile(hsm, "expired", "agency"))
    await h.put_profile("no-nr", **hsm_profile(hsm, "no_nr", "agency"))
    await h.put_profile(
        "no-token",
        image=documents.signature_png,
        purpose="personal",
        key_kind="token_proxy",
        user_id="u-no-token",
    )
    await h.put_profile(
        "wrong-pin",
        **hsm_profile(hsm, "seal", "agency", pin_secret="env:VANTHU_TEST_WRONG_PIN", token_label=hsm.label),
    )
    data = make(documents)
    source = await h.store(data)
    # The agency has several agency profiles here: name the one to use.
    default_signer = {"user_id": "u-dong"} if fields.get("kind") == "personal" else {"profile_id": "seal"}
    fields = {
        "kind": "attachment",
        "appearance": {"main_document_symbol": "45/UBND-VP"},
        "signer": default_signer,
        **fields,
    }
    if fields["kind"] == "seal":
        fields.pop("appearance")
    before = _objects(h)
    h.dead_letters.clear()
    job = h.job(source, **fields)
    await h.enqueue(job)
    event = await h.outcome(job.job_id)
    assert event["type"] == "signing.document.failed", event
    assert event["payload"]["code"] == code
    assert event["payload"]["message_vi"] and event["payload"]["message_en"]
    dead = await h.dead_letter()
    assert dead["headers"]["Vanthu-Error-Code"] == code
    assert _objects(h) == before


async def test_a_missing_or_altered_file_is_refused(harness, documents) -> None:  # type: ignore[no-untyped-def]
    h = harness
    job = h.job("ab" * 32, kind="attachment", appearance={"main_document_symbol": "1/X"})
    await h.enqueue(job)
    assert (await h.outcome(job.job_id))["payload"]["code"] == "signing.file_missing"

    sha = await h.store(samples.official_letter(signer="Người Khác"))
    stored = next(p for p in Path(h.settings.object_store_dir).rglob(sha))
    stored.write_bytes(stored.read_bytes().replace(b"%%EOF", b"%%EOX"))  # bit rot / tampering in storage
    job = h.job(sha, kind="attachment", appearance={"main_document_symbol": "1/X"})
    await h.enqueue(job)
    assert (await h.outcome(job.job_id))["payload"]["code"] == "signing.hash_mismatch"


async def test_an_unavailable_hsm_is_retried_then_dead_lettered(harness, documents) -> None:  # type: ignore[no-untyped-def]
    h = harness
    await h.put_profile(
        "offline-hsm",
        **hsm_profile(
            type("T", (), {"module": "/nonexistent/libpkcs11.so", "label": "gone"})(), "seal", "agency"
        ),
    )
    h.dead_letters.clear()
    job = h.job(
        await h.store(documents.letter),
        kind="attachment",
        appearance={"main_document_symbol": "1/X"},
        signer={"profile_id": "offline-hsm"},
    )
    await h.enqueue(job)
    event = await h.outcome(job.job_id, timeout=60)
    assert event["payload"]["code"] == "signing.hsm_unavailable"
    assert event["payload"]["attempts"] == 5  # bounded: the consumer's max_deliver
    dead = await h.dead_letter()
    assert dead["headers"]["Vanthu-Error-Code"] == "signing.hsm_unavailable"
    assert dead["headers"]["Vanthu-Deliveries"] == "5"


@pytest.mark.parametrize("level", ["B-T", "B-LT"])
async def test_timestamped_and_long_term_levels_through_the_queue(harness, documents, pki, level) -> None:  # type: ignore[no-untyped-def]
    from vanthu_signing.trust import TrustAnchor
    from vanthu_signing.validation import Validator

    h = harness
    job = h.job(
        await h.store(documents.letter),
        kind="copy",
        appearance={"copy_type": "sao_y"},
        signer={"profile_id": "seal"},
        level=level,
    )
    await h.enqueue(job)
    event = await h.outcome(job.job_id)
    assert event["type"] == "signing.document.signed", event
    assert event["payload"]["level"] == level and event["payload"]["timestamped"]
    signed = await h.app.state.storage.fetch(event["payload"]["signed"]["sha256"])
    # Offline: B-LT must carry its own revocation data; B-T is checked online.
    validator = Validator([TrustAnchor("root", pki.cert("root"))], allow_fetching=level == "B-T")
    report = await validator.validate(signed)
    assert report.verdict.value == "valid", report.model_dump()
    assert report.signatures[0].pades_level == level and report.signatures[0].timestamp_trusted


async def test_long_term_signature_with_a_revoked_certificate_is_refused(harness, hsm, documents) -> None:  # type: ignore[no-untyped-def]
    h = harness
    await h.put_profile("revoked", **hsm_profile(hsm, "revoked", "agency"))
    job = h.job(
        await h.store(documents.letter),
        kind="copy",
        appearance={"copy_type": "sao_y"},
        signer={"profile_id": "revoked"},
        level="B-LT",
    )
    await h.enqueue(job)
    event = await h.outcome(job.job_id)
    assert (
        event["type"] == "signing.document.failed"
        and event["payload"]["code"] == "signing.certificate_revoked"
    ), event


async def test_profiles_are_managed_by_the_agency_administrator(harness, hsm) -> None:  # type: ignore[no-untyped-def]
    h = harness
    body = {"agency_code": h.agency, **hsm_profile(hsm, "seal", "agency")}
    clerk = await h.client.put("/api/v1/signer-profiles/x", json=body, headers=h.headers(roles=("van_thu",)))
    assert clerk.status_code == 403 and clerk.json()["code"] == "forbidden"
    other = await h.client.put(
        "/api/v1/signer-profiles/x", json=body, headers=h.headers(agency="000.00.00.H01")
    )
    assert other.status_code == 403
    bad = await h.client.put(
        "/api/v1/signer-profiles/x", json={**body, "pin_secret": "1234"}, headers=h.headers()
    )
    assert bad.status_code == 422 and bad.json()["code"] == "signing.profile_invalid"
    # A profile names native code the workers load: only the operator's list is accepted.
    settings = h.app.state.settings
    h.app.state.settings = settings.model_copy(update={"pkcs11_modules": [str(hsm.module)]})
    try:
        elsewhere = await h.client.put(
            "/api/v1/signer-profiles/x", json={**body, "module_path": "/tmp/libevil.so"}, headers=h.headers()
        )
        listed_module = await h.client.put("/api/v1/signer-profiles/x2", json=body, headers=h.headers())
    finally:
        h.app.state.settings = settings
    assert elsewhere.status_code == 422
    assert elsewhere.json()["code"] == "signing.pkcs11_module_not_allowed"
    assert listed_module.status_code == 200, listed_module.text
    opaque = await h.client.put(
        "/api/v1/signer-profiles/seal/image",
        files={"file": ("seal.png", samples.opaque_png(), "image/png")},
        headers=h.headers(),
    )
    assert opaque.status_code == 422 and opaque.json()["code"] == "signing.image_invalid"
    listed = await h.client.get("/api/v1/signer-profiles", headers=h.headers())
    assert {"person", "seal"} <= {p["id"] for p in listed.json()}
    assert all(
        "pin" not in key or value is None or value.startswith("env:")
        for p in listed.json()
        for key, value in p.items()
        if key == "pin_secret"
    )
