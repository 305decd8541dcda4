"""Two signing worker processes share one work queue: every job is signed exactly once,
redelivered and re-published copies included, and both workers take part; a worker killed in
the middle of its jobs loses none of them and causes no second signature."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from signing_support import free_port, hsm_profile, signing_app

from vanthu_contracts.events.signing import SIGN_CONSUMER
from vanthu_runtime.messaging.provision import provision
from vanthu_testing.nats_server import NatsServer
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


def _worker_env(h, hsm, database, nats_url: str, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A worker process's environment: the harness's database, queue, object store and keys."""
    return {
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
        **extra,
    }


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
        env = _worker_env(h, hsm, database, nats_url)
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
        failed = [e["payload"] for e in h.events if e["type"] != "signing.document.signed"]
        assert not failed, (
            [(f["code"], f["message_en"], f.get("details")) for f in failed],
            _warnings(tmp_path / "w1.log", tmp_path / "w2.log"),
        )
        by_worker = Counter(e["payload"]["worker"] for e in h.events)
        assert set(by_worker) == {"w1", "w2"}, by_worker
        # Each stored result carries exactly one signature, with its own job's text.
        for event in h.events[:5]:
            signed = await h.app.state.storage.fetch(event["payload"]["signed"]["sha256"])
            assert len(PdfFileReader(io.BytesIO(signed)).embedded_signatures) == 1
        # Only this harness's agency: the shared queue may hold other tests' jobs.
        assert Counter(row.status for row in await _claims(h)) == {"signed": JOBS}


def _warnings(*logs: Path) -> list[str]:
    """The workers' warnings and errors: pytest's temporary directories do not outlive a few runs."""
    return [
        f"{log.name}: {line}"
        for log in logs
        for line in log.read_text(errors="replace").splitlines()
        if "WARNING" in line or "ERROR" in line or "Traceback" in line
    ][-40:]


async def _claims(h, *, worker: str | None = None, status: str | None = None, job_ids=None):  # type: ignore[no-untyped-def]
    """The harness agency's sign_jobs rows, filtered."""
    from sqlalchemy import select

    from vanthu_signing.tables import sign_jobs

    query = select(sign_jobs).where(sign_jobs.c.agency_code == h.agency)
    if worker is not None:
        query = query.where(sign_jobs.c.worker == worker)
    if status is not None:
        query = query.where(sign_jobs.c.status == status)
    if job_ids is not None:
        query = query.where(sign_jobs.c.job_id.in_(job_ids))
    async with h.app.state.uow.read() as session:
        return (await session.execute(query)).all()


async def _signed_count(h, jobs) -> int:  # type: ignore[no-untyped-def]
    ids = {job.job_id for job in jobs}
    return sum(1 for e in h.events if e["payload"]["job_id"] in ids)


@pytest.mark.slow
async def test_a_worker_killed_in_the_middle_of_its_jobs_loses_none_and_signs_none_twice(
    tmp_path, database, hsm, documents
) -> None:  # type: ignore[no-untyped-def]
    """kill -9 one of two loaded workers; an operator's supervisor starts a new one. The killed
    worker's unacknowledged jobs come back after the ack wait, their claims are taken over once
    the lease has run out, and every job ends with exactly one signature and one event."""
    # A queue of its own, with a short ack wait (and a short lease in the workers), so that the
    # killed worker's jobs come back within seconds, not the minute production waits.
    with NatsServer(tmp_path / "nats") as server:
        async with signing_app(tmp_path, server.url, database.url, worker_instances=0) as h:
            quick = dataclasses.replace(SIGN_CONSUMER, ack_wait_s=4.0)
            assert (await provision(h.nc.jetstream(), streams=(), consumer_specs=(quick,))).ok
            await h.put_profile(
                "seal",
                image=documents.seal_png,
                **hsm_profile(hsm, "seal", "agency", display_name="UBND tỉnh"),
            )
            env = _worker_env(h, hsm, database, server.url, VANTHU_SIGNING_JOB_LEASE_S="3")
            ports = [free_port(), free_port(), free_port()]
            workers = [_worker(f"w{i + 1}", ports[i], env, tmp_path / f"w{i + 1}.log") for i in range(2)]
            try:
                for port, process in zip(ports[:2], workers, strict=True):
                    await _ready(port, process)
                source = await h.store(documents.letter)
                jobs = [
                    h.job(source, kind="attachment", appearance={"main_document_symbol": f"{i}/UBND-VP"})
                    for i in range(JOBS * 2)
                ]
                for job in jobs:
                    await h.enqueue(job)
                deadline = time.monotonic() + 120
                while await _signed_count(h, jobs) < 6:
                    assert time.monotonic() < deadline, "the workers did not start on the jobs"
                    await asyncio.sleep(0.02)
                workers[0].send_signal(signal.SIGKILL)  # in the middle of its jobs: no shutdown
                workers[0].wait(timeout=10)
                # What the killed worker held: claims no one finishes unless another worker takes them over.
                orphaned = await _claims(h, worker="w1", status="running")
                assert orphaned, "the kill came between two jobs: nothing was tested"
                workers.append(_worker("w3", ports[2], env, tmp_path / "w3.log"))
                await _ready(ports[2], workers[2])
                for job in jobs:
                    await h.outcome(job.job_id, timeout=120)
                await asyncio.sleep(2.0)  # a second outcome of any job would arrive now
                info = await h.nc.jetstream().consumer_info(SIGN_CONSUMER.stream, SIGN_CONSUMER.durable)
            finally:
                for process in workers:
                    if process.poll() is None:
                        process.terminate()
                for process in workers:
                    process.wait(timeout=30)
        assert info.num_ack_pending == 0 and info.num_pending == 0, info
        # The killed worker's claims were taken over (the lease ran out) and finished by the others.
        taken_over = {row.job_id: row for row in await _claims(h, job_ids=[row.job_id for row in orphaned])}
        assert all(
            row.status == "signed" and row.worker != "w1" and row.attempts >= 2 for row in taken_over.values()
        )
        assert set(taken_over) == {row.job_id for row in orphaned}
        outcomes = Counter(e["payload"]["job_id"] for e in h.events)
        assert all(outcomes[job.job_id] == 1 for job in jobs), outcomes
        assert {e["type"] for e in h.events} == {"signing.document.signed"}
        for event in h.events:
            signed = await h.app.state.storage.fetch(event["payload"]["signed"]["sha256"])
            assert len(PdfFileReader(io.BytesIO(signed)).embedded_signatures) == 1
        assert Counter(row.status for row in await _claims(h)) == {"signed": len(jobs)}
