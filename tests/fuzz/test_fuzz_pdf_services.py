"""Hostile PDFs through the services: the registry's upload, signing's /verify and its sign jobs.

Both apps run in process on real NATS, with SQLite and a local object store, as their own
tests run them. Every upload and every /verify answers 2xx or a 4xx in the standard error
shape with a registry.* / signing.* code; every sign job ends (signed, or failed with a PDF
code — never the transient signing.failed that would retry a hopeless file eight times);
nothing takes 5 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from asgi_lifespan import LifespanManager
from fuzz_checks import Timings, check_error_body, draw_examples
from pdf_corpus import REGISTRY_REFUSALS, SIGNING_REFUSALS, base_pdf, damaged_pdfs, specimens
from pdf_keys import make_pkcs12

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events import signing as signing_contract
from vanthu_contracts.events.common import Role
from vanthu_contracts.events.signing import SignDocument
from vanthu_registry.app import create_app as create_registry
from vanthu_registry.settings import RegistrySettings
from vanthu_runtime.auth import DevTokenIssuer, Principal, ensure_dev_keypair
from vanthu_signing import samples
from vanthu_signing.app import create_app as create_signing
from vanthu_signing.settings import SigningSettings

AGENCY = "000.00.31.H99"
PASSPHRASE_ENV = "VANTHU_FUZZ_P12_PASSPHRASE"
SIGN_REFUSALS = SIGNING_REFUSALS | {"signing.anchor_not_found", "signing.placement_invalid"}
GENERATED_CI = 20
GENERATED_LONG = 300


def _hostile_files(long_run: bool) -> list[tuple[str, bytes]]:
    files = [(s.name, s.data) for s in specimens()]
    generated = draw_examples(damaged_pdfs((base_pdf(),)), GENERATED_LONG if long_run else GENERATED_CI)
    return files + [(f"generated #{i}", data) for i, data in enumerate(generated)]  # type: ignore[misc]


@asynccontextmanager
async def _served(app: Any, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url, timeout=60
        ) as client:
            yield client


def _issuer(keys: Path) -> tuple[DevTokenIssuer, Path, Path]:
    private_key, public_key = ensure_dev_keypair(keys)
    return (
        DevTokenIssuer(private_key.read_bytes(), issuer="vanthu-dev", audience="vanthu"),
        private_key,
        public_key,
    )


async def test_hostile_pdfs_uploaded_to_the_registry(
    tmp_path: Path, provisioned: str, long_run: bool
) -> None:
    issuer, private_key, public_key = _issuer(tmp_path / "keys")
    settings = RegistrySettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}", nats_url=provisioned, object_store="local",
        object_store_dir=tmp_path / "objects", jwt_public_key_file=public_key, jwt_private_key_file=private_key,
        log_json=False, log_level="WARNING", text_index_interval_s=0.1, public_url="http://testserver",
    )  # fmt: skip
    app = create_registry(settings)
    timings = Timings()
    answers: dict[int, int] = {}
    async with _served(app, "http://testserver") as client:
        directory = app.state.directory
        await directory.upsert_agency(None, {"code": AGENCY, "name": "Sở Thử nghiệm", "abbreviation": "STN"})
        office = await directory.upsert_unit(
            None, {"agency_code": AGENCY, "name": "Văn phòng", "abbreviation": "VP"}
        )
        clerk = await directory.upsert_user(None, {"username": "vanthu-fuzz", "full_name": "Văn thư", "agency_code": AGENCY,
                                                   "unit_id": office.id, "position": "Văn thư", "roles": [Role.CLERK]})  # fmt: skip
        token = issuer.mint(
            Principal(
                user_id=clerk.id, agency=AGENCY, unit=office.id, roles=[str(Role.CLERK)], name="Văn thư"
            )
        )
        for index, (name, data) in enumerate(_hostile_files(long_run)):
            metadata = {"type": "cong_van", "subject": f"Thử tệp {name}", "code_number": str(index + 1),
                        "code_notation": "STN-VP", "organ_name": "Sở Thử nghiệm"}  # fmt: skip
            with timings.case(name):
                answer = await client.post(
                    "/api/v1/incoming",
                    headers={"Authorization": f"Bearer {token}"},
                    data={"metadata": json.dumps(metadata)},
                    files={"file": (f"{index}.pdf", data, "application/pdf")},
                )
            answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
            assert answer.status_code < 500, (name, answer.text)
            if answer.status_code != 201:
                code = check_error_body(answer.json(), answer.status_code)
                assert code in REGISTRY_REFUSALS, (name, answer.json())
        # The indexer reads every accepted file's text in the background: it must get through them.
        indexed = await _wait_indexed(app)
    print(f"\nregistry uploads: {timings.summary()}; answers {answers}; indexed {indexed}")
    assert answers.get(201) and answers.get(422)
    timings.assert_within_budget()


async def _wait_indexed(app: Any, timeout: float = 60.0) -> int:
    from sqlalchemy import func, select

    from vanthu_registry.tables import document_files

    deadline = time.monotonic() + timeout
    while True:
        async with app.state.runtime.uow.read() as session:
            pending, done = (
                await session.execute(
                    select(
                        func.count().filter(document_files.c.text_state == "pending"),
                        func.count().filter(document_files.c.text_state != "pending"),
                    )
                )
            ).one()
        if pending == 0:
            return int(done)
        assert time.monotonic() < deadline, f"{pending} files still waiting for the text indexer"
        await asyncio.sleep(0.2)


@pytest.fixture
async def signing(
    tmp_path: Path, provisioned: str
) -> AsyncIterator[tuple[Any, httpx.AsyncClient, DevTokenIssuer, list[dict[str, Any]]]]:
    issuer, _, public_key = _issuer(tmp_path / "keys")
    os.environ[PASSPHRASE_ENV] = "mat-khau-thu"
    settings = SigningSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'signing.db'}", nats_url=provisioned,
        jwt_public_key_file=public_key, object_store_dir=tmp_path / "objects", log_json=False, log_level="WARNING",
        outbox_poll_interval_s=0.05, worker_instances=1, retry_delays_s=[0.05],
    )  # fmt: skip
    app = create_signing(settings)
    events: list[dict[str, Any]] = []
    nc = await nats.connect(provisioned)

    async def collect(msg: Any) -> None:
        event = json.loads(msg.data)
        if event.get("agency") == AGENCY:
            events.append(event)

    await nc.subscribe("vanthu.evt.signing.>", cb=collect)
    try:
        async with _served(app, "http://signing") as client:
            yield app, client, issuer, events
    finally:
        await nc.close()
        os.environ.pop(PASSPHRASE_ENV, None)


async def test_hostile_pdfs_verified_and_signed(
    signing: Any, tmp_path: Path, provisioned: str, long_run: bool
) -> None:
    app, client, issuer, events = signing
    admin = {
        "Authorization": "Bearer "
        + issuer.mint(Principal(user_id="admin", agency=AGENCY, roles=[str(Role.ADMIN)]))
    }
    p12 = make_pkcs12(tmp_path / "signer.p12", b"mat-khau-thu")
    profile = {"agency_code": AGENCY, "purpose": "personal", "key_kind": "pkcs12", "user_id": "lanh-dao",
               "display_name": "Nguyễn Văn Á", "pkcs12_path": str(p12), "pkcs12_passphrase_secret": f"env:{PASSPHRASE_ENV}"}  # fmt: skip
    assert (
        await client.put("/api/v1/signer-profiles/fuzz-personal", json=profile, headers=admin)
    ).status_code == 200
    image = await client.put("/api/v1/signer-profiles/fuzz-personal/image", headers=admin,
                             files={"file": ("chu-ky.png", samples.signature_png(), "image/png")})  # fmt: skip
    assert image.status_code == 200, image.text
    nc = await nats.connect(provisioned)
    verify_timings, sign_timings = Timings(), Timings()
    outcomes: dict[str, int] = {}
    try:
        for index, (name, data) in enumerate(_hostile_files(long_run)):
            with verify_timings.case(name):
                answer = await client.post(
                    "/api/v1/verify", headers=admin, files={"file": (f"{index}.pdf", data, "application/pdf")}
                )
            assert answer.status_code < 500, (name, answer.text)
            if answer.status_code != 200:
                check_error_body(answer.json(), answer.status_code)
            stored = await app.state.storage.put_pdf(data) if data else None
            if stored is None:
                continue  # an empty file cannot even be stored, so it is never a job
            job = SignDocument.model_validate({"job_id": f"fuzz-{index}-{time.time_ns()}", "agency_code": AGENCY, "kind": "personal",
                                               "signer": {"user_id": "lanh-dao"}, "file": {"sha256": stored.sha256, "name": "x.pdf", "size": stored.size}})  # fmt: skip
            with sign_timings.case(name):
                outcome = await _sign(nc, job, events)
            code = outcome["payload"].get("code", "signed")
            outcomes[code] = outcomes.get(code, 0) + 1
            assert code == "signed" or code in SIGN_REFUSALS, (name, outcome["payload"])
    finally:
        await nc.close()
    print(
        f"\nsigning /verify: {verify_timings.summary()}\nsign jobs: {sign_timings.summary()}; outcomes {outcomes}"
    )
    assert outcomes.get("signed") and outcomes.get("signing.pdf_broken"), outcomes
    verify_timings.assert_within_budget()
    sign_timings.assert_within_budget()


async def _sign(
    nc: Any, job: SignDocument, events: list[dict[str, Any]], timeout: float = 60.0
) -> dict[str, Any]:
    envelope = Envelope(type=signing_contract.SIGN.type, source="routing", agency=AGENCY, payload=job)
    await nc.jetstream().publish(signing_contract.SIGN.subject, envelope.model_dump_json().encode(),
                                 headers={"Nats-Msg-Id": envelope.msg_id})  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in events:
            if event["payload"].get("job_id") == job.job_id:
                return event
        await asyncio.sleep(0.02)
    raise AssertionError(f"no outcome for {job.job_id}")
