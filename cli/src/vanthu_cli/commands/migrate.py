"""`vanthu migrate [SERVICE...]`: run each service's Alembic migrations against its configured database.

For the Helm pre-install/pre-upgrade Job and the compose one-shot: each service
reads its database URL from its own environment (`VANTHU_<SERVICE>_DATABASE_URL`),
exactly as the service process would.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

SERVICES = ("registry", "routing", "signing", "interop", "analytics")


def _migrations_dir(service: str) -> Path:
    spec = importlib.util.find_spec(f"vanthu_{service}")
    if spec is None or spec.origin is None:
        raise typer.BadParameter(f"service package vanthu_{service} is not installed")
    return Path(spec.origin).parent / "migrations"


def _database_url(service: str) -> str:
    module = importlib.import_module(f"vanthu_{service}.settings")
    settings_class = getattr(module, f"{service.capitalize()}Settings")
    return settings_class().database_url


def migrate(
    services: Annotated[
        list[str] | None, typer.Argument(help="Services to migrate (default: all five)", show_default=False)
    ] = None,
) -> None:
    """Nâng cấp cơ sở dữ liệu / upgrade each service's database schema to the newest migration."""
    from vanthu_runtime.migrations import upgrade_sync

    console = Console(highlight=False)
    chosen = services or list(SERVICES)
    unknown = [s for s in chosen if s not in SERVICES]
    if unknown:
        console.print(
            f"[red]vanthu migrate:[/] unknown service(s) {', '.join(unknown)}; choose from {', '.join(SERVICES)}"
        )
        raise typer.Exit(2)
    failed = False
    for service in chosen:
        try:
            url = _database_url(service)
            upgrade_sync(_migrations_dir(service), url)
        except Exception as exc:  # report every service, then fail
            failed = True
            console.print(f"  [red]failed[/]   {service}: {type(exc).__name__}: {exc}")
            continue
        console.print(f"  [green]migrated[/] {service}")
    raise typer.Exit(1 if failed else 0)
