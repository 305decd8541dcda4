"""`vanthu bench intake`: incoming documents with a 100 KB PDF through REST → row + stored file + event.

The registry runs as its own process (PostgreSQL, SeaweedFS S3, nats-server with
JetStream, all on loopback); the benchmark posts paper registrations with a unique
100 KB PDF each (unique bytes, so content addressing cannot skip a PUT), many in
flight, and stops the clock when a plain NATS subscriber has seen the
`registry.document.registered` event of every one. The floor is the same PDFs PUT
to the same S3 server plus one JetStream publish with ack each, at the same concurrency.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid

import httpx
import nats

from vanthu_bench.infra import bench_infrastructure
from vanthu_bench.report import BenchResult, Row
from vanthu_registry.bench.common import RegistryProcess, percentile, seed, token
from vanthu_runtime.messaging.provision import provision
from vanthu_testing._process import reserve_free_ports
from vanthu_testing.seaweed import SeaweedS3

PDF_BYTES = 100 * 1024
IN_FLIGHT = 32
# Registry processes behind the client, as replicas of a Deployment would be: Python runs
# one core per process, and numbering stays gapless across processes (row lock).
REPLICAS = 2


def scan_image(target: int = PDF_BYTES - 4096) -> bytes:
    """A JPEG of noise about `target` bytes: what a scanned page weighs, incompressible."""
    import random

    from PIL import Image

    rng = random.Random(30)
    side = 120
    while True:
        image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=92)
        if out.tell() >= target:
            return out.getvalue()
        side += 10


PLACEHOLDER = b"00000000-0000-0000-0000-000000000000"


def unique_pdfs(count: int) -> list[bytes]:
    """One-page scans of ~100 KB; each carries its own id in the (uncompressed) page text,
    written over a placeholder of the same length, so every file is valid and has its own hash."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pageCompression=0)
    c.drawImage(ImageReader(io.BytesIO(scan_image(PDF_BYTES - 24 * 1024))), 40, 200, width=500, height=500)
    c.drawString(72, 760, f"Cong van so 123/UBND-VP ban quet {PLACEHOLDER.decode()}")
    c.showPage()
    c.save()
    template = out.getvalue()
    assert template.count(PLACEHOLDER) == 1
    return [template.replace(PLACEHOLDER, str(uuid.uuid4()).encode()) for _ in range(count)]


