"""Claims on both databases: a new job is claimed by one statement; a job with a row is read,
locked and decided (busy, taken over, already done), so a job id never gets two signatures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from vanthu_contracts.events.signing import PadesLevel, SignDocument
from vanthu_runtime.db import Database
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.uow import UnitOfWork
from vanthu_signing.domain.jobs import ClaimDecision, JobStatus
from vanthu_signing.jobs import SignJobService
from vanthu_signing.repository import JobRepository, inbox, metadata, outbox, utcnow
from vanthu_signing.tables import sign_jobs
from vanthu_testing.postgres import PostgresDatabase


async def _uow_on(request, tmp_path, dialect: str) -> AsyncIterator[UnitOfWork]:  # type: ignore[no-untyped-def]
    if dialect == "sqlite":
        url, pg = f"sqlite+aiosqlite:///{tmp_path / 'claims.db'}", None
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        pg = PostgresDatabase(server_dsn=dsn.rsplit("/", 1)[0] + "/postgres")
        pg.start()
        url = pg.url
    db = Database(url)
    await db.create_all(metadata)
    yield UnitOfWork(db, Outbox(outbox), Inbox(inbox))
    await db.dispose()
    if pg is not None:
        pg.stop()


@pytest.fixture(params=["sqlite", "postgres"])
async def uow(request, tmp_path) -> AsyncIterator[UnitOfWork]:  # type: ignore[no-untyped-def]
    async for made in _uow_on(request, tmp_path, request.param):
        yield made


@pytest.fixture
async def pg_uow(request, tmp_path) -> AsyncIterator[UnitOfWork]:  # type: ignore[no-untyped-def]
    async for made in _uow_on(request, tmp_path, "postgres"):
        yield made


def _service(uow: UnitOfWork, worker: str) -> SignJobService:
    # Claims touch the database only.
    return SignJobService(
        uow=uow, storage=None, keyring=None, levels=None, appearance=None, tokens=None,  # type: ignore[arg-type]
        worker=worker, default_level=PadesLevel.B_B, lease_s=60, production=False,
    )  # fmt: skip


async def _row(uow: UnitOfWork, job_id: str) -> dict:
    async with uow.read() as session:
        row = await JobRepository(session).get(job_id)
    assert row is not None
    return row


async def test_a_job_is_claimed_once_then_busy_taken_over_or_done(uow: UnitOfWork) -> None:
    job = SignDocument(
        job_id="claim-1", agency_code="000.00.99.H99", kind="attachment", file={"sha256": "a" * 64},
        appearance={"main_document_symbol": "45/UBND-VP"},
    )  # fmt: skip
    first, second = _service(uow, "w1"), _service(uow, "w2")

    assert await first._claim(job) == (ClaimDecision.START, 0.0)
    row = await _row(uow, job.job_id)
    assert (row["status"], row["worker"], row["attempts"]) == ("running", "w1", 1)

    # A redelivery to the same worker, or another worker, while the lease runs: nobody signs.
    decision, _ = await first._claim(job)
    assert decision is ClaimDecision.BUSY
    decision, left = await second._claim(job)
    assert decision is ClaimDecision.BUSY and 50 < left <= 60

    # The first worker died: its lease ran out, so the second takes the job over.
    async with uow.begin() as tx:
        await tx.session.execute(update(sign_jobs).values(lease_until=utcnow() - timedelta(seconds=1)))
    decision, _ = await second._claim(job)
    assert decision is ClaimDecision.TAKE_OVER
    row = await _row(uow, job.job_id)
    assert (row["worker"], row["attempts"]) == ("w2", 2)

    # Done: every later delivery is a duplicate, and there is still one row.
    async with uow.begin() as tx:
        assert await JobRepository(tx.session).finish(
            job.job_id, "w2", status=JobStatus.SIGNED, result_sha256="b" * 64, field_name="f", profile_id="p"
        )
        # A worker that lost the claim cannot record an outcome.
        assert not await JobRepository(tx.session).finish(job.job_id, "w1", status=JobStatus.FAILED)
    assert (await first._claim(job))[0] is ClaimDecision.ALREADY_SIGNED
    row = await _row(uow, job.job_id)
    assert (row["status"], row["result_sha256"], row["field_name"]) == ("signed", "b" * 64, "f")
    async with uow.read() as session:
        assert (await session.execute(select(func.count()).select_from(sign_jobs))).scalar_one() == 1


async def test_on_postgresql_the_outcome_and_its_event_are_one_statement_written_only_with_the_claim(
    pg_uow: UnitOfWork,
) -> None:
    from vanthu_contracts.envelope import Envelope

    job = SignDocument(
        job_id="claim-2", agency_code="000.00.99.H99", kind="attachment", file={"sha256": "a" * 64},
        appearance={"main_document_symbol": "45/UBND-VP"},
    )  # fmt: skip
    assert (await _service(pg_uow, "w1")._claim(job))[0] is ClaimDecision.START

    def event() -> dict:
        envelope = Envelope(
            type="signing.document.signed", source="signing", agency=job.agency_code, actor="system",
            correlation_id=job.job_id, payload={"job_id": job.job_id},
        )  # fmt: skip
        return pg_uow.outbox.row(envelope)

    async def outbox_rows() -> list:
        async with pg_uow.read() as session:
            return (await session.execute(select(outbox.c.id, outbox.c.data))).all()

    async def finish(worker: str, row: dict, result_sha256: str) -> bool:
        assert pg_uow.db.autocommit is not None
        async with pg_uow.db.autocommit.connect() as conn:
            return await JobRepository(conn).finish_publishing(
                job.job_id, worker, row, status=JobStatus.SIGNED, result_sha256=result_sha256,
                field_name="f", profile_id="p",
            )  # fmt: skip

    # Another worker's claim: no outcome, and no event either.
    assert not await finish("w2", event(), "b" * 64)
    assert await outbox_rows() == []
    assert (await _row(pg_uow, job.job_id))["status"] == "running"

    # Our claim: the outcome and exactly our event row, both committed.
    mine = event()
    assert await finish("w1", mine, "b" * 64)
    assert await outbox_rows() == [(mine["id"], mine["data"])]
    row = await _row(pg_uow, job.job_id)
    assert (row["status"], row["result_sha256"], row["field_name"], row["profile_id"]) == (
        "signed",
        "b" * 64,
        "f",
        "p",
    )
    assert row["finished_at"] is not None

    # Done once: a second outcome finds no running claim and writes nothing.
    assert not await finish("w1", event(), "c" * 64)
    assert len(await outbox_rows()) == 1
