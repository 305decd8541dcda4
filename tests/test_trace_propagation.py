"""One trace id flows from an HTTP request, through the outbox and NATS, into a second process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nats
import pytest

from vanthu_contracts.streams import EVENTS_STREAM, STREAMS, ConsumerSpec
from vanthu_runtime.auth import ensure_dev_keypair
from vanthu_runtime.messaging.provision import provision
from vanthu_testing._process import reserve_free_ports

pytestmark = [pytest.mark.nats, pytest.mark.e2e]

DEMO_PASSWORD = "vanthu-demo-2026"


def _spans(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_trace_id_crosses_http_outbox_nats_and_a_second_process(nats_url: str, tmp_path: Path) -> None:
    durable = "trace_test_" + os.urandom(3).hex()
    nc = await nats.connect(nats_url)
    spec = ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable=durable,
        service="analytics",
        filter_subjects=("vanthu.evt.registry.agency.upserted",),
    )
    assert (await provision(nc.jetstream(), streams=STREAMS, consumer_specs=(spec,))).ok
    private_key, public_key = ensure_dev_keypair(tmp_path / "keys")
    [port] = reserve_free_ports(1)
    registry_spans = tmp_path / "registry.jsonl"
    consumer_spans = tmp_path / "consumer.jsonl"
    env = {
        **os.environ,
        "VANTHU_NATS_URL": nats_url,
        "VANTHU_REGISTRY_PORT": str(port),
        "VANTHU_REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}",
        "VANTHU_REGISTRY_OBJECT_STORE_DIR": str(tmp_path / "objects"),
        "VANTHU_REGISTRY_SEED_DEMO": "true",
        "VANTHU_REGISTRY_JWT_PRIVATE_KEY_FILE": str(private_key),
        "VANTHU_JWT_PUBLIC_KEY_FILE": str(public_key),
        "VANTHU_REGISTRY_OTEL_EXPORTER": f"jsonl:{registry_spans}",
    }
    registry = subprocess.Popen(
        [sys.executable, "-m", "vanthu_registry"], env=env, stderr=subprocess.PIPE, text=True
    )
    consumer = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).parent / "procs" / "trace_consumer.py"),
            nats_url,
            durable,
            str(consumer_spans),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _healthy(base), 120, "the registry to start")
        token = httpx.post(
            f"{base}/auth/dev-token", json={"username": "ubnd.quantri", "password": DEMO_PASSWORD}
        ).json()["access_token"]
        response = httpx.put(
            f"{base}/api/v1/agencies/000.00.14.H99",
            json={
                "code": "000.00.14.H99",
                "name": "Sở Khoa học và Công nghệ",
                "abbreviation": "SKHCN",
                "parent_code": "000.00.00.H99",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text

        def server_span() -> dict | None:
            return next(
                (
                    s
                    for s in _spans(registry_spans)
                    if s["kind"].endswith("SERVER") and s["name"].startswith("PUT /api/v1/agencies")
                ),
                None,
            )

        http_span = _wait(server_span, 15, "the registry's HTTP server span")
        trace_id = http_span["trace_id"]

        def consumer_span() -> dict | None:
            return next(
                (
                    s
                    for s in _spans(consumer_spans)
                    if s["trace_id"] == trace_id and s["name"].endswith("process")
                ),
                None,
            )

        process_span = _wait(consumer_span, 20, "the second process to consume the event in the same trace")
        assert process_span["service.name"] == "analytics"
        assert process_span["name"] == "vanthu.evt.registry.agency.upserted process"
        # The chain is HTTP request → outbox "create" (producer) → "process" (consumer) in another process.
        create = next(s for s in _spans(registry_spans) if s["span_id"] == process_span["parent_span_id"])
        assert create["name"].endswith("create") and create["trace_id"] == trace_id
        assert create["parent_span_id"] is not None
    finally:
        for proc in (registry, consumer):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        await nc.jetstream().delete_consumer(EVENTS_STREAM.name, durable)
        await nc.close()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
