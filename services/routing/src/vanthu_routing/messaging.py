"""Consumer handlers: translate deliveries into use cases, nothing more.

The runtime starts consumers before the composition root has wired the services, so each
handler waits for `Wiring.ready` before its first delivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from vanthu_contracts.events import registry as reg
from vanthu_routing.services.directory import apply_directory_event
from vanthu_runtime.messaging.consumer import Delivery, Reject

log = logging.getLogger("vanthu.routing.messaging")

Handler = Callable[[Delivery], Awaitable[None]]


@dataclass
class Wiring:
    """The services, once built; handlers wait for `ready`."""

    ready: asyncio.Event = field(default_factory=asyncio.Event)
    ctx: Any = None
    handlings: Any = None
    drafts: Any = None

    async def wait(self) -> None:
        await asyncio.wait_for(self.ready.wait(), timeout=60)


@contextmanager
def _valid_payload():
    """A payload that does not fit its contract never will: dead-letter it at once."""
    try:
        yield
    except ValidationError as exc:
        raise Reject("routing.invalid_event", str(exc)[:500]) from exc


def directory_handler(w: Wiring) -> Handler:
    async def handle(delivery: Delivery) -> None:
        await w.wait()
        with _valid_payload():
            async with w.ctx.uow.begin() as tx:
                await apply_directory_event(tx, delivery.envelope)

    return handle


def document_handler(w: Wiring) -> Handler:
    """registry.document.{registered,returned,issued,secret_granted} → handlings and drafts."""

    async def handle(delivery: Delivery) -> None:
        await w.wait()
        env = delivery.envelope
        with _valid_payload():
            async with w.ctx.uow.begin() as tx:
                if env.type == reg.DOCUMENT_REGISTERED.type:
                    await w.handlings.on_registered(tx, env)
                elif env.type == reg.DOCUMENT_RETURNED.type:
                    await w.handlings.on_returned(tx, env)
                elif env.type == reg.DOCUMENT_ISSUED.type:
                    await w.drafts.on_issued(tx, env)
                elif env.type == reg.DOCUMENT_SECRET_GRANTED.type:
                    await w.handlings.on_secret_granted(tx, env)
                else:
                    log.info("routing_documents ignores %s", env.type)

    return handle


def signing_handler(w: Wiring) -> Handler:
    """signing.document.{signed,failed} → drafts."""

    async def handle(delivery: Delivery) -> None:
        await w.wait()
        with _valid_payload():
            async with w.ctx.uow.begin() as tx:
                sealed = await w.drafts.on_signing_outcome(tx, delivery.envelope)
        if sealed is not None:
            await w.drafts.issue_now(sealed)

    return handle
