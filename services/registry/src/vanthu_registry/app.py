"""Composition root of the registry service."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from vanthu_registry.api import dev_router, directory_router
from vanthu_registry.api_documents import router as documents_router
from vanthu_registry.api_workfiles import prints_router
from vanthu_registry.api_workfiles import router as workfiles_router
from vanthu_registry.repository import metadata
from vanthu_registry.service import DirectoryService
from vanthu_registry.services import Services
from vanthu_registry.settings import RegistrySettings
from vanthu_runtime.http import create_app as create_http_app
from vanthu_runtime.runtime import ServiceRuntime
from vanthu_runtime.tasks import cancel_and_wait

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("vanthu.registry")


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    runtime = ServiceRuntime(
        settings, service="registry", metadata=metadata, migrations_dir=MIGRATIONS, uses_object_store=True
    )
    background: list[asyncio.Task[None]] = []
    holder: dict[str, Services] = {}

    def _later(make: Any) -> Any:
        # Consumers are registered before start; the use cases exist only once `wire` ran.
        built: dict[str, Any] = {}

        async def handle(delivery: Any) -> None:
            if "handler" not in built:
                if "services" not in holder:
                    from vanthu_runtime.messaging.consumer import Retry

                    raise Retry("registry is still starting", delay_s=1.0)
                built["handler"] = make(holder["services"])
            await built["handler"](delivery)

        return handle

    from vanthu_contracts.events import registry as contract
    from vanthu_registry import messaging

    runtime.consume(
        contract.INTEROP_RECEIVED_CONSUMER,
        _later(lambda s: messaging.interop_received_handler(s, settings.auto_register_electronic)),
    )
    runtime.consume(contract.ROUTING_ASSIGNED_CONSUMER, _later(messaging.routing_assigned_handler))
    runtime.consume(contract.DRAFT_SIGNED_CONSUMER, _later(messaging.draft_signed_handler))

    async def wire(app: FastAPI) -> None:
        app.state.directory = DirectoryService(runtime.uow)
        app.state.services = services = Services.build(runtime.uow, runtime.object_store, settings)
        holder["services"] = services
        app.state.dev_issuer = None
        app.state.demo_seeded = False
        app.state.demo_province = settings.seed_demo_province
        app.state.rpc_subscription = None
        if settings.jwt_private_key_file is not None:
            from vanthu_runtime.auth import DevTokenIssuer

            app.state.dev_issuer = DevTokenIssuer(
                settings.jwt_private_key_file.read_bytes(),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            )
        if settings.seed_demo:
            from vanthu_registry.demo import seed_demo

            users = await seed_demo(app.state.directory, settings.seed_demo_province)
            app.state.demo_seeded = True
            log.info("demo province %s seeded (%d users)", settings.seed_demo_province, users)
        if settings.rpc_enabled:
            from vanthu_registry.messaging import serve_issue_rpc

            app.state.rpc_subscription = await serve_issue_rpc(runtime.nc, services)
        from vanthu_registry.audit import Sealer

        background.append(
            asyncio.create_task(
                Sealer(runtime.uow, settings.audit_seal_interval_s, settings.audit_anchor_interval_s).run(),
                name="registry-audit-sealer",
            )
        )
        if settings.text_index_enabled:
            from vanthu_registry.indexer import TextIndexer

            app.state.indexer = TextIndexer(runtime.uow, runtime.object_store, settings.text_index_interval_s)
            background.append(asyncio.create_task(app.state.indexer.run(), name="registry-text-indexer"))

    async def unwire(app: FastAPI) -> None:
        await cancel_and_wait(background)
        if "services" in holder:
            await holder["services"].incoming.aclose()  # commits the group in flight
        if getattr(app.state, "rpc_subscription", None) is not None:
            await app.state.rpc_subscription.unsubscribe()

    return create_http_app(
        runtime,
        title="vanthu registry",
        description=(
            "Sổ văn bản: cơ quan, đơn vị, người dùng, sổ đăng ký, văn bản đến/đi, tệp, hồ sơ, tìm kiếm, nhật ký. "
            "The system of record of agencies, users, registers and documents."
        ),
        routers=[directory_router, documents_router, workfiles_router, prints_router, dev_router],
        on_started=[wire],
        on_stopping=[unwire],
    )
