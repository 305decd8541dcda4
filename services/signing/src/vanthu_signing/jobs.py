"""The sign-job use case: claim, sign once, store, report.

A job id yields at most one signature. The claim (a row with a lease, written before any
key is touched) keeps a second delivery or a second worker away while one works on it;
the signed PDF is stored and the `signed` event is queued in the same transaction that
marks the job done, so a crash leaves either nothing or everything.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cachetools import LRUCache, TTLCache
from opentelemetry import trace

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events import signing as contract
from vanthu_contracts.events.signing import PadesLevel, SignDocument
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import UnitOfWork
from vanthu_signing.domain.jobs import ClaimDecision, JobStatus, decide_claim
from vanthu_signing.domain.profiles import KeyKind, ProfileRuleBroken, Purpose, needs_image, purpose_for
from vanthu_signing.failures import as_app_error, is_transient
from vanthu_signing.keys.certificates import check_for_signing, load_certificate, summary
from vanthu_signing.keys.keyring import KeyRing
from vanthu_signing.levels import LevelTools
from vanthu_signing.pdf import pades, stamps
from vanthu_signing.pdf.inspect import open_checked
from vanthu_signing.pdf.plan import AppearanceSettings, plan_field
from vanthu_signing.profile_rules import error_for_rule
from vanthu_signing.repository import JobRepository, ProfileRepository, StoredProfile, utcnow
from vanthu_signing.storage import PdfStorage
from vanthu_signing.tokens import TokenRequests

log = logging.getLogger("vanthu.signing.jobs")
# One tracer for the process: it follows whichever provider the runtime sets up, later included.
tracer = trace.get_tracer("vanthu.signing")
# A profile read is reused this long: one query less per job; an edited profile (or a
# certificate the token agent registers) is seen within this many seconds.
PROFILE_CACHE_S = 5.0
Heartbeat = Callable[[], Awaitable[None]]


class Outcome(StrEnum):
    SIGNED = "signed"
    DUPLICATE = "duplicate"  # signed (or failed) before: nothing done now
    FAILED = "failed"  # failed for good; the failed event is queued
    RETRY = "retry"  # may work later


@dataclass(frozen=True)
class JobResult:
    outcome: Outcome
    error: AppError | None = None
    retry_after_s: float = 0.0


@dataclass(frozen=True)
class Delivered:
    """What the messaging side knows about this delivery of the job."""

    correlation_id: str | None
    attempt: int
    max_attempts: int
    progress: Heartbeat  # tells the queue we are still working (in_progress)


@dataclass(frozen=True)
class _Signed:
    pdf: bytes
    field_name: str
    certificate: Any
    profile_id: str
    level: PadesLevel
    signed_at: datetime


class SignJobService:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        storage: PdfStorage,
        keyring: KeyRing,
        levels: LevelTools,
        appearance: AppearanceSettings,
        tokens: TokenRequests,
        worker: str,
        default_level: PadesLevel,
        lease_s: float,
        production: bool,
        allowed_modules: frozenset[str] = frozenset(),
    ) -> None:
        self.uow = uow
        self.storage = storage
        self.keyring = keyring
        self.levels = levels
        self.appearance = appearance
        self.tokens = tokens
        self.worker = worker
        self.default_level = default_level
        self.lease_s = lease_s
        self.production = production
        self.allowed_modules = allowed_modules
        # Images are content-addressed (never change); profiles are re-read after PROFILE_CACHE_S.
        self._images: LRUCache[str, stamps.LoadedImage] = LRUCache(maxsize=64)
        self._profiles: TTLCache[tuple[str, str, str | None, str | None], StoredProfile] = TTLCache(
            maxsize=1024, ttl=PROFILE_CACHE_S, timer=time.monotonic
        )
        # PostgreSQL: the claim and the outcome are single statements outside a transaction.
        self._autocommit = uow.db.autocommit

    async def run(self, job: SignDocument, delivered: Delivered) -> JobResult:
        # The source is read while the claim is written: a first delivery (the usual case) needs
        # both, and neither waits for the other. Whatever the read finds (missing, altered, too
        # large) is raised where the signing awaits it, as before; nothing is signed before the claim.
        source = asyncio.ensure_future(self.storage.fetch(job.file.sha256, job.file.size))
        try:
            return await self._run(job, delivered, source)
        finally:
            if not source.done():  # a duplicate, or a failure before the file was needed
                source.cancel()
            await asyncio.gather(source, return_exceptions=True)

    async def _run(self, job: SignDocument, delivered: Delivered, source: Awaitable[bytes]) -> JobResult:
        decision, lease_left = await self._claim(job)
        if decision in (ClaimDecision.ALREADY_SIGNED, ClaimDecision.ALREADY_FAILED):
            return JobResult(Outcome.DUPLICATE)
        if decision is ClaimDecision.BUSY:
            return JobResult(Outcome.RETRY, retry_after_s=max(1.0, lease_left))

        async def heartbeat() -> None:
            await delivered.progress()
            async with self.uow.begin() as tx:
                await JobRepository(tx.session).extend(job.job_id, self.worker, self._lease_end())

        try:
            signed = await self._sign(job, heartbeat, source)
        except Exception as exc:
            error = as_app_error(exc)
            if not isinstance(exc, AppError):
                log.warning("job %s: %r", job.job_id, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            final = not is_transient(error) or delivered.attempt >= delivered.max_attempts
            if final:
                await self._fail(job, error, delivered)
                return JobResult(Outcome.FAILED, error)
            async with self.uow.begin() as tx:
                await JobRepository(tx.session).release(job.job_id, self.worker)
            return JobResult(Outcome.RETRY, error)
        await self._store(job, signed, delivered)
        return JobResult(Outcome.SIGNED)

    # -- claim and outcome ---------------------------------------------------------------

    def _lease_end(self) -> datetime:
        return utcnow() + timedelta(seconds=self.lease_s)

    async def _claim(self, job: SignDocument) -> tuple[ClaimDecision, float]:
        # First sight of the job (the usual case) is settled by the insert alone; a job that
        # has a row (a redelivery, or another worker's claim of the same moment) is read below.
        if await self._claim_new(job):
            return ClaimDecision.START, 0.0
        async with self.uow.begin() as tx:
            repo = JobRepository(tx.session)
            found = await repo.lock(job.job_id)
            now = utcnow()
            if found is None:  # the row that stopped the insert is gone again: try later
                return ClaimDecision.BUSY, 0.0
            decision = decide_claim(found[0], now=now, worker=self.worker)
            if decision is ClaimDecision.TAKE_OVER:
                await repo.take_over(job.job_id, self.worker, self._lease_end())
            return decision, (found[0].lease_until - now).total_seconds()

    async def _claim_new(self, job: SignDocument) -> bool:
        claim = {
            "job_id": job.job_id, "agency_code": job.agency_code, "kind": job.kind.value, "worker": self.worker,
            "lease_until": self._lease_end(), "source_sha256": job.file.sha256,
        }  # fmt: skip
        if self._autocommit is not None:
            # A single statement is atomic by itself: outside a transaction it is one round trip,
            # not three (BEGIN, INSERT, COMMIT).
            async with self._autocommit.connect() as conn:
                return await JobRepository(conn).insert_running(**claim)
        async with self.uow.begin() as tx:
            return await JobRepository(tx.session).insert_running(**claim)

    async def _fail(self, job: SignDocument, error: AppError, delivered: Delivered) -> None:
        body = error.body()
        async with self.uow.begin() as tx:
            held = await JobRepository(tx.session).finish(
                job.job_id,
                self.worker,
                status=JobStatus.FAILED,
                error_code=body.code,
                error_details=body.details,
            )
            if held:
                payload = contract.DocumentSigningFailed(
                    job_id=job.job_id, agency_code=job.agency_code, kind=job.kind, document_id=job.document_id,
                    draft_id=job.draft_id, source_sha256=job.file.sha256, code=body.code, message_vi=body.message_vi,
                    message_en=body.message_en, details=body.details, attempts=delivered.attempt, failed_at=utcnow(),
                )  # fmt: skip
                await tx.publish(self._event(contract.DOCUMENT_FAILED.type, payload, job, delivered))
        log.info("job %s failed: %s", job.job_id, body.code)

    async def _store(self, job: SignDocument, signed: _Signed, delivered: Delivered) -> None:
        stored = await self.storage.put_pdf(signed.pdf)
        try:
            payload = contract.DocumentSigned(
                job_id=job.job_id, agency_code=job.agency_code, kind=job.kind, document_id=job.document_id,
                draft_id=job.draft_id, source_sha256=job.file.sha256,
                signed=contract.SignedFile(sha256=stored.sha256, size=stored.size, name=job.file.name),
                level=signed.level, field_name=signed.field_name, signer=summary(signed.certificate),
                profile_id=signed.profile_id, signed_at=signed.signed_at,
                timestamped=signed.level is not PadesLevel.B_B, worker=self.worker,
            )  # fmt: skip
            event = self._event(contract.DOCUMENT_SIGNED.type, payload, job, delivered)
            outcome = {
                "result_sha256": stored.sha256,
                "profile_id": signed.profile_id,
                "field_name": signed.field_name,
            }
            if self._autocommit is not None:
                async with self._autocommit.connect() as conn:
                    held = await JobRepository(conn).finish_publishing(
                        job.job_id,
                        self.worker,
                        self.uow.outbox.row(event),
                        status=JobStatus.SIGNED,
                        **outcome,
                    )
                if held:
                    self.uow.outbox.wake()
            else:
                async with self.uow.begin() as tx:
                    held = await JobRepository(tx.session).finish(
                        job.job_id, self.worker, status=JobStatus.SIGNED, **outcome
                    )
                    if held:
                        await tx.publish(event)
            if not held:
                # Our lease ran out and another worker took the job over: its result counts.
                raise _LostClaim()
        except _LostClaim:
            await self.storage.discard(stored)
            log.warning("job %s: claim lost before storing; result discarded", job.job_id)
        except BaseException:
            await self.storage.discard(stored)
            raise

    def _event(self, type_: str, payload: Any, job: SignDocument, delivered: Delivered) -> Envelope:
        return Envelope(
            type=type_, source="signing", agency=job.agency_code, actor=job.requested_by or "system",
            correlation_id=delivered.correlation_id or job.job_id, payload=payload,
        )  # fmt: skip

    # -- signing -------------------------------------------------------------------------

    async def _profile(self, job: SignDocument) -> StoredProfile:
        purpose = purpose_for(job.kind)
        key = (job.agency_code, purpose.value, job.signer.user_id, job.signer.profile_id)
        stored = self._profiles.get(key)
        if stored is None:
            stored = await self._load_profile(job, purpose)
            if stored is not None:
                self._profiles[key] = stored
        if stored is None or not stored.profile.active:
            raise AppError(
                contract.PROFILE_NOT_FOUND, {"agency_code": job.agency_code, "user_id": job.signer.user_id}
            )
        return self._checked(stored, purpose)

    async def _load_profile(self, job: SignDocument, purpose: Purpose) -> StoredProfile | None:
        async with self.uow.read() as session:
            repo = ProfileRepository(session)
            if job.signer.profile_id:
                stored = await repo.get(job.signer.profile_id)
                if stored is not None and stored.profile.agency_code != job.agency_code:
                    return None
                return stored
            return await repo.find(job.agency_code, purpose, job.signer.user_id)

    def _checked(self, stored: StoredProfile, purpose: Purpose) -> StoredProfile:
        if stored.profile.purpose is not purpose:
            raise AppError(contract.PROFILE_KIND_MISMATCH, {"profile_id": stored.profile.id})
        try:
            stored.profile.check(production=self.production, allowed_modules=self.allowed_modules)
        except ProfileRuleBroken as exc:
            raise AppError(
                error_for_rule(exc.rule), {"profile_id": stored.profile.id, "rule": exc.rule}
            ) from exc
        return stored

    async def _image(self, sha256: str | None) -> stamps.LoadedImage:
        if not sha256:
            raise AppError(contract.IMAGE_MISSING)
        image = self._images.get(sha256)
        if image is None:
            image = stamps.load_png(await self.storage.store.get(sha256))
            self._images[sha256] = image
        return image

    async def _sign(self, job: SignDocument, heartbeat: Heartbeat, source: Awaitable[bytes]) -> _Signed:
        # One span per signature: PKCS#11 calls run in executor threads where the trace
        # context does not follow (engineering notes §3.3.5), so the span is opened here.
        with tracer.start_as_current_span(
            "signing.sign",
            attributes={
                "vanthu.job_id": job.job_id,
                "vanthu.kind": job.kind.value,
                "vanthu.agency": job.agency_code,
            },
        ):
            return await self._sign_traced(job, heartbeat, source)

    async def _sign_traced(
        self, job: SignDocument, heartbeat: Heartbeat, source: Awaitable[bytes]
    ) -> _Signed:
        stored = await self._profile(job)
        profile = stored.profile
        level = job.level or self.default_level
        if not self.levels.can_do(level):
            raise AppError(contract.JOB_INVALID, {"level": level.value, "detail": "no TSA configured"})
        pdf = await source
        reader = open_checked(pdf)
        image = await self._image(profile.image_sha256) if needs_image(job.kind) else None
        signed_at = utcnow()
        plan = plan_field(
            kind=job.kind, pdf=pdf, reader=reader, appearance=job.appearance, image=image,
            image_width_mm=profile.image_width_mm, agency_name=job.appearance.agency_name or profile.display_name,
            signed_at=signed_at, settings=self.appearance,
        )  # fmt: skip
        options = pades.SignOptions(
            level=level,
            reason=job.reason,
            location=job.location,
            timestamper=self.levels.timestamper(level),
            validation_context=self.levels.signing_context() if level is PadesLevel.B_LT else None,
        )
        if profile.key_kind is KeyKind.TOKEN_PROXY:
            out, cert = await self._sign_on_token(job, stored, pdf, plan, options, heartbeat, reader)
        else:
            async with self.keyring.signer(profile, stored.updated_at) as signer:
                cert = signer.signing_cert
                check_for_signing(cert, signed_at)
                chain = [c for c in signer.cert_registry if c.dump() != cert.dump()]
                await self.levels.check_not_revoked(cert, chain, strict=level is PadesLevel.B_LT)
                out = await pades.sign(pdf, plan, options, signer, reader)
        return _Signed(out, plan.field_name, cert, profile.id, level, signed_at)

    async def _sign_on_token(self, job, stored, pdf, plan, options, heartbeat, reader):  # type: ignore[no-untyped-def]
        from asn1crypto import pem

        from vanthu_signing.keys.verify import verify_raw_signature

        profile = stored.profile
        if not profile.certificate_der:
            raise AppError(contract.CERTIFICATE_MISSING, {"profile_id": profile.id})
        cert = load_certificate(profile.certificate_der)
        check_for_signing(cert, utcnow())
        chain = (
            [load_certificate(der) for _, _, der in pem.unarmor(stored.chain_pem.encode(), multiple=True)]
            if stored.chain_pem
            else []
        )
        await self.levels.check_not_revoked(cert, chain, strict=options.level is PadesLevel.B_LT)
        prepared = await pades.prepare(pdf, plan, options, cert, chain, reader)
        display = {
            "job_id": job.job_id,
            "kind": job.kind.value,
            "agency_code": job.agency_code,
            "document_number": job.document_number,
            "subject": job.subject,
            "file_name": job.file.name,
            "file_sha256": job.file.sha256,
            "document_digest_sha256": prepared.document_digest.hex(),
            "reason": job.reason,
            "position_title": job.appearance.position_title,
            "full_name": job.appearance.full_name,
            "certificate_sha256": summary(cert).sha256,
        }
        answer = await self.tokens.ask(
            job_id=job.job_id, user_id=profile.user_id or "", profile_id=profile.id,
            to_sign=prepared.to_sign, display=display, heartbeat=heartbeat,
        )  # fmt: skip
        if not verify_raw_signature(cert, prepared.to_sign, answer.signature):
            raise AppError(contract.TOKEN_SIGNATURE_INVALID, {"profile_id": profile.id})
        return await pades.finish(prepared, answer.signature, options), cert


class _LostClaim(Exception):
    pass
