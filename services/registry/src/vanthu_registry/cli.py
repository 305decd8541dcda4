"""`vanthu org import FILE` and `vanthu audit verify`: operator commands against the registry's database.

They talk to the database directly (the registry's own, from VANTHU_REGISTRY_DATABASE_URL
or --database-url), not over HTTP: an import writes its `registry.*.upserted` events to
the outbox and the running registry's relay publishes them.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vanthu_runtime.uow import UnitOfWork

org_app = typer.Typer(help="Tổ chức: nhập cây cơ quan, đơn vị, người dùng / the org directory.", no_args_is_help=True)
audit_app = typer.Typer(help="Nhật ký truy vết / the hash-chained audit log.", no_args_is_help=True)



@org_app.callback()
def _org() -> None:
    """Tổ chức: nhập cây cơ quan, đơn vị, người dùng / the org directory."""


@audit_app.callback()
def _audit() -> None:
    """Nhật ký truy vết / the hash-chained audit log."""


DATABASE_URL = typer.Option(None, "--database-url", help="Default: VANTHU_REGISTRY_DATABASE_URL or the registry's default")


@asynccontextmanager
async def registry_uow(database_url: str | None, *, migrate: bool = True) -> AsyncIterator[UnitOfWork]:
    """The registry's database; `migrate` brings its schema up to date first (an import writes,
    a check only reads and must not change the schema under a running deployment)."""
    from vanthu_registry.app import MIGRATIONS
    from vanthu_registry.settings import RegistrySettings
    from vanthu_registry.tables import inbox, outbox
    from vanthu_runtime.db import Database
    from vanthu_runtime.messaging.inbox import Inbox
    from vanthu_runtime.messaging.outbox import Outbox
    from vanthu_runtime.migrations import upgrade

    url = database_url or RegistrySettings().database_url
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
    if migrate:
        await upgrade(MIGRATIONS, url)
    db = Database(url)
    try:
        yield UnitOfWork(db, Outbox(outbox), Inbox(inbox))
    finally:
        await db.dispose()


@org_app.command("import")
def import_org(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV (UTF-8) or XLSX"),
    database_url: str | None = DATABASE_URL,
    rejected_csv: Path | None = typer.Option(None, "--rejected", help="Also write the rejected rows to this CSV"),
) -> None:
    """Nhập cơ quan, đơn vị, người dùng từ CSV/XLSX / load agencies, units and users."""
    from vanthu_registry.orgimport import import_rows, read_rows
    from vanthu_registry.service import DirectoryService

    console = Console()
    rows = read_rows(file)

    async def run() -> object:
        async with registry_uow(database_url) as uow:
            with Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task(f"Nhập {file.name}", total=len(rows))
                return await import_rows(DirectoryService(uow), rows, lambda n: progress.advance(task, n))

    report = asyncio.run(run())
    console.print(
        f"Đã nhận / accepted: {report.accepted['agency']} cơ quan, {report.accepted['unit']} đơn vị, "  # type: ignore[attr-defined]
        f"{report.accepted['user']} người dùng; bị từ chối / rejected: {len(report.rejected)}"  # type: ignore[attr-defined]
    )
    if report.rejected:  # type: ignore[attr-defined]
        table = Table(title="Dòng bị từ chối / rejected rows")
        for column in ("dòng/row", "kind", "key", "code", "lý do / reason"):
            table.add_column(column)
        for r in report.rejected:  # type: ignore[attr-defined]
            table.add_row(str(r.row), r.kind, r.key, r.code, f"{r.message_vi} / {r.message_en}")
        console.print(table)
        if rejected_csv is not None:
            with rejected_csv.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["row", "kind", "key", "code", "message_vi", "message_en"])
                for r in report.rejected:  # type: ignore[attr-defined]
                    writer.writerow([r.row, r.kind, r.key, r.code, r.message_vi, r.message_en])
        raise typer.Exit(code=2)


ANCHORS = typer.Option(
    None,
    "--anchors",
    help="Also check the log against its anchors (registry.audit.sealed): 'nats' reads them from the events "
    "stream, a path reads a JSON-lines copy a subscriber kept",
)
NATS_URL = typer.Option(None, "--nats-url", help="Default: VANTHU_REGISTRY_NATS_URL or the registry's default")


@audit_app.command("verify")
def verify_audit(
    database_url: str | None = DATABASE_URL, anchors: str | None = ANCHORS, nats_url: str | None = NATS_URL
) -> None:
    """Kiểm tra chuỗi băm của nhật ký / verify the audit hash chain (exit 1 on tampering)."""
    from vanthu_registry import anchors as anchor_sources
    from vanthu_registry.audit import Verification, verify_log
    from vanthu_registry.settings import RegistrySettings
    from vanthu_runtime.errors import AppError

    console = Console()

    async def run() -> Verification:
        found = None
        if anchors == "nats":
            settings = RegistrySettings()
            creds = str(settings.nats_creds_file) if settings.nats_creds_file else None
            found = await anchor_sources.from_stream(nats_url or settings.nats_url, creds)
        elif anchors is not None:
            found = anchor_sources.from_file(Path(anchors))
        async with registry_uow(database_url, migrate=False) as uow, uow.read() as session:
            return await verify_log(session, found)

    try:
        report = asyncio.run(run())
    except AppError as exc:
        body = exc.body()
        line = f"error {body.code}: {body.message_vi} / {body.message_en} {body.details.get('reason', '')}"
        console.print(line.rstrip(), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    checked, problems = report.checked, report.problems
    if report.waiting:
        console.print(
            f"{report.waiting} mục chưa được niêm phong / entries not sealed yet (the registry seals them within seconds)"
        )
    if report.anchors is not None:
        console.print(f"{report.anchors} mốc của nhật ký này / anchors of this log checked")
    if not problems:
        console.print(f"[green]OK[/green]: {checked} mục nhật ký, chuỗi băm nguyên vẹn / {checked} entries, chain intact")
        return
    table = Table(title="Nhật ký bị thay đổi / audit log tampered")
    for column in ("seq", "kind", "detail"):
        table.add_column(column)
    for p in problems:
        table.add_row(str(p.seq), p.kind, p.detail)
    console.print(table)
    console.print(f"[red]FAILED[/red]: {len(problems)} vấn đề / problems in {checked} entries")
    raise typer.Exit(code=1)
