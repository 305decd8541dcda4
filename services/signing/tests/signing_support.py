"""The signing service in-process (lifespan + ASGI client) on real NATS, a database and a
local object store, with helpers to enqueue jobs and wait for their events."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
from asgi_lifespan import LifespanManager

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events import signing as contract
from vanthu_contracts.events.signing import SignDocument
from vanthu_runtime.auth import DevTokenIssuer, Principal, ensure_dev_keypair
from vanthu_runtime.messaging.provision import provision
from vanthu_signing.app import create_app
from vanthu_signing.settings import SigningSettings


def random_agency() -> str:
    return f"000.{random.randint(10, 99)}.{random.randint(10, 99)}.H{random.randint(10, 99)}"


@dataclass
class Harness:
    app: Any
    client: httpx.AsyncClient
    issuer: DevTokenIssuer
    nc: Any
    agency: str
    settings: SigningSettings
    events: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)

    def token(
        self, user_id: str = "admin", roles: tuple[str, ...] = ("quan_tri",), agency: str | None = None
    ) -> str:
        return self.issuer.mint(
            Principal(user_id=user_id, agency=agency or self.agency, roles=list(roles), name=user_id)
        )

    def headers(self, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**kwargs)}"}

    async def store(self, data: bytes) -> str:
        return (await self.app.state.storage.put_pdf(data)).sha256

    async def put_profile(self, profile_id: str, image: bytes | None = None, **body: Any) -> dict[str, Any]:
        body.setdefault("agency_code", self.agency)
        response = await self.client.put(
            f"/api/v1/signer-profiles/{profile_id}", json=body, headers=self.headers()
        )
        assert response.status_code == 200, response.text
        if image is not None:
            response = await self.client.put(
                f"/api/v1/signer-profiles/{profile_id}/image",
                files={"file": ("image.png", image, "image/png")},
                headers=self.headers(),
            )
            assert response.status_code == 200, response.text
        return response.json()

    def job(self, pdf_sha256: str, **fields: Any) -> SignDocument:
        fields.setdefault("job_id", f"test-{random.getrandbits(48):x}")
        fields.setdefault("agency_code", self.agency)
        fields.setdefault("file", {"sha256": pdf_sha256, "name": "cong-van.pdf"})
        return SignDocument.model_validate(fields)

    async def enqueue(self, job: SignDocument, *, correlation_id: str | None = None) -> Envelope:
        envelope = Envelope(
            type=contract.SIGN.type,
            source="test",
            agency=job.agency_code,
            correlation_id=correlation_id,
            payload=job,
        )
        ack = await self.nc.jetstream().publish(
            contract.SIGN.subject,
            envelope.model_dump_json().encode(),
            headers={"Nats-Msg-Id": envelope.msg_id},
        )
        assert not ack.duplicate
        return envelope

    async def outcome(self, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """The first signed/failed event of the job."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event["payload"]["job_id"] == job_id:
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no outcome for {job_id} within {timeout}s")

    async def dead_letter(self, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.dead_letters:
                return self.dead_letters[-1]
            await asyncio.sleep(0.05)
        raise AssertionError("nothing dead-lettered")

    def events_of(self, job_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["payload"]["job_id"] == job_id]


def hsm_profile(token: Any, label: str, purpose: str, **extra: Any) -> dict[str, Any]:
    return {
        "purpose": purpose,
        "key_kind": "pkcs11",
        "module_path": str(token.module),
        "token_label": token.label,
        "key_label": label,
        "pin_secret": "env:VANTHU_TEST_HSM_PIN",
        **extra,
    }


@asynccontextmanager
async def _served(app: Any, base_url: str, port: int | None) -> AsyncIterator[httpx.AsyncClient]:
    """Lifespan and an HTTP client: in-process (ASGI) or, with a port, a real uvicorn on loopback."""
    if port is None:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
                yield client
        return
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 60
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        await asyncio.sleep(0.05)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def free_port() -> int:
    from vanthu_testing._process import reserve_free_ports

    return reserve_free_ports(1)[0]


@asynccontextmanager
async def signing_app(
    tmp_path: Path,
    nats_url: str,
    database_url: str | None = None,
    *,
    http_port: int | None = None,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    private_key, public_key = ensure_dev_keypair(tmp_path / "keys")
    issuer = DevTokenIssuer(private_key.read_bytes(), issuer="vanthu-dev", audience="vanthu")
    nc = await nats.connect(nats_url)
    report = await provision(nc.jetstream())
    assert report.ok, report.errors
    agency = random_agency()
    settings = SigningSettings(
        database_url=database_url or f"sqlite+aiosqlite:///{tmp_path}/signing.db",
        nats_url=nats_url,
        jwt_public_key_file=public_key,
        object_store_dir=tmp_path / "objects",
        log_json=False,
        outbox_poll_interval_s=0.05,
        **overrides,
    )
    app = create_app(settings)
    holder: list[Harness] = []

    async def on_event(msg: Any) -> None:
        data = json.loads(msg.data)
        if holder and data.get("agency") == agency:
            holder[0].events.append(data)

    async def on_dead_letter(msg: Any) -> None:
        if holder:
            body = json.loads(msg.data)
            if body.get("agency") == agency:
                holder[0].dead_letters.append({"headers": dict(msg.headers or {}), "body": body})

    try:
        async with _served(app, "http://signing", http_port) as client:
            harness = Harness(app, client, issuer, nc, agency, settings)
            holder.append(harness)
            subs = [
                await nc.subscribe("vanthu.evt.signing.>", cb=on_event),
                await nc.subscribe("vanthu.dlq.signing.>", cb=on_dead_letter),
            ]
            try:
                yield harness
            finally:
                for sub in subs:
                    await sub.unsubscribe()
    finally:
        await nc.close()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
