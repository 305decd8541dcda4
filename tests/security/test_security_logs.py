"""No secret reaches the logs or the exported spans.

Registry, interop and signing run here as real processes (`python -m vanthu_<service>`,
settings from the environment as in production), logging JSON lines at DEBUG to files and
exporting every span to JSON-lines files, with secrets chosen to be recognisable: an HSM
token with its own PIN, the axis HMAC secret, the JWT signing key, the signed-URL key,
passwords, and every bearer token the test is given. Flows that handle each of them run,
on their good and their failing paths: logins with good and wrong passwords, a user created
with a password, requests with forged and expired tokens, documents sent through the axis
simulator (with an injected outage), HSM signatures with the right and a wrong PIN. Then no
log line and no span holds any of those values.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import nats
import pytest
from security_data import letter_pdf
from security_platform import AGENCY_A, VPCP, VPCP_SECRET, VPCP_SYSTEM

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events import signing as signing_contract
from vanthu_registry.demo import load_demo
from vanthu_runtime.auth import ensure_dev_keypair
from vanthu_runtime.messaging.provision import provision
from vanthu_testing._process import ServerProcess, reserve_free_ports
from vanthu_testing.nats_server import NatsServer
from vanthu_testing.softhsm import SoftHSMToken, find_softhsm_module

HSM_PIN = "Hsm-Pin-4Qz8Lr2W"
HSM_SO_PIN = "So-Pin-7Tn3Kx5V"
WRONG_PIN = "Wrong-Pin-9Jm2Ds6B"
AXIS_SYSTEM = "00.99.W00"
AXIS_SECRET = "bG9ncy10ZXN0LWF4aXMtc2VjcmV0LTdQcTJXeDlaM3Y="
SIGNED_URL_SECRET = "url-signing-key-3Kd9Pw7Xq2Lm"
NEW_PASSWORD = "Mat-Khau-Moi-8Hx3Qp"
WRONG_PASSWORD = "Sai-Mat-Khau-5Vb7Nc"
SEAL_KEY_ID = "5e"


@dataclass
class Running:
    root: Path
    nats: NatsServer
    urls: dict[str, str]
    processes: dict[str, ServerProcess]
    secrets: dict[str, str] = field(default_factory=dict)  # what → value that must never be logged
    tokens: list[str] = field(default_factory=list)

    def secret_token(self, token: str) -> str:
        self.tokens.append(token)
        return token

    def log_files(self) -> list[Path]:
        return [p.log_path for name, p in self.processes.items() if name != "axis-sim"]

    def span_files(self) -> list[Path]:
        return sorted(self.root.glob("spans-*.jsonl"))


def _seal_certificate(token: SoftHSMToken) -> bytes:
    """A certificate for the token's key, issued by a throw-away CA (the key never leaves the token)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vanthu security test CA")])
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sở Xây dựng tỉnh H99")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_name)
        .public_key(serialization.load_der_public_key(token.public_key_der(SEAL_KEY_ID)))  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


def _service_env(service: str, root: Path, port: int, nats_url: str, public_key: Path) -> dict[str, str]:
    prefix = f"VANTHU_{service.upper()}_"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("VANTHU_")},
        "PYTHONUNBUFFERED": "1",
        "VANTHU_NATS_URL": nats_url,
        "VANTHU_JWT_PUBLIC_KEY_FILE": str(public_key),
        "VANTHU_SIGNED_URL_SECRET": SIGNED_URL_SECRET,
        f"{prefix}PORT": str(port),
        f"{prefix}HOST": "127.0.0.1",
        f"{prefix}PUBLIC_URL": f"http://127.0.0.1:{port}",
        f"{prefix}INSTANCE": f"{service}-logs",
        f"{prefix}DATABASE_URL": f"sqlite+aiosqlite:///{root / f'{service}.db'}",
        f"{prefix}OBJECT_STORE_DIR": str(root / "objects"),
        f"{prefix}LOG_LEVEL": "DEBUG",
        f"{prefix}LOG_JSON": "true",
        f"{prefix}OTEL_EXPORTER": f"jsonl:{root / f'spans-{service}.jsonl'}",
        f"{prefix}OUTBOX_POLL_INTERVAL_S": "0.05",
    }


def _wait_healthy(process: ServerProcess, url: str) -> None:
    def probe() -> bool | None:
        try:
            return True if httpx.get(f"{url}/healthz", timeout=1).status_code == 200 else None
        except httpx.HTTPError:
            return None

    process.wait_until(probe, f"{url}/healthz", timeout=120)


