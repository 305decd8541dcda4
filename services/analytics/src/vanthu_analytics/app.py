"""Composition root of the analytics service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from vanthu_analytics.api import reports_router
from vanthu_analytics.ingest import FactPipeline
from vanthu_analytics.reports import ReportService
from vanthu_analytics.repository import metadata
from vanthu_analytics.settings import AnalyticsSettings
from vanthu_analytics.wire import decode
from vanthu_contracts.events.analytics import FACTS_CONSUMER
from vanthu_runtime.http import create_app as create_http_app
from vanthu_runtime.messaging.consumer import Delivery
from vanthu_runtime.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()
    runtime = ServiceRuntime(settings, service="analytics", metadata=metadata, migrations_dir=MIGRATIONS)
    pipelines: list[FactPipeline] = []

    def pipeline() -> FactPipeline:
        # Consumers start inside runtime.start(), before the on_started hooks: build on first use,
        # when the unit of work exists.
        if not pipelines:
            pipelines.append(FactPipeline(runtime.uow, validate=settings.validate_payloads))
        return pipelines[0]

    async def handle(deliveries: list[Delivery]) -> None:
        from vanthu_analytics.messaging import apply_deliveries

        await apply_deliveries(pipeline(), deliveries)

    runtime.consume(
        FACTS_CONSUMER,
        batch_handler=handle,
        batch_size=settings.batch_size,
        instances=settings.fetch_loops,
        decode=decode,
    )

    async def wire(app: FastAPI) -> None:
        app.state.reports = ReportService(runtime.uow, settings)
        app.state.pipeline = pipeline()

    return create_http_app(
        runtime,
        title="vanthu analytics",
        description=(
            "Thống kê mức độ sử dụng theo cơ quan, đơn vị, cá nhân; cảnh báo tuân thủ; báo cáo. "
            "Usage facts, compliance flags and reports."
        ),
        routers=[reports_router],
        on_started=[wire],
    )
