"""`vanthu report …` and `vanthu analytics …` sub-commands."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import typer
from rich.console import Console

report_app = typer.Typer(help="Báo cáo / reports.", no_args_is_help=True)
analytics_app = typer.Typer(
    help="Thống kê: dữ liệu mô phỏng, phát lại / analytics tools.", no_args_is_help=True
)
console = Console(stderr=True)


def _fail(code: object, **details: object) -> None:
    console.print(f"[red]{code.code}[/red]: {code.message_vi} / {code.message_en}")  # type: ignore[attr-defined]
    if details:
        console.print(details)
    raise typer.Exit(2)


@report_app.command("monthly")
def monthly(
    month: str = typer.Option(..., "--month", help="YYYY-MM, e.g. 2026-10"),
    out: Path = typer.Option(..., "--out", help="Directory for the XLSX, CSV, charts and summary"),
    agency: str | None = typer.Option(None, "--agency", help="Only this agency and those under it"),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Analytics database (default: settings)"
    ),
) -> None:
    """Write the monthly report: workbook, CSV tables, PNG and SVG charts, the province summary."""
    from vanthu_analytics.domain.periods import Period, PeriodError
    from vanthu_contracts.events import analytics as codes

    try:
        Period.of_month(month)
    except PeriodError:
        _fail(codes.BAD_MONTH, month=month)
    written = asyncio.run(_monthly(month, out, agency, database_url))
    for path in written:
        typer.echo(str(path))


async def _monthly(month: str, out: Path, agency: str | None, database_url: str | None) -> list[Path]:
    from vanthu_analytics.app import MIGRATIONS
    from vanthu_analytics.monthly import build_monthly, write_monthly
    from vanthu_analytics.reports import ReportService
    from vanthu_analytics.repository import inbox, outbox
    from vanthu_analytics.settings import AnalyticsSettings
    from vanthu_runtime.db import Database
    from vanthu_runtime.messaging.inbox import Inbox
    from vanthu_runtime.messaging.outbox import Outbox
    from vanthu_runtime.migrations import upgrade
    from vanthu_runtime.uow import UnitOfWork

    settings = AnalyticsSettings(**({"database_url": database_url} if database_url else {}))
    if settings.auto_migrate:
        await upgrade(MIGRATIONS, settings.database_url)
    db = Database(settings.database_url)
    try:
        reports = ReportService(UnitOfWork(db, Outbox(outbox), Inbox(inbox)), settings)
        scope = await reports.scope(agency=agency, unit=None) if agency else None
        report = await build_monthly(reports, month, scope)
        return write_monthly(report, out)
    finally:
        await db.dispose()


@analytics_app.command("generate")
def generate(
    units: int = typer.Option(1000, "--units", help="Units (phòng, ban) in the province"),
    users: int = typer.Option(50_000, "--users", help="People"),
    events: int = typer.Option(10_000_000, "--events", help="Events to publish (at most)"),
    year: int = typer.Option(2026, "--year"),
    seed: int = typer.Option(2026, "--seed", help="The same seed gives the same province and story"),
    nats_url: str | None = typer.Option(
        None, "--nats-url", help="Default: VANTHU_NATS_URL or the local server"
    ),
    record_to: Path | None = typer.Option(
        None, "--record", help="Write JSON lines to this file instead of publishing"
    ),
    in_flight: int = typer.Option(
        1000, "--in-flight", min=1, max=10_000, help="Unacknowledged publishes at once"
    ),
) -> None:
    """Publish a synthetic province-year of events (realistic mix and timing) to VANTHU_EVENTS."""
    from vanthu_analytics.generator import check_bounds, province_year
    from vanthu_analytics.publish import record, to_wire
    from vanthu_contracts.events import analytics as codes

    wrong = check_bounds(units, users, events)
    if wrong:
        _fail(codes.GENERATE_BOUNDS, arguments=wrong)
    stream = to_wire(province_year(units=units, users=users, events=events, year=year, seed=seed))
    started = time.perf_counter()
    if record_to is not None:
        count = record(stream, record_to)
        typer.echo(f"{count} events recorded to {record_to} in {time.perf_counter() - started:.1f} s")
        return
    count = asyncio.run(_publish(stream, nats_url, in_flight, events))
    elapsed = time.perf_counter() - started
    typer.echo(f"{count} events published in {elapsed:.1f} s ({count / elapsed:,.0f}/s)")


@analytics_app.command("replay")
def replay(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A file written by generate --record"),
    nats_url: str | None = typer.Option(None, "--nats-url"),
    in_flight: int = typer.Option(1000, "--in-flight", min=1, max=10_000),
) -> None:
    """Publish a recorded stream (its event ids are kept, so JetStream de-duplicates a second run)."""
    from vanthu_analytics.publish import recorded

    count = asyncio.run(_publish(recorded(path), nats_url, in_flight, None))
    typer.echo(f"{count} events published")


async def _publish(stream, nats_url: str | None, in_flight: int, total: int | None) -> int:
    import nats

    from vanthu_analytics.publish import publish
    from vanthu_analytics.settings import AnalyticsSettings
    from vanthu_contracts.streams import EVENTS_STREAM

    url = nats_url or AnalyticsSettings().nats_url
    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=3)
    count = 0
    try:
        js = nc.jetstream(timeout=30)
        try:
            await js.stream_info(EVENTS_STREAM.name)
        except Exception as exc:
            console.print(
                f"[red]stream {EVENTS_STREAM.name} not found at {url}: run `vanthu provision` first[/red]"
            )
            raise typer.Exit(2) from exc
        last_report = time.monotonic()
        async for count in publish(js, stream, in_flight=in_flight):
            if time.monotonic() - last_report > 5:
                last_report = time.monotonic()
                console.print(f"{count:,}" + (f" / {total:,}" if total else "") + " published")
    finally:
        await nc.close()
    return count
