"""Queries of the signing service, mapping rows to domain objects."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_runtime.db import dialect_insert
from vanthu_signing.domain.jobs import JobState, JobStatus
from vanthu_signing.domain.profiles import KeyKind, Purpose, SignerProfile
from vanthu_signing.tables import inbox, metadata, outbox, sign_jobs, signer_profiles, token_requests

__all__ = ["JobRepository", "ProfileRepository", "TokenRequestRepository", "inbox", "metadata", "outbox"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every time stored here is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# -- profiles ---------------------------------------------------------------------------

_PROFILE_FIELDS = (
    "id", "agency_code", "user_id", "display_name", "module_path", "token_label", "key_label", "key_id_hex",
    "pin_secret", "pkcs12_path", "pkcs12_passphrase_secret", "certificate_der", "image_sha256",
    "image_width_mm", "active",
)  # fmt: skip


@dataclass(frozen=True)
class StoredProfile:
    profile: SignerProfile
    chain_pem: str | None
    updated_at: datetime


def _profile(row: Any) -> StoredProfile:
    profile = SignerProfile(
        purpose=Purpose(row["purpose"]),
        key_kind=KeyKind(row["key_kind"]),
        **{name: row[name] for name in _PROFILE_FIELDS},
    )
    return StoredProfile(profile, row["chain_pem"], _aware(row["updated_at"]))  # type: ignore[arg-type]


class ProfileRepository:
    def __init__(self, session: AsyncConnection) -> None:
        self.session = session

    async def get(self, profile_id: str) -> StoredProfile | None:
        row = (
            (await self.session.execute(select(signer_profiles).where(signer_profiles.c.id == profile_id)))
            .mappings()
            .first()
        )
        return _profile(row) if row else None

    async def find(self, agency_code: str, purpose: Purpose, user_id: str | None) -> StoredProfile | None:
        """The newest active profile for this agency and purpose (and person, if personal)."""
        query = select(signer_profiles).where(
            signer_profiles.c.agency_code == agency_code,
            signer_profiles.c.purpose == purpose.value,
            signer_profiles.c.active.is_(True),
        )
        if purpose is Purpose.PERSONAL:
            query = query.where(signer_profiles.c.user_id == user_id)
        row = (
            (await self.session.execute(query.order_by(signer_profiles.c.updated_at.desc()).limit(1)))
            .mappings()
            .first()
        )
        return _profile(row) if row else None

    async def list(self, agency_code: str | None) -> list[StoredProfile]:
        query = select(signer_profiles).order_by(signer_profiles.c.id)
        if agency_code is not None:
            query = query.where(signer_profiles.c.agency_code == agency_code)
        return [_profile(r) for r in (await self.session.execute(query)).mappings().all()]

    async def for_user(self, user_id: str) -> list[StoredProfile]:
        query = select(signer_profiles).where(
            signer_profiles.c.user_id == user_id, signer_profiles.c.key_kind == KeyKind.TOKEN_PROXY.value
        )
        return [_profile(r) for r in (await self.session.execute(query)).mappings().all()]

    async def save(self, profile: SignerProfile, chain_pem: str | None = None) -> None:
        values = {name: getattr(profile, name) for name in _PROFILE_FIELDS}
        values.update(purpose=profile.purpose.value, key_kind=profile.key_kind.value, updated_at=utcnow())
        if chain_pem is not None:
            values["chain_pem"] = chain_pem
        exists = (
            await self.session.execute(select(signer_profiles.c.id).where(signer_profiles.c.id == profile.id))
        ).first()
        if exists:
            await self.session.execute(
                update(signer_profiles).where(signer_profiles.c.id == profile.id).values(**values)
            )
        else:
            await self.session.execute(signer_profiles.insert().values(**values))


# -- jobs -------------------------------------------------------------------------------


@functools.cache
def _insert_if_new(dialect: str) -> Any:
    # Built once per dialect with its values bound at execution, so SQLAlchemy finds the
    # compiled form in its cache instead of building a statement per job.
    return (
        dialect_insert(dialect)(sign_jobs)
        .on_conflict_do_nothing(index_elements=[sign_jobs.c.job_id])
        .returning(sign_jobs.c.job_id)
    )


# The outcome's columns are bound at execution: one statement for every job, compiled once.
_FINISH = update(sign_jobs).where(
    sign_jobs.c.job_id == bindparam("claimed_job"),
    sign_jobs.c.worker == bindparam("claimed_by"),
    sign_jobs.c.status == JobStatus.RUNNING.value,
)


@functools.cache
def _finish_publishing(columns: tuple[str, ...]) -> Any:
    # PostgreSQL only (a data-modifying CTE): the outcome and its event in one statement, so a
    # result costs one round trip outside a transaction instead of four (BEGIN, UPDATE, INSERT,
    # COMMIT). The event row is inserted only if the UPDATE found our claim. Built once per set
    # of outcome columns, values bound at execution.
    finished = (
        update(sign_jobs)
        .where(
            sign_jobs.c.job_id == bindparam("claimed_job"),
            sign_jobs.c.worker == bindparam("claimed_by"),
            sign_jobs.c.status == JobStatus.RUNNING.value,
        )
        .values({name: bindparam(name, type_=sign_jobs.c[name].type) for name in columns})
        .returning(sign_jobs.c.job_id)
        .cte("finished")
    )
    names = [column.name for column in outbox.c]
    event = select(*(bindparam(f"event_{name}", type_=outbox.c[name].type) for name in names)).select_from(
        finished
    )
    return insert(outbox).from_select(names, event).returning(outbox.c.id)


class JobRepository:
    def __init__(self, session: AsyncConnection) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.dialect.name

    async def lock(self, job_id: str) -> tuple[JobState, int] | None:
        """The job's state (and its attempt count), locking the row on PostgreSQL."""
        query = select(
            sign_jobs.c.status, sign_jobs.c.worker, sign_jobs.c.lease_until, sign_jobs.c.attempts
        ).where(sign_jobs.c.job_id == job_id)
        if self._dialect == "postgresql":
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        return JobState(JobStatus(row.status), row.worker, _aware(row.lease_until)), row.attempts  # type: ignore[arg-type]

    async def insert_running(
        self,
        *,
        job_id: str,
        agency_code: str,
        kind: str,
        worker: str,
        lease_until: datetime,
        source_sha256: str,
    ) -> bool:
        """Claim a job never seen before; False (nothing written) when the job already has a row.

        One statement: a first delivery, the usual case, costs no lock-and-read round trip.
        """
        row = (
            await self.session.execute(
                _insert_if_new(self._dialect),
                {
                    "job_id": job_id, "agency_code": agency_code, "kind": kind, "status": JobStatus.RUNNING.value,
                    "worker": worker, "lease_until": lease_until, "attempts": 1, "source_sha256": source_sha256,
                    "created_at": utcnow(),
                },
            )
        ).first()  # fmt: skip
        return row is not None

    async def take_over(self, job_id: str, worker: str, lease_until: datetime) -> None:
        await self.session.execute(
            update(sign_jobs)
            .where(sign_jobs.c.job_id == job_id)
            .values(worker=worker, lease_until=lease_until, attempts=sign_jobs.c.attempts + 1)
        )

    async def extend(self, job_id: str, worker: str, lease_until: datetime) -> bool:
        result = await self.session.execute(
            update(sign_jobs)
            .where(
                and_(
                    sign_jobs.c.job_id == job_id,
                    sign_jobs.c.worker == worker,
                    sign_jobs.c.status == JobStatus.RUNNING.value,
                )
            )
            .values(lease_until=lease_until)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def release(self, job_id: str, worker: str) -> None:
        """Give a running claim up (a retry will follow), so the next delivery need not wait."""
        await self.session.execute(
            update(sign_jobs)
            .where(
                and_(
                    sign_jobs.c.job_id == job_id,
                    sign_jobs.c.worker == worker,
                    sign_jobs.c.status == JobStatus.RUNNING.value,
                )
            )
            .values(lease_until=utcnow())
        )

    async def finish(self, job_id: str, worker: str, *, status: JobStatus, **values: Any) -> bool:
        """Record the outcome, only if we still hold the claim (False: someone took over)."""
        result = await self.session.execute(
            _FINISH,
            {
                "claimed_job": job_id,
                "claimed_by": worker,
                "status": status.value,
                "finished_at": utcnow(),
                **values,
            },
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def finish_publishing(
        self, job_id: str, worker: str, event: dict[str, Any], *, status: JobStatus, **values: Any
    ) -> bool:
        """`finish` and the outbox row `event` (from `Outbox.row`) in one statement, on a
        PostgreSQL connection outside a transaction; the event is written only with the outcome."""
        values = {"status": status.value, "finished_at": utcnow(), **values}
        params = {"claimed_job": job_id, "claimed_by": worker, **values}
        params.update({f"event_{name}": value for name, value in event.items()})
        result = await self.session.execute(_finish_publishing(tuple(sorted(values))), params)
        return result.first() is not None

    async def get(self, job_id: str) -> dict[str, Any] | None:
        row = (
            (await self.session.execute(select(sign_jobs).where(sign_jobs.c.job_id == job_id)))
            .mappings()
            .first()
        )
        return dict(row) if row else None


# -- token requests ---------------------------------------------------------------------


class TokenRequestRepository:
    def __init__(self, session: AsyncConnection) -> None:
        self.session = session

    async def create(self, **values: Any) -> None:
        # An earlier request for the same job (its worker died) is no longer answerable.
        await self.session.execute(
            update(token_requests)
            .where(and_(token_requests.c.job_id == values["job_id"], token_requests.c.status == "pending"))
            .values(status="cancelled", answered_at=utcnow())
        )
        await self.session.execute(
            token_requests.insert().values(status="pending", created_at=utcnow(), **values)
        )

    async def get(self, request_id: str) -> dict[str, Any] | None:
        row = (
            (await self.session.execute(select(token_requests).where(token_requests.c.id == request_id)))
            .mappings()
            .first()
        )
        return _request(row) if row else None

    async def pending_for(self, user_id: str, now: datetime) -> list[dict[str, Any]]:
        rows = (
            (
                await self.session.execute(
                    select(token_requests)
                    .where(
                        token_requests.c.user_id == user_id,
                        token_requests.c.status == "pending",
                        token_requests.c.expires_at > now,
                    )
                    .order_by(token_requests.c.created_at)
                )
            )
            .mappings()
            .all()
        )
        return [_request(r) for r in rows]

    async def answer(
        self, request_id: str, *, status: str, signature: bytes | None = None, error_code: str | None = None
    ) -> bool:
        result = await self.session.execute(
            update(token_requests)
            .where(and_(token_requests.c.id == request_id, token_requests.c.status == "pending"))
            .values(status=status, signature=signature, error_code=error_code, answered_at=utcnow())
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


def _request(row: Any) -> dict[str, Any]:
    out = dict(row)
    for key in ("created_at", "expires_at", "answered_at"):
        out[key] = _aware(out[key])
    return out
