"""The resources one service process owns, built at startup and released at shutdown.

A service's composition root (`app.py`) creates a `ServiceRuntime` from its
settings, registers its consumers, and hands the runtime to its use cases.
Nothing is opened before `start()`, so importing a service has no side effects.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy import MetaData

from vanthu_contracts.streams import ConsumerSpec
from vanthu_runtime.db import Database
from vanthu_runtime.messaging.connection import connect_nats
from vanthu_runtime.messaging.consumer import BatchHandler, Consumer, Decode, Handler
from vanthu_runtime.messaging.inbox import Inbox
from vanthu_runtime.messaging.outbox import Outbox
from vanthu_runtime.messaging.relay import OutboxRelay
from vanthu_runtime.migrations import upgrade
from vanthu_runtime.settings import ServiceSettings
from vanthu_runtime.tasks import cancel_and_wait
from vanthu_runtime.uow import UnitOfWork

log = logging.getLogger("vanthu.runtime")


@dataclass
class _ConsumerRegistration:
    spec: ConsumerSpec
    handler: Handler | None
    batch_handler: BatchHandler | None
    batch_size: int
    instances: int
    decode: Decode | None


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        service: str,
        metadata: MetaData,
        migrations_dir: Path | None,
        uses_object_store: bool = False,
    ) -> None:
        self.settings = settings
        self.service = service
        self.metadata = metadata
        self.migrations_dir = migrations_dir
        self.uses_object_store = uses_object_store
        self._registrations: list[_ConsumerRegistration] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self.consumers: list[Consumer] = []
        self.started = False
        # Built in start():
        self.db: Database
        self.nc: NATS
        self.js: JetStreamContext
        self.outbox: Outbox
        self.inbox: Inbox
        self.uow: UnitOfWork
        self.relay: OutboxRelay
        from vanthu_runtime.metrics import build_metrics

        self.metrics: Any = build_metrics(service)
        self.object_store: Any = None
        if uses_object_store:
            from vanthu_runtime.objectstore import build_object_store

            self.object_store = build_object_store(settings)  # no I/O; prepare() runs in start()
        self.token_verifier: Any = None

    def consume(
        self,
        spec: ConsumerSpec,
        handler: Handler | None = None,
        *,
        batch_handler: BatchHandler | None = None,
        batch_size: int = 64,
        instances: int = 1,
        decode: Decode | None = None,
    ) -> None:
        """Register a consumer to run once the runtime starts (`decode`: see `Consumer`)."""
        self._registrations.append(
            _ConsumerRegistration(spec, handler, batch_handler, batch_size, instances, decode)
        )

    async def start(self) -> None:
        from vanthu_runtime.auth import TokenVerifier
        from vanthu_runtime.logs import setup_logging
        from vanthu_runtime.messaging.tables import inbox_table, outbox_table
        from vanthu_runtime.telemetry import install_context_preserving_executor, setup_tracing

        s = self.settings
        setup_logging(self.service, level=s.log_level, json=s.log_json)
        install_context_preserving_executor(max_workers=s.thread_pool_size)
        setup_tracing(
            self.service,
            exporter=s.otel_exporter,
            endpoint=s.otel_endpoint,
            sample_ratio=s.otel_sample_ratio,
            instance=s.instance_name,
        )

        if s.database_url.startswith("sqlite"):
            _ensure_sqlite_dir(s.database_url)
        if s.auto_migrate and self.migrations_dir is not None:
            await upgrade(self.migrations_dir, s.database_url)
        self.db = Database(s.database_url, pool_size=s.database_pool_size, sqlite_driver=s.sqlite_driver)
        self.outbox = Outbox(
            self.metadata.tables["outbox"]
            if "outbox" in self.metadata.tables
            else outbox_table(self.metadata)
        )
        self.inbox = Inbox(
            self.metadata.tables["inbox"] if "inbox" in self.metadata.tables else inbox_table(self.metadata)
        )
        self.uow = UnitOfWork(self.db, self.outbox, self.inbox)

        self.nc = await connect_nats(
            s.nats_url,
            name=f"{self.service}@{s.instance_name}",
            user=s.nats_user,
            password=s.nats_password.get_secret_value(),
            creds_file=str(s.nats_creds_file) if s.nats_creds_file else None,
        )
        self.js = self.nc.jetstream(timeout=10.0)
        self.relay = OutboxRelay(
            self.db,
            self.js,
            self.outbox,
            service=self.service,
            batch_size=s.outbox_batch_size,
            poll_interval_s=s.outbox_poll_interval_s,
            metrics=self.metrics,
        )
        self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.service}-outbox-relay"))

        if self.object_store is not None:
            await self.object_store.prepare()

        self.token_verifier = TokenVerifier.from_settings(s)

        for reg in self._registrations:
            for _ in range(reg.instances):
                consumer = Consumer(
                    self.js,
                    reg.spec,
                    reg.handler,
                    batch_handler=reg.batch_handler,
                    service=self.service,
                    batch_size=reg.batch_size,
                    metrics=self.metrics,
                    decode=reg.decode,
                )
                self.consumers.append(consumer)
                self._tasks.append(asyncio.create_task(consumer.run(), name=f"consumer-{reg.spec.durable}"))
        self.started = True
        log.info("%s started (%s)", self.service, s.instance_name)

    async def stop(self) -> None:
        from vanthu_runtime.telemetry import shutdown_tracing

        for consumer in self.consumers:
            consumer.stop()
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        if self.started:
            # Consumers are already stopped, so draining only flushes what was published; bound it,
            # because nats-py's drain waits up to 30 s on a subscription that no longer gets traffic.
            try:
                await asyncio.wait_for(self.nc.drain(), timeout=5)
            except Exception:
                log.debug("nats drain did not finish; closing", exc_info=True)
                try:
                    await self.nc.close()
                except Exception:
                    log.debug("nats close failed", exc_info=True)
            await self.db.dispose()
        shutdown_tracing()
        self.started = False

    async def readiness(self) -> dict[str, str]:
        """Each dependency's state; the /readyz endpoint answers 503 unless all are 'ok'."""
        checks: dict[str, str] = {}
        try:
            await self.db.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        checks["nats"] = "ok" if self.started and self.nc.is_connected else "error: disconnected"
        if self.object_store is not None:
            try:
                await self.object_store.check()
                checks["object_store"] = "ok"
            except Exception as exc:
                checks["object_store"] = f"error: {type(exc).__name__}"
        return checks


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
