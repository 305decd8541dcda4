"""`vanthu interop failed | replay ID | sync-partners`: operator commands on the interop database.

They read the same settings as the service (VANTHU_INTEROP_DATABASE_URL …). A replay is written
to the outbox; the running service's relay sends it within a moment.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import typer

from vanthu_interop.cli.edxml import fail

app = typer.Typer(help="Liên thông văn bản: vận hành / interop operations.", no_args_is_help=True)
T = TypeVar("T")


@asynccontextmanager
async def _interop() -> AsyncIterator[Any]:
    from vanthu_interop.repository import inbox, outbox
    from vanthu_interop.settings import InteropSettings
    from vanthu_interop.usecases import build
    from vanthu_runtime.db import Database
    from vanthu_runtime.messaging.inbox import Inbox
    from vanthu_runtime.messaging.outbox import Outbox
    from vanthu_runtime.uow import UnitOfWork

    # The database is the running service's (it migrated it); operator commands never migrate.
    settings = InteropSettings()
    db = Database(settings.database_url)
    service = build(UnitOfWork(db, Outbox(outbox), Inbox(inbox)), settings, None)
    try:
        yield service
    finally:
        await service.aclose()
        await db.dispose()


def _run(action: Callable[[Any], Awaitable[T]]) -> T:
    async def main() -> T:
        async with _interop() as service:
            return await action(service)

    try:
        return asyncio.run(main())
    except Exception as exc:
        raise fail(exc) from None


@app.command("failed")
def failed(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Các lượt gửi thất bại / deliveries given up after their retries (the dead-letter list)."""
    rows = _run(lambda s: s.operations.failed())
    if as_json:
        print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    if not rows:
        print("Không có lượt gửi thất bại / no failed deliveries")
        return
    for row in rows:
        what = (
            f"status {row['status_code']}"
            if row["kind"] == "status"
            else f"edoc type {row['business_doc_type']}"
        )
        print(
            f"{row['id']}  {row['channel']:8} {what:14} {row['agency_code']} → {row['recipient_code']}  "
            f"{row['external_document_id']}  [{row['error_code']}] {row['error'] or ''}  "
            f"(attempts {row['attempts']}, failed {row['failed_at']})"
        )


@app.command("replay")
def replay(delivery_id: str = typer.Argument(..., help="Id from `vanthu interop failed`")) -> None:
    """Gửi lại một lượt gửi thất bại / send a failed delivery again (same idempotency key)."""
    row = _run(lambda s: s.operations.replay(delivery_id))
    print(f"{delivery_id} queued again ({row.get('state')}); the running interop service sends it")


@app.command("sync-partners")
def sync_partners() -> None:
    """Đồng bộ danh bạ từ trục / refresh the partner directory from the axis agency list."""

    async def action(service: Any) -> Any:
        if service.axis is None:
            from vanthu_contracts.errors import UNAVAILABLE
            from vanthu_runtime.errors import AppError

            raise AppError(UNAVAILABLE, {"reason": "VANTHU_INTEROP_AXIS_ENABLED is not true"})
        return await service.directory.sync_partners(service.axis)

    summary = _run(action)
    print(f"{summary.total} partners ({summary.added} new, {summary.changed} changed)")
