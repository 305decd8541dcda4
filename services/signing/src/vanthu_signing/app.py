"""Composition root of the signing service."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from fastapi import FastAPI

from vanthu_contracts.events import signing as contract
from vanthu_runtime.http import create_app as create_http_app
from vanthu_runtime.runtime import ServiceRuntime
from vanthu_runtime.settings import Environment
from vanthu_signing.api import agent_router, profiles_router, verify_router
from vanthu_signing.jobs import SignJobService
from vanthu_signing.keys.keyring import KeyRing
from vanthu_signing.levels import LevelTools
from vanthu_signing.messaging import sign_job_handler
from vanthu_signing.pdf.fonts import stamp_font
from vanthu_signing.pdf.plan import AppearanceSettings
from vanthu_signing.repository import metadata
from vanthu_signing.settings import SigningSettings
from vanthu_signing.storage import PdfStorage
from vanthu_signing.tokens import TokenRequests
from vanthu_signing.trust import load_anchors
from vanthu_signing.validation import Validator

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("vanthu.signing")


def create_app(settings: SigningSettings | None = None) -> FastAPI:
    settings = settings or SigningSettings()
    runtime = ServiceRuntime(
        settings, service="signing", metadata=metadata, migrations_dir=MIGRATIONS, uses_object_store=True
    )
    ready = asyncio.Event()
    holder: dict[str, SignJobService] = {}
    keyring = KeyRing(settings.sessions_per_key)
    if settings.worker_instances:
        runtime.consume(
            contract.SIGN_CONSUMER,
            sign_job_handler(lambda: holder["jobs"], ready, contract.SIGN_CONSUMER, settings.retry_delays_s),
            # One job per fetch: a worker never sits on jobs another worker could be signing.
            batch_size=1,
            instances=settings.worker_instances,
        )

    async def wire(app: FastAPI) -> None:
        anchors = load_anchors(
            settings.trust_anchor_vgca_g2,
            settings.trust_anchor_vn_national_root,
            settings.extra_trust_anchors,
        )
        font = stamp_font(settings.stamp_font)
        storage = PdfStorage(runtime.object_store, settings.max_pdf_bytes)
        levels = LevelTools(
            tsa_url=settings.tsa_url,
            tsa_timeout_s=settings.tsa_timeout_s,
            anchors=anchors,
            revocation_cache_s=settings.revocation_cache_s,
            fetch_timeout_s=settings.fetch_timeout_s,
        )
        tokens = TokenRequests(
            runtime.uow, timeout_s=settings.token_request_timeout_s, heartbeat_s=settings.heartbeat_s
        )
        holder["jobs"] = SignJobService(
            uow=runtime.uow,
            storage=storage,
            keyring=keyring,
            levels=levels,
            appearance=AppearanceSettings(
                font_path=font,
                default_anchor=settings.signature_anchor,
                signature_max_width_mm=settings.signature_max_width_mm,
                signature_max_height_mm=settings.signature_max_height_mm,
                seal_default_diameter_mm=settings.seal_diameter_mm,
            ),
            tokens=tokens,
            worker=settings.instance_name,
            default_level=settings.default_level,
            lease_s=settings.job_lease_s,
            production=settings.env is Environment.PRODUCTION,
            allowed_modules=frozenset(settings.pkcs11_modules),
        )
        app.state.tokens = tokens
        app.state.storage = storage
        app.state.settings = settings
        app.state.uow = runtime.uow
        app.state.validator = Validator(
            anchors, allow_fetching=True, fetch_timeout_s=settings.fetch_timeout_s
        )
        from vanthu_signing.rpc import serve_verify

        app.state.rpc_subscription = await serve_verify(runtime.nc, app.state.validator, storage)
        ready.set()
        log.info(
            "signing ready: %d trust anchors, %d workers, font %s",
            len(anchors),
            settings.worker_instances,
            font,
        )

    async def unwire(app: FastAPI) -> None:
        subscription = getattr(app.state, "rpc_subscription", None)
        if subscription is not None:
            await subscription.unsubscribe()
        keyring.close()

    return create_http_app(
        runtime,
        title="vanthu signing",
        description="Ký số PAdES bằng HSM hoặc token, hiển thị chữ ký theo Nghị định 30, kiểm tra chữ ký. PAdES signing, Decree 30 appearance and validation.",
        routers=[profiles_router, agent_router, verify_router],
        on_started=[wire],
        on_stopping=[unwire],
    )
