"""Signing requests for the token agent: the rendezvous between a worker and a person.

The worker holding a token-proxy job writes a request (what to sign, what to show) and
waits; the person's agent, long-polling any replica of the service, picks it up, signs on
the USB token and posts the signature; the worker sees the answer and finishes the PDF.
The database is the meeting point, so the agent and the worker need not reach the same
replica.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from vanthu_contracts.events import signing as contract
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import UnitOfWork
from vanthu_signing.repository import ProfileRepository, TokenRequestRepository, utcnow

POLL_INTERVAL_S = 0.25


@dataclass(frozen=True)
class TokenAnswer:
    signature: bytes


class TokenRequests:
    def __init__(self, uow: UnitOfWork, *, timeout_s: float, heartbeat_s: float) -> None:
        self.uow = uow
        self.timeout_s = timeout_s
        self.heartbeat_s = heartbeat_s

    # -- the worker's side ----------------------------------------------------------------

    async def ask(
        self,
        *,
        job_id: str,
        user_id: str,
        profile_id: str,
        to_sign: bytes,
        display: dict[str, Any],
        heartbeat: Callable[[], Awaitable[None]],
    ) -> TokenAnswer:
        """Post a request and wait for the person's answer; AppError on decline or timeout."""
        request_id = str(uuid.uuid4())
        expires = utcnow() + timedelta(seconds=self.timeout_s)
        async with self.uow.begin() as tx:
            await TokenRequestRepository(tx.session).create(
                id=request_id, job_id=job_id, user_id=user_id, profile_id=profile_id,
                display=display, to_sign=to_sign, expires_at=expires,
            )  # fmt: skip
        deadline = time.monotonic() + self.timeout_s
        next_beat = time.monotonic() + self.heartbeat_s
        while time.monotonic() < deadline:
            async with self.uow.read() as session:
                row = await TokenRequestRepository(session).get(request_id)
            assert row is not None
            if row["status"] == "signed":
                return TokenAnswer(row["signature"])
            if row["status"] == "declined":
                code = row["error_code"] or contract.TOKEN_DECLINED.code
                raise AppError(_DECLINE_CODES.get(code, contract.TOKEN_DECLINED), {"request_id": request_id})
            if row["status"] in ("cancelled", "expired"):
                break
            if time.monotonic() >= next_beat:
                await heartbeat()
                next_beat = time.monotonic() + self.heartbeat_s
            await asyncio.sleep(POLL_INTERVAL_S)
        async with self.uow.begin() as tx:
            await TokenRequestRepository(tx.session).answer(
                request_id, status="expired", error_code=contract.TOKEN_TIMEOUT.code
            )
        raise AppError(contract.TOKEN_TIMEOUT, {"request_id": request_id, "timeout_s": self.timeout_s})

    # -- the agent's side -----------------------------------------------------------------

    async def pending(self, user_id: str, wait_s: float) -> list[dict[str, Any]]:
        """Long-poll: the person's open requests, as soon as there is one, or [] after wait_s."""
        deadline = time.monotonic() + wait_s
        while True:
            async with self.uow.read() as session:
                found = await TokenRequestRepository(session).pending_for(user_id, utcnow())
            if found or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(POLL_INTERVAL_S)

    async def answer(
        self, user_id: str, request_id: str, *, signature: bytes | None, decline_code: str | None
    ) -> None:
        async with self.uow.begin() as tx:
            repo = TokenRequestRepository(tx.session)
            row = await repo.get(request_id)
            if row is None or row["user_id"] != user_id:
                raise AppError(contract.REQUEST_NOT_FOUND, {"request_id": request_id})
            if row["status"] != "pending" or row["expires_at"] <= utcnow():
                raise AppError(contract.REQUEST_CLOSED, {"request_id": request_id, "status": row["status"]})
            if signature is not None:
                await repo.answer(request_id, status="signed", signature=signature)
            else:
                await repo.answer(
                    request_id, status="declined", error_code=decline_code or contract.TOKEN_DECLINED.code
                )

    async def register_certificate(
        self, user_id: str, certificate_der: bytes, chain_pem: str | None
    ) -> list[str]:
        """Store the certificate the agent read from the token on the person's token-proxy profiles."""
        from dataclasses import replace

        async with self.uow.begin() as tx:
            repo = ProfileRepository(tx.session)
            stored = await repo.for_user(user_id)
            if not stored:
                raise AppError(contract.PROFILE_NOT_FOUND, {"user_id": user_id})
            for item in stored:
                await repo.save(
                    replace(item.profile, certificate_der=certificate_der), chain_pem=chain_pem or ""
                )
            return [item.profile.id for item in stored]


# What an agent may report when it cannot sign; anything else counts as a plain decline.
_DECLINE_CODES = {
    contract.TOKEN_DECLINED.code: contract.TOKEN_DECLINED,
    contract.WRONG_PIN.code: contract.WRONG_PIN,
    contract.PIN_LOCKED.code: contract.PIN_LOCKED,
    contract.HSM_UNAVAILABLE.code: contract.HSM_UNAVAILABLE,
    contract.KEY_NOT_FOUND.code: contract.KEY_NOT_FOUND,
}
DECLINE_CODES = frozenset(_DECLINE_CODES)
