"""Composition root of the interop service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI

from vanthu_contracts.events import interop as contract
from vanthu_interop.api import router
from vanthu_interop.messaging import Handlers
from vanthu_interop.repository import metadata
from vanthu_interop.settings import InteropSettings
from vanthu_interop.usecases import Interop, build
from vanthu_runtime.http import create_app as create_http_app
from vanthu_runtime.messaging.consumer import Delivery
from vanthu_runtime.runtime import ServiceRuntime
from vanthu_runtime.tasks import cancel_and_wait

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("vanthu.interop")


class _Wiring:
    """Consumers start with the runtime, before the use cases exist; they wait for them here."""

    def __init__(self) -> None:
        self.ready = asyncio.Event()
        self.handlers: Handlers | None = None

    def route(
        self, pick: Callable[[Handlers], Callable[[Delivery], Awaitable[None]]]
    ) -> Callable[[Delivery], Awaitable[None]]:
        async def handle(delivery: Delivery) -> None:
            await self.ready.wait()
            assert self.handlers is not None
            await pick(self.handlers)(delivery)

        return handle


def create_app(settings: InteropSettings | None = None) -> FastAPI:
    settings = settings or InteropSettings()
    runtime = ServiceRuntime(
        settings, service="interop", metadata=metadata, migrations_dir=MIGRATIONS, uses_object_store=True
    )
    wiring = _Wiring()
    runtime.consume(
        contract.SEND_CONSUMER,
        wiring.route(lambda h: h.on_send),
        batch_size=4,
        instances=settings.send_workers,
    )
    # Several at a time, in small fetches: their dispatches then share transactions (a burst of
    # issued documents is planned in a few commits instead of one commit after another).
    runtime.consume(contract.ISSUED_CONSUMER, wiring.route(lambda h: h.on_issued), batch_size=4, instances=4)
    runtime.consume(contract.FEEDBACK_CONSUMER, wiring.route(lambda h: h.on_handling))
    runtime.consume(contract.DIRECTORY_CONSUMER, wiring.route(lambda h: h.on_agency))
    tasks: list[asyncio.Task[None]] = []

    async def wire(app: FastAPI) -> None:
        interop = build(runtime.uow, settings, runtime.object_store)
        app.state.interop = interop
        await interop.directory.seed(settings.agencies)
        wiring.handlers = Handlers(
            runtime.uow, interop.dispatch, interop.sending, interop.directory, tuple(settings.send_backoff_s)
        )
        wiring.ready.set()
        if interop.poller is not None:
            tasks.append(asyncio.create_task(interop.poller.run(), name="interop-axis-poller"))
        if interop.axis is not None and settings.partner_sync_interval_s > 0:
            tasks.append(asyncio.create_task(_sync_partners(interop, settings.partner_sync_interval_s)))

    async def unwire(app: FastAPI) -> None:
        await cancel_and_wait(tasks)
        interop: Interop | None = getattr(app.state, "interop", None)
        if interop is not None:
            await interop.aclose()

    return create_http_app(
        runtime,
        title="vanthu interop",
        description=(
            "Liên thông văn bản: edXML, trục liên thông văn bản quốc gia, trạng thái xử lý. "
            "edXML, the national document axis and status feedback."
        ),
        routers=[router],
        on_started=[wire],
        on_stopping=[unwire],
    )


async def _sync_partners(interop: Interop, interval_s: float) -> None:
    assert interop.axis is not None
    while True:
        try:
            await interop.directory.sync_partners(interop.axis)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("partner directory sync failed; trying again in %.0f s", interval_s)
        await asyncio.sleep(interval_s)
