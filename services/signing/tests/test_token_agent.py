"""Token-proxy signing: `vanthu token-agent` runs as its own process on the signer's
"computer" (SoftHSM standing in for the USB token), long-polls the service over HTTP, shows
the request and signs; the service finishes the PAdES signature (interrupted signing)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from signing_support import free_port, signing_app

from vanthu_runtime.auth import Principal

USER = "u-agent"


def _agent(h, hsm, pin: str, port: int, log: Path) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        **hsm.env,
        "VANTHU_TOKEN_AGENT_TOKEN": h.issuer.mint(
            Principal(user_id=USER, agency=h.agency, roles=["lanh_dao"], name="Đông")
        ),
        "VANTHU_TOKEN_AGENT_PIN": pin,
    }
    # `python -m vanthu_signing.agent` is the `vanthu token-agent` app without the start-up
    # cost of loading every package's commands (the entry point itself is checked in test_cli).
    command = [
        sys.executable, "-m", "vanthu_signing.agent",
        "--service-url", f"http://127.0.0.1:{port}", "--module", str(hsm.module),
        "--token-label", hsm.label, "--key-label", "person", "--max-requests", "1", "--poll-wait", "2",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


async def _wait_for_certificate(h, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import time

    from vanthu_signing.repository import ProfileRepository

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with h.app.state.uow.read() as session:
            stored = await ProfileRepository(session).get("agent-person")
        if stored is not None and stored.profile.certificate_der:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the agent never registered its certificate")


@pytest.fixture
async def served(tmp_path, nats_url, hsm, pki, documents):  # type: ignore[no-untyped-def]
    port = free_port()
    async with signing_app(
        tmp_path,
        nats_url,
        http_port=port,
        extra_trust_anchors=[pki.root_pem()],
        token_request_timeout_s=60,
        heartbeat_s=1,
    ) as h:
        await h.put_profile(
            "agent-person",
            image=documents.signature_png,
            purpose="personal",
            key_kind="token_proxy",
            user_id=USER,
        )
        yield h, port


async def test_the_agent_process_signs_on_its_token(served, hsm, documents, tmp_path) -> None:  # type: ignore[no-untyped-def]
    h, port = served
    agent = _agent(h, hsm, hsm.user_pin, port, tmp_path / "agent.log")
    try:
        await _wait_for_certificate(h)
        job = h.job(
            await h.store(documents.letter), kind="personal", signer={"user_id": USER},
            document_number="45/UBND-VP", subject="Về việc rà soát dự án đầu tư công",
        )  # fmt: skip
        await h.enqueue(job)
        event = await h.outcome(job.job_id, timeout=90)
        assert event["type"] == "signing.document.signed", event
        assert event["payload"]["signer"]["common_name"] == "Nguyễn Văn Đông"
        assert agent.wait(timeout=60) == 0
    finally:
        agent.kill()
    shown = (tmp_path / "agent.log").read_text()
    assert (
        "45/UBND-VP" in shown and "Về việc rà soát dự án đầu tư công" in shown and "Đã ký / signed" in shown
    )
    signed = await h.app.state.storage.fetch(event["payload"]["signed"]["sha256"])
    assert [s.field_name for s in PdfFileReader(io.BytesIO(signed)).embedded_signatures] == [
        "vanthu-personal-1"
    ]
    report = await h.app.state.validator.validate(signed)
    assert report.verdict.value == "valid", report.model_dump()


async def test_a_wrong_pin_on_the_token_fails_the_job(served, hsm, documents, tmp_path) -> None:  # type: ignore[no-untyped-def]
    h, port = served
    agent = _agent(h, hsm, "9999", port, tmp_path / "agent.log")
    try:
        await _wait_for_certificate(h)
        job = h.job(await h.store(documents.letter), kind="personal", signer={"user_id": USER})
        await h.enqueue(job)
        event = await h.outcome(job.job_id, timeout=90)
        assert event["type"] == "signing.document.failed" and event["payload"]["code"] == "signing.wrong_pin"
        agent.wait(timeout=60)
    finally:
        agent.kill()


async def test_no_answer_times_out_cleanly(tmp_path, nats_url, hsm, pki, documents) -> None:  # type: ignore[no-untyped-def]
    async with signing_app(tmp_path, nats_url, token_request_timeout_s=1.5, heartbeat_s=0.5) as h:
        await h.put_profile(
            "absent",
            image=documents.signature_png,
            purpose="personal",
            key_kind="token_proxy",
            user_id="u-away",
        )
        token = h.issuer.mint(Principal(user_id="u-away", agency=h.agency, roles=["lanh_dao"]))
        import base64

        response = await h.client.put(
            "/api/v1/token-agent/certificate",
            json={"certificate_b64": base64.b64encode(pki.cert_der("person")).decode()},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200 and response.json() == {"profiles": ["absent"]}
        before = {p.name.split(".")[0] for p in Path(h.settings.object_store_dir).rglob("*") if p.is_file()}
        job = h.job(await h.store(documents.letter), kind="personal", signer={"user_id": "u-away"})
        await h.enqueue(job)
        event = await h.outcome(job.job_id, timeout=30)
        assert (
            event["type"] == "signing.document.failed" and event["payload"]["code"] == "signing.token_timeout"
        )
        after = {p.name.split(".")[0] for p in Path(h.settings.object_store_dir).rglob("*") if p.is_file()}
        assert after - before <= {job.file.sha256}  # only the source itself: no signed file written
        # The expired request can no longer be answered.
        pending = await h.client.get(
            "/api/v1/token-agent/requests?wait=0", headers={"Authorization": f"Bearer {token}"}
        )
        assert pending.json() == []
