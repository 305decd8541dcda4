"""Two signing worker processes share one work queue: every job is signed exactly once,
redelivered and re-published copies included, and both workers take part."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from signing_support import free_port, hsm_profile, signing_app

from vanthu_testing.postgres import PostgresDatabase

JOBS = 16


@pytest.fixture
def database(postgres_dsn: str):  # type: ignore[no-untyped-def]
    db = PostgresDatabase(server_dsn=postgres_dsn.rsplit("/", 1)[0] + "/postgres")
    db.start()
    yield db
    db.stop()


def _worker(name: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "vanthu_signing"],
        env={**env, "VANTHU_SIGNING_INSTANCE": name, "VANTHU_SIGNING_PORT": str(port)},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


async def _ready(port: int, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            assert process.poll() is None, "worker exited"
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("worker not ready")


async def test_two_worker_processes_sign_each_job_once(tmp_path, nats_url, database, hsm, documents) -> None:  # type: ignore[no-untyped-def]
    # The test process only enqueues and listens (worker_instances=0); two processes sign.
    async with signing_app(tmp_path, nats_url, database.url, worker_instances=0) as h:
        await h.put_profile(
            "seal", image=documents.seal_png, **hsm_profile(hsm, "seal", "agency", display_name="UBND tỉnh")
        )
        env = {
            **os.environ,
            **hsm.env,
            "VANTHU_TEST_HSM_PIN": hsm.user_pin,
            "VANTHU_SIGNING_DATABASE_URL": database.url,
            "VANTHU_SIGNING_NATS_URL": nats_url,
            "VANTHU_SIGNING_OBJECT_STORE_DIR": str(h.settings.object_store_dir),
            "VANTHU_SIGNING_JWT_PUBLIC_KEY_FILE": str(h.settings.jwt_public_key_file),
            "VANTHU_SIGNING_WORKER_INSTANCES": "2",
            "VANTHU_SIGNING_LOG_JSON": "false",
            "VANTHU_SIGNING_AUTO_MIGRATE": "false",
        }
        ports = [free_port(), free_port()]
        workers = [
            _worker(f"w{i + 1}", port, env, tmp_path / f"w{i + 1}.log") for i, port in enumerate(ports)
        ]
        try:
            for port, process in zip(ports, workers, strict=True):
                await _ready(port, process)
            sources = [await h.store(documents.letter)]
            jobs = [
                h.job(sources[0], kind="attachment", appearance={"main_document_symbol": f"{i}/UBND-VP"})
                for i in range(JOBS)
            ]
            for job in jobs:
                await h.enqueue(job)
            for job in jobs[::3]:
                await h.enqueue(job)  # re-published copies of a third of the jobs
            for job in jobs:
                await h.outcome(job.job_id, timeout=120)
            await asyncio.sleep(2.0)  # let the duplicates run through
        finally:
            for process in workers:
                process.terminate()
            for process in workers:
                process.wait(timeout=30)
        outcomes = Counter(e["payload"]["job_id"] for e in h.events)
        assert all(outcomes[job.job_id] == 1 for job in jobs), outcomes
        assert {e["type"] for e in h.events} == {"signing.document.signed"}
        by_worker = Counter(e["payload"]["worker"] for e in h.events)
        assert set(by_worker) == {"w1", "w2"}, by_worker
        # Each stored result carries exactly one signature, with its own job's text.
        for event in h.events[:5]:
            signed = await h.app.state.storage.fetch(event["payload"]["signed"]["sha256"])
            assert len(PdfFileReader(io.BytesIO(signed)).embedded_signatures) == 1
        async with h.app.state.uow.read() as session:
            from sqlalchemy import func, select

            from vanthu_signing.tables import sign_jobs

            rows = (
                await session.execute(
                    select(sign_jobs.c.status, func.count())
                    .where(sign_jobs.c.agency_code == h.agency)  # the shared queue may hold other tests' jobs
                    .group_by(sign_jobs.c.status)
                )
            ).all()
        assert dict(rows) == {"signed": JOBS}