@pytest.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    root = tmp_path_factory.mktemp("logs")
    server = NatsServer(root / "nats")
    server.start()
    processes: dict[str, ServerProcess] = {}
    hsm = SoftHSMToken(root / "hsm", label="security-logs", user_pin=HSM_PIN, so_pin=HSM_SO_PIN)
    try:
        nc = await nats.connect(server.url)
        assert (await provision(nc.jetstream())).ok
        await nc.close()
        hsm.start()
        hsm.generate_rsa_keypair("seal", SEAL_KEY_ID)
        hsm.import_certificate("seal", SEAL_KEY_ID, _seal_certificate(hsm))
        private_key, public_key = ensure_dev_keypair(root / "keys")
        axis_port, registry_port, interop_port, signing_port = reserve_free_ports(4)
        agencies = root / "axis-agencies.json"
        agencies.write_text(
            json.dumps([{"code": VPCP, "name": "Văn phòng Chính phủ", "system_id": VPCP_SYSTEM}])
        )
        python = sys.executable
        commands = {
            "axis-sim": (
                [
                    python,
                    "-m",
                    "vanthu_interop.simulator",
                    "--port",
                    str(axis_port),
                    "--data-dir",
                    str(root / "axis"),
                    "--system",
                    f"{AXIS_SYSTEM}={AXIS_SECRET}@H99",
                    "--system",
                    f"{VPCP_SYSTEM}={VPCP_SECRET}@G22",
                    "--agencies",
                    str(agencies),
                ],
                dict(os.environ),
                axis_port,
            ),
            "registry": (
                [python, "-m", "vanthu_registry"],
                _service_env("registry", root, registry_port, server.url, public_key)
                | {
                    "VANTHU_REGISTRY_JWT_PRIVATE_KEY_FILE": str(private_key),
                    "VANTHU_REGISTRY_SEED_DEMO": "true",
                },
                registry_port,
            ),
            "interop": (
                [python, "-m", "vanthu_interop"],
                _service_env("interop", root, interop_port, server.url, public_key)
                | {
                    "VANTHU_INTEROP_AXIS_ENABLED": "true",
                    "VANTHU_INTEROP_AXIS_ENDPOINT": f"http://127.0.0.1:{axis_port}",
                    "VANTHU_INTEROP_AXIS_SYSTEM_ID": AXIS_SYSTEM,
                    "VANTHU_INTEROP_AXIS_SECRET": AXIS_SECRET,
                    "VANTHU_INTEROP_AXIS_STORE_PATH": str(root / "edoc"),
                    "VANTHU_INTEROP_POLL_INTERVAL_S": "0.5",
                    "VANTHU_INTEROP_PARTNER_SYNC_INTERVAL_S": "0",
                    "VANTHU_INTEROP_SEND_BACKOFF_S": "[0.2, 0.3, 0.5]",
                },
                interop_port,
            ),
            "signing": (
                [python, "-m", "vanthu_signing"],
                _service_env("signing", root, signing_port, server.url, public_key)
                | hsm.env
                | {
                    "VANTHU_SIGNING_WORKER_INSTANCES": "1",
                    "VANTHU_SECURITY_SEAL_PIN": HSM_PIN,
                    "VANTHU_SECURITY_WRONG_PIN": WRONG_PIN,
                },
                signing_port,
            ),
        }
        for name, (argv, env, _) in commands.items():
            processes[name] = ServerProcess(name, argv, root / f"{name}.log", env=env)
            processes[name].launch()
        urls = {name: f"http://127.0.0.1:{port}" for name, (_, _, port) in commands.items()}
        for name, process in processes.items():
            await asyncio.to_thread(_wait_healthy, process, urls[name])
        yield Running(
            root,
            server,
            urls,
            processes,
            secrets={
                "HSM user PIN": HSM_PIN,
                "HSM SO PIN": HSM_SO_PIN,
                "the wrong PIN tried": WRONG_PIN,
                "axis secret": AXIS_SECRET,
                "signed-URL key": SIGNED_URL_SECRET,
                "JWT signing key": private_key.read_text().splitlines()[5],
                "demo password": load_demo()["password"],
                "new user's password": NEW_PASSWORD,
                "wrong password tried": WRONG_PASSWORD,
            },
        )
    finally:
        for process in processes.values():
            process.terminate(timeout=20)
        hsm.stop()
        server.stop()


