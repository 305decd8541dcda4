"""Composition root of the routing service."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from fastapi import FastAPI

from vanthu_contracts.events import routing as c
from vanthu_routing.api.delegation import router as delegation_router
from vanthu_routing.api.drafts import router as drafts_router
from vanthu_routing.api.handling import calendar_router, inbox_router
from vanthu_routing.api.handling import router as handling_router
from vanthu_routing.api.notifications import router as notifications_router
from vanthu_routing.api.tasks import router as tasks_router
from vanthu_routing.clock import Clock
from vanthu_routing.domain.calendar import WorkingCalendar, parse_overrides
from vanthu_routing.domain.deadlines import DeadlinePolicy
from vanthu_routing.issuing import NatsIssuer
from vanthu_routing.messaging import Wiring, directory_handler, document_handler, signing_handler
from vanthu_routing.repository import metadata
from vanthu_routing.services.context import RoutingContext, rules
from vanthu_routing.services.delegation import DelegationService
from vanthu_routing.services.drafts import DraftService
from vanthu_routing.services.handling import HandlingService
from vanthu_routing.services.inbox import InboxService
from vanthu_routing.services.notifier import Notifier
from vanthu_routing.services.reminders import ReminderService
from vanthu_routing.services.tasks import TaskService
from vanthu_routing.settings import RoutingSettings
from vanthu_runtime.http import create_app as create_http_app
from vanthu_runtime.runtime import ServiceRuntime
from vanthu_runtime.tasks import cancel_and_wait

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("vanthu.routing")


def build_calendar(settings: RoutingSettings) -> WorkingCalendar:
    if settings.calendar_file is None:
        return WorkingCalendar()
    with rules():
        return WorkingCalendar(overrides=parse_overrides(settings.calendar_file.read_text("utf-8")))


def create_app(settings: RoutingSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    runtime = ServiceRuntime(
        settings, service="routing", metadata=metadata, migrations_dir=MIGRATIONS, uses_object_store=True
    )
    wiring = Wiring()
    runtime.consume(c.DIRECTORY_CONSUMER, directory_handler(wiring))
    runtime.consume(c.DOCUMENTS_CONSUMER, document_handler(wiring))
    runtime.consume(c.SIGNING_CONSUMER, signing_handler(wiring))
    calendar = build_calendar(settings)  # fails fast on a bad override file
    background: list[asyncio.Task[None]] = []

    async def wire(app: FastAPI) -> None:
        ctx = RoutingContext(
            uow=runtime.uow,
            clock=clock or Clock(),
            calendar=calendar,
            deadlines=DeadlinePolicy(
                periods=dict(settings.handling_days), per_agency=settings.agency_handling_days
            ),
            notifier=Notifier(email_enabled=bool(settings.smtp_host)),
            direct_forward_agencies=frozenset(settings.direct_forward_agencies),
            due_soon_working_days=settings.due_soon_working_days,
        )
        app.state.routing = ctx
        app.state.handlings = HandlingService(ctx)
        app.state.inboxes = InboxService(ctx)
        app.state.drafts = DraftService(
            ctx,
            object_store=runtime.object_store,
            issuer=NatsIssuer(runtime.nc),
            anchor_text=settings.signing_anchor_text,
            max_upload_bytes=settings.max_upload_bytes,
        )
        app.state.delegations = DelegationService(ctx)
        app.state.tasks = TaskService(ctx)
        app.state.reminders = ReminderService(ctx, app.state.delegations)
        if settings.reminder_interval_s > 0:
            background.append(asyncio.create_task(app.state.reminders.run(settings.reminder_interval_s)))
        if settings.smtp_host:
            from vanthu_routing.mailer import Mailer

            app.state.mailer = Mailer(ctx, settings)
            background.append(asyncio.create_task(app.state.mailer.run()))
        wiring.ctx = ctx
        wiring.handlings = app.state.handlings
        wiring.drafts = app.state.drafts
        wiring.ready.set()

    async def stop(app: FastAPI) -> None:
        await cancel_and_wait(background)

    return create_http_app(
        runtime,
        title="vanthu routing",
        description=(
            "Xử lý văn bản đến, dự thảo và trình duyệt, ủy quyền, hạn xử lý, đôn đốc, nhiệm vụ. "
            "Handling of incoming documents, drafts and approval, delegation, deadlines, reminders and tasks."
        ),
        routers=[
            handling_router,
            inbox_router,
            drafts_router,
            delegation_router,
            tasks_router,
            notifications_router,
            calendar_router,
        ],
        on_started=[wire],
        on_stopping=[stop],
    )
