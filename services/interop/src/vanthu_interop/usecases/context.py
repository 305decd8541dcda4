"""What every interop use case needs: the unit of work, settings, files, clocks, helpers."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cachetools import TTLCache
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events import interop as contract
from vanthu_contracts.spec import EventSpec
from vanthu_interop.repository import Repository
from vanthu_interop.settings import InteropSettings
from vanthu_interop.storage import FileStorage
from vanthu_runtime.groupcommit import SharedTransactions
from vanthu_runtime.uow import Tx, UnitOfWork

HOSTED_CACHE_S = 5.0
# The partner directory changes when it is synced (every 15 minutes by default); every issued
# document and every status looks a code up in it. A sync in this process forgets the cache.
PARTNER_CACHE_S = 5.0
_PARTNER_CACHE_MAX = 10_000
_HOSTED = "hosted"
_MISSING = object()
# A packet up to this size (a status, a letter with a small scan) is built or read where it is
# awaited: a worker-thread trip costs about 0.2 ms of CPU, more than the work; a bigger one goes
# to a worker thread, so the event loop never waits long.
INLINE_BYTES = 64 << 10


@dataclass
class Context:
    uow: UnitOfWork
    settings: InteropSettings
    files: FileStorage | None
    # One entry (every hosted agency, read together) and, per code, a partner row or None.
    _hosted: TTLCache[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: TTLCache(maxsize=1, ttl=HOSTED_CACHE_S, timer=time.monotonic)
    )
    _partners: TTLCache[str, dict[str, Any] | None] = field(
        default_factory=lambda: TTLCache(
            maxsize=_PARTNER_CACHE_MAX, ttl=PARTNER_CACHE_S, timer=time.monotonic
        )
    )
    # Short units of work (dispatching an issued document, a send's bookkeeping) that arrive
    # together commit in one transaction.
    shared: SharedTransactions = field(init=False)

    def __post_init__(self) -> None:
        self.shared = SharedTransactions(self.uow, name="interop-shared-transactions")

    async def hosted_agencies(self, session: AsyncConnection) -> dict[str, dict[str, Any]]:
        """Our agencies by code; cached for a few seconds (asked for every packet), refreshed on change."""
        hosted = self._hosted.get(_HOSTED)
        if hosted is None:
            hosted = {row["code"]: row for row in await Repository(session).hosted_rows()}
            self._hosted[_HOSTED] = hosted
        return hosted

    async def hosted_codes(self, session: AsyncConnection) -> set[str]:
        return set(await self.hosted_agencies(session))

    async def hosted_codes_now(self) -> set[str]:
        """`hosted_codes` outside a transaction: a session is opened only when the cache is stale."""
        hosted = self._hosted.get(_HOSTED)
        if hosted is None:
            async with self.uow.read() as session:
                return await self.hosted_codes(session)
        return set(hosted)

    def forget_hosted(self) -> None:
        self._hosted.clear()

    async def partner(self, session: AsyncConnection, code: str) -> dict[str, Any] | None:
        """The partner directory's entry for a code (`Repository.partner`), cached for a few seconds."""
        cached = self._partners.get(code, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        row = await Repository(session).partner(code)
        self._partners[code] = row  # None too: an unknown code is asked for again and again
        return row

    def forget_partners(self) -> None:
        self._partners.clear()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def utcnow(self) -> datetime:
        return datetime.now(UTC)

    def local_now(self) -> datetime:
        """edXML times are local wall-clock time without a zone, to the second."""
        return datetime.now(self.tz).replace(tzinfo=None, microsecond=0)

    def workdir(self) -> Path:
        base = self.settings.work_dir or None
        if base:
            Path(base).mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="vanthu-interop-", dir=base))


def envelope(
    spec: EventSpec,
    payload: BaseModel,
    *,
    agency: str | None,
    correlation_id: str | None = None,
    actor: str = "system",
) -> Envelope[Any]:
    return Envelope(
        type=spec.type,
        version=spec.version,
        source="interop",
        agency=agency,
        actor=actor,
        correlation_id=correlation_id,
        payload=payload,
    )


async def publish(
    tx: Tx, spec: EventSpec, payload: BaseModel, *, agency: str | None, correlation_id: str | None = None,
    actor: str = "system",
) -> str:  # fmt: skip
    """Queue an event in the transaction; returns its id (the poller waits for it to leave)."""
    env = envelope(spec, payload, agency=agency, correlation_id=correlation_id, actor=actor)
    await tx.publish(env)
    return str(env.id)


async def queue_send(tx: Tx, job: contract.SendJob, *, correlation_id: str | None = None) -> None:
    env = Envelope(
        type=contract.SEND.type,
        version=contract.SEND.version,
        source="interop",
        agency=job.agency_code,
        correlation_id=correlation_id or job.external_document_id,
        payload=job,
    )
    await tx.publish(env, subject=contract.SEND.subject)