async def _login(client: httpx.AsyncClient, running: Running, username: str, password: str) -> dict[str, str]:
    response = await client.post("/auth/dev-token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {running.secret_token(response.json()['access_token'])}"}


async def _password_and_token_flows(running: Running) -> dict[str, dict[str, str]]:
    demo = load_demo()["password"]
    async with httpx.AsyncClient(base_url=running.urls["registry"], timeout=60) as registry:
        clerk = await _login(registry, running, "sxd.vanthu", demo)
        admin = await _login(registry, running, "sxd.quantri", demo)
        wrong = await registry.post(
            "/auth/dev-token", json={"username": "sxd.lanhdao", "password": WRONG_PASSWORD}
        )
        assert wrong.status_code == 401
        user = {
            "username": "sxd.moi",
            "full_name": "Người dùng mới",
            "agency_code": AGENCY_A,
            "roles": ["chuyen_vien"],
            "password": NEW_PASSWORD,
        }
        assert (await registry.post("/api/v1/users", json=user, headers=admin)).status_code == 200
        short = await registry.post("/api/v1/users", json=user | {"password": "ngan"}, headers=admin)
        assert short.status_code == 422 and "ngan" not in short.text
        newcomer = await _login(registry, running, "sxd.moi", NEW_PASSWORD)
        assert (await registry.get("/api/v1/me", headers=newcomer)).status_code == 200
        # Tokens that must be refused: the request fails, and the token is not written down.
        issued = jwt.decode(clerk["Authorization"].split()[1], options={"verify_signature": False})
        private_pem = (running.root / "keys" / "jwt-private.pem").read_bytes()
        expired = jwt.encode(issued | {"exp": int(time.time()) - 3600}, private_pem, algorithm="RS256")
        forged = jwt.encode(
            issued | {"roles": ["quan_tri"]}, "not-the-key-but-long-enough-for-hs256", algorithm="HS256"
        )
        probes = {
            "registry": "/api/v1/me",
            "interop": "/api/v1/partners",
            "signing": "/api/v1/signer-profiles",
        }
        for bad in (running.secret_token(expired), running.secret_token(forged)):
            for service, probe in probes.items():
                async with httpx.AsyncClient(base_url=running.urls[service]) as client:
                    response = await client.get(probe, headers={"Authorization": f"Bearer {bad}"})
                    assert response.status_code == 401, (service, response.text)
    return {"clerk": clerk, "admin": admin}


async def _axis_flow(running: Running, clerk: dict[str, str]) -> None:
    """An issued document goes to the Government Office through the simulator, after one injected outage."""
    async with httpx.AsyncClient(base_url=running.urls["axis-sim"]) as control:
        assert (await control.put("/_sim/faults", json={"fail_next": {"sendEdoc": 1}})).status_code == 200
        metadata = {
            "type": "QĐ",
            "subject": "Quyết định về nhật ký an toàn",
            "signer_name": "Trần Văn Hùng",
            "signer_position": "Giám đốc",
            "recipients": [{"organ_id": VPCP, "organ_name": "Văn phòng Chính phủ"}],
        }
        async with httpx.AsyncClient(base_url=running.urls["registry"], timeout=60) as registry:
            response = await registry.post(
                "/api/v1/outgoing",
                headers=clerk,
                data={"metadata": json.dumps(metadata)},
                files={"file": ("signed.pdf", letter_pdf(), "application/pdf")},
            )
            assert response.status_code == 201, response.text
            document = response.json()
            url = await registry.get(
                f"/api/v1/documents/{document['id']}/files/{document['files'][0]['id']}/url", headers=clerk
            )
            assert url.status_code == 200 and SIGNED_URL_SECRET not in url.text

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            delivered = [
                d
                for d in (await control.get("/_sim/deliveries")).json()
                if d["notation"] == document["symbol"]
            ]
            if delivered:
                break
            await asyncio.sleep(0.2)
        assert delivered, "the document never reached the axis"
        assert (await control.get("/_sim/requests")).json().get(
            "sendEdoc", 0
        ) >= 2  # one refused, one accepted


