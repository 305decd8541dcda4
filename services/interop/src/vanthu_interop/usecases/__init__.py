"""Use cases of interop, bundled for the composition root, the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from vanthu_interop.axis.client import AxisClient, AxisConnection
from vanthu_interop.settings import InteropSettings
from vanthu_interop.storage import FileStorage
from vanthu_interop.usecases.context import Context
from vanthu_interop.usecases.directory import Directory
from vanthu_interop.usecases.dispatch import Dispatch
from vanthu_interop.usecases.operations import Operations
from vanthu_interop.usecases.polling import AxisPoller
from vanthu_interop.usecases.receiving import Receiving
from vanthu_interop.usecases.sending import Sending
from vanthu_runtime.objectstore import ObjectStore
from vanthu_runtime.uow import UnitOfWork


@dataclass
class Interop:
    ctx: Context
    axis: AxisClient | None
    receiving: Receiving
    dispatch: Dispatch
    sending: Sending
    directory: Directory
    operations: Operations
    poller: AxisPoller | None

    async def aclose(self) -> None:
        await self.ctx.shared.aclose()  # after the transaction in flight commits
        if self.poller is not None:
            await self.poller.aclose()
        if self.axis is not None:
            await self.axis.aclose()
        if self.poller is not None and self.poller.axis is not self.axis:
            await self.poller.axis.aclose()


def axis_client(settings: InteropSettings) -> AxisClient | None:
    if not settings.axis_enabled:
        return None
    return AxisClient(
        AxisConnection(
            endpoint=settings.axis_endpoint,
            system_id=settings.axis_system_id,
            secret=settings.axis_secret.get_secret_value(),
            store_path=settings.axis_store_path,
            timeout_s=settings.axis_timeout_s,
        )
    )


def build(uow: UnitOfWork, settings: InteropSettings, store: ObjectStore | None) -> Interop:
    ctx = Context(uow=uow, settings=settings, files=FileStorage(store) if store is not None else None)
    axis = axis_client(settings)
    return Interop(
        ctx=ctx,
        axis=axis,
        receiving=Receiving(ctx),
        dispatch=Dispatch(ctx),
        sending=Sending(ctx, axis),
        directory=Directory(ctx),
        operations=Operations(ctx),
        # The poller has a connection pool of its own: every request looks over each connection
        # of its pool, so the send workers' connections would only make the poller's cost more.
        poller=AxisPoller(ctx, axis_client(settings) or axis) if axis is not None else None,
    )
