"""`vanthu calendar …`: the working-day calendar routing counts deadlines with.

Operators check a year's days off, and validate an override file before pointing
VANTHU_ROUTING_CALENDAR_FILE at it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from vanthu_routing.domain.calendar import WorkingCalendar, parse_overrides
from vanthu_routing.domain.rules import RuleBroken

calendar_app = typer.Typer(
    help="Lịch ngày làm việc / the working-day calendar of deadlines.", no_args_is_help=True
)
FILE = typer.Option(None, "--file", "-f", help="TOML override file (default: VANTHU_ROUTING_CALENDAR_FILE)")


def _calendar(file: Path | None) -> WorkingCalendar:
    if file is None:
        from vanthu_routing.settings import RoutingSettings

        file = RoutingSettings().calendar_file
    if file is None:
        return WorkingCalendar()
    try:
        return WorkingCalendar(overrides=parse_overrides(file.read_text("utf-8")))
    except RuleBroken as exc:
        typer.echo(f"{exc.code.message_vi} / {exc.code.message_en}: {exc.details.get('error', '')}", err=True)
        raise typer.Exit(2) from exc


@calendar_app.command("days-off")
def days_off(year: int = typer.Argument(..., help="Năm / year"), file: Path | None = FILE) -> None:
    """Ngày nghỉ trong tuần làm việc và ngày làm bù / weekday days off and worked weekend days."""
    cal = _calendar(file)
    table = Table(title=f"{year}")
    table.add_column("ngày / date")
    table.add_column("")
    current = date(year, 1, 1)
    while current.year == year:
        weekend = current.weekday() >= 5
        working = cal.is_working_day(current)
        if weekend and working:
            table.add_row(current.isoformat(), "làm bù / worked")
        elif not weekend and not working:
            table.add_row(current.isoformat(), "nghỉ / off")
        current = date.fromordinal(current.toordinal() + 1)
    Console().print(table)


@calendar_app.command("deadline")
def deadline(
    start: str = typer.Argument(..., help="YYYY-MM-DD"),
    working_days: int = typer.Argument(..., min=0, help="Số ngày làm việc / working days"),
    file: Path | None = FILE,
) -> None:
    """Hạn sau N ngày làm việc / the date N working days after START."""
    try:
        day = date.fromisoformat(start)
    except ValueError as exc:
        typer.echo(f"Ngày không hợp lệ / not a date: {start}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(_calendar(file).add_working_days(day, working_days).isoformat())