async def _hsm_flow(running: Running, admin: dict[str, str]) -> None:
    """Sign with the HSM key: first with a wrong PIN (refused), then with the right one."""
    from vanthu_runtime.objectstore import LocalObjectStore, UrlSigner

    store = LocalObjectStore(running.root / "objects", UrlSigner(SIGNED_URL_SECRET.encode()), "http://unused")
    await store.prepare()
    stored = await store.put(letter_pdf(), content_type="application/pdf")
    outcomes: dict[str, asyncio.Future[dict[str, Any]]] = {}
    async with httpx.AsyncClient(base_url=running.urls["signing"], timeout=60) as signing:
        for profile, variable in (
            ("sxd-sai-pin", "VANTHU_SECURITY_WRONG_PIN"),
            ("sxd-hsm", "VANTHU_SECURITY_SEAL_PIN"),
        ):
            body = {
                "agency_code": AGENCY_A,
                "purpose": "agency",
                "key_kind": "pkcs11",
                "display_name": "Sở Xây dựng",
                "module_path": str(find_softhsm_module()),
                "token_label": "security-logs",
                "key_label": "seal",
                "pin_secret": f"env:{variable}",
            }
            response = await signing.put(f"/api/v1/signer-profiles/{profile}", json=body, headers=admin)
            assert response.status_code == 200, response.text
            assert HSM_PIN not in response.text and WRONG_PIN not in response.text
    nc = await nats.connect(running.nats.url)

    async def on_event(msg: Any) -> None:
        data = json.loads(msg.data)
        future = outcomes.get(data["payload"].get("job_id"))
        if future is not None and not future.done():
            future.set_result(data)

    try:
        await nc.subscribe("vanthu.evt.signing.document.>", cb=on_event)
        for profile in ("sxd-sai-pin", "sxd-hsm"):
            job = signing_contract.SignDocument(
                job_id=f"logs-{profile}-{uuid.uuid4().hex[:8]}",
                agency_code=AGENCY_A,
                kind="attachment",
                file={"sha256": stored.sha256, "name": "phu-luc.pdf"},
                signer={"profile_id": profile},
                appearance={"main_document_symbol": "45/QĐ-SXD"},
            )
            outcomes[job.job_id] = asyncio.get_running_loop().create_future()
            envelope = Envelope(
                type=signing_contract.SIGN.type, source="routing", agency=AGENCY_A, payload=job
            )
            await nc.jetstream().publish(
                signing_contract.SIGN.subject,
                envelope.model_dump_json().encode(),
                headers={"Nats-Msg-Id": envelope.msg_id},
            )
            event = await asyncio.wait_for(outcomes[job.job_id], 90)
            if profile == "sxd-sai-pin":
                assert event["payload"]["code"] == signing_contract.WRONG_PIN.code, event
            else:
                assert event["type"] == signing_contract.DOCUMENT_SIGNED.type, event
    finally:
        await nc.close()


def _leaks(text: str, running: Running) -> list[str]:
    found = [what for what, value in running.secrets.items() if value in text]
    for token in running.tokens:
        signature = token.rsplit(".", 1)[-1]
        if token in text or (len(signature) >= 20 and signature in text):
            found.append(f"a bearer token ({token[:12]}…)")
    return found


async def test_no_secret_reaches_the_logs_or_the_spans(running: Running) -> None:
    people = await _password_and_token_flows(running)
    await _axis_flow(running, people["clerk"])
    await _hsm_flow(running, people["admin"])
    await asyncio.sleep(1.0)  # the last spans and log lines of the requests above

    logs = {path.name: path.read_text("utf-8", errors="replace") for path in running.log_files()}
    spans = {path.name: path.read_text("utf-8", errors="replace") for path in running.span_files()}
    # The capture is real: JSON lines from each service, and the flows above in them.
    for name, text in logs.items():
        records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        assert len(records) >= 5 and all({"ts", "level", "logger", "msg"} <= set(r) for r in records), name
    assert "signing.wrong_pin" in logs["signing.log"]
    # The wrong-PIN warning keeps its reason (what went wrong is not a secret; the PIN is).
    records = [json.loads(line) for line in logs["signing.log"].splitlines() if line.startswith("{")]
    refusals = [r["msg"] for r in records if r["level"] == "WARNING" and "wrong_pin" in r["msg"]]
    assert refusals and all("HsmError('wrong_pin: PinIncorrect')" in m and "***" not in m for m in refusals)
    assert {"spans-registry.jsonl", "spans-interop.jsonl", "spans-signing.jsonl"} <= set(spans)
    assert all(text.count("\n") >= 3 for text in spans.values()), {k: v.count("\n") for k, v in spans.items()}
    assert len(running.tokens) >= 5

    leaks = {name: _leaks(text, running) for name, text in {**logs, **spans}.items()}
    assert leaks == {name: [] for name in leaks}, leaks