async def _intake(urls: list[str], bearer: str, nats_url: str, pdfs: list[bytes]) -> tuple[float, list[float]]:
    nc = await nats.connect(nats_url)
    seen = 0
    done = asyncio.Event()

    async def on_event(_msg: object) -> None:
        nonlocal seen
        seen += 1
        if seen >= len(pdfs):
            done.set()

    await nc.subscribe("vanthu.evt.registry.document.registered", cb=on_event)
    latencies: list[float] = []
    gate = asyncio.Semaphore(IN_FLIGHT)
    metadata = {"type": "cong_van", "subject": "V/v báo cáo tình hình thực hiện nhiệm vụ", "code_number": "123",
                "code_notation": "UBND-VP", "organ_name": "Ủy ban nhân dân huyện"}
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {bearer}"}, limits=limits, timeout=60) as client:

        async def one(i: int, pdf: bytes) -> None:
            async with gate:
                started = time.perf_counter()
                r = await client.post(
                    f"{urls[i % len(urls)]}/api/v1/incoming",
                    data={"metadata": json.dumps(metadata | {"code_number": str(i)})},
                    files={"file": (f"scan-{i}.pdf", pdf, "application/pdf")},
                )
                latencies.append(time.perf_counter() - started)
                if r.status_code != 201:
                    raise RuntimeError(f"registration failed: {r.status_code} {r.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(one(i, pdf) for i, pdf in enumerate(pdfs)))
        await asyncio.wait_for(done.wait(), timeout=120)
        elapsed = time.perf_counter() - started
    await nc.close()
    return len(pdfs) / elapsed, latencies


async def _floor(s3: SeaweedS3, nats_url: str, pdfs: list[bytes]) -> float:
    import hashlib

    client = s3.client()
    bucket = "bench-floor"
    if not client.bucket_exists(bucket_name=bucket):
        client.make_bucket(bucket_name=bucket)
    nc = await nats.connect(nats_url)
    js = nc.jetstream(timeout=30)
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(pdf: bytes) -> None:
        async with gate:
            key = hashlib.sha256(pdf).hexdigest()
            await asyncio.to_thread(
                client.put_object, bucket_name=bucket, object_name=key, data=io.BytesIO(pdf), length=len(pdf),
                content_type="application/pdf",
            )
            await js.publish("vanthu.evt.registry.document.registered", b'{"floor":true}', headers={"Nats-Msg-Id": key})

    started = time.perf_counter()
    await asyncio.gather(*(one(pdf) for pdf in pdfs))
    elapsed = time.perf_counter() - started
    await nc.close()
    return len(pdfs) / elapsed


async def run(quick: bool) -> BenchResult:
    """Incoming registration with a 100 KB PDF over REST → row + S3 object + event, beside S3 PUT + JetStream publish."""
    count = 300 if quick else 3000
    with bench_infrastructure("intake", nats=True, postgres=1, s3=True) as infra:
        base, server, pg, s3 = infra.tmp, infra.nats, infra.pg, infra.s3
        registries: list[RegistryProcess] = []
        try:
            nc = await nats.connect(server.url)
            assert (await provision(nc.jetstream())).ok
            await nc.close()
            [clerk] = await seed(pg.url)
            bearer, public_key = token(base / "keys", clerk)
            env = {
                "VANTHU_NATS_URL": server.url,
                "VANTHU_REGISTRY_DATABASE_URL": pg.url,
                "VANTHU_REGISTRY_OBJECT_STORE": "s3",
                "VANTHU_REGISTRY_S3_ENDPOINT": s3.endpoint,
                "VANTHU_REGISTRY_S3_ACCESS_KEY": s3.access_key,
                "VANTHU_REGISTRY_S3_SECRET_KEY": s3.secret_key,
                "VANTHU_REGISTRY_S3_BUCKET": "bench-registry",
                "VANTHU_REGISTRY_JWT_PUBLIC_KEY_FILE": str(public_key),
                "VANTHU_REGISTRY_LOG_LEVEL": "WARNING",
                "VANTHU_REGISTRY_TEXT_INDEX_ENABLED": "false",
                "VANTHU_REGISTRY_DATABASE_POOL_SIZE": "20",
            }
            for i, port in enumerate(reserve_free_ports(REPLICAS)):
                registries.append(RegistryProcess(env | {"VANTHU_REGISTRY_INSTANCE": f"bench-{i}"}, port, base / f"registry-{i}.log"))
            for registry in registries:
                registry.launch()
            await asyncio.gather(*(r.start(launched=True) for r in registries))
            urls = [r.url for r in registries]
            await _intake(urls, bearer, server.url, unique_pdfs(20 * REPLICAS))  # warm-up
            pdfs = unique_pdfs(count)
            floor = await _floor(s3, server.url, unique_pdfs(count))
            rate, latencies = await _intake(urls, bearer, server.url, pdfs)
        finally:
            for registry in registries:
                registry.stop()
    return BenchResult(
        name="intake",
        value=rate,
        unit="docs/s",
        floor=floor,
        goal="≥ 200 docs/s and ≥ 50 % of the floor",
        rows=[
            Row("S3 PUT 100 KB + JetStream publish with ack (floor)", floor, "ops/s", f"{count:,} objects, {IN_FLIGHT} in flight"),
            Row("REST registration → row + object + event seen", rate, "docs/s", f"{count:,} documents, {IN_FLIGHT} in flight"),
            Row("request latency p50", percentile(latencies, 0.5) * 1000, "ms", ""),
            Row("request latency p95", percentile(latencies, 0.95) * 1000, "ms", ""),
        ],
        notes=[
            f"{'quick run: ' if quick else ''}{count:,} documents of {PDF_BYTES // 1024} KB, each with unique bytes",
            f"registry: {REPLICAS} processes (replicas) with PostgreSQL, SeaweedFS S3 and nats-server, all on the "
            "same cores as the client; every process compiles its modules at start (PYTHONDONTWRITEBYTECODE)",
            "the PDF text-layer indexer is off here: it runs after registration, off the intake path",
        ],
    )
