#!/usr/bin/env python3
"""Run the database migrations of vanthu services: `vanthu-migrate [--wait S] [SERVICE ...]`.

The deploy-time half of `VANTHU_<SVC>_AUTO_MIGRATE`: the compose one-shot and the Helm
pre-install/pre-upgrade Job run this before any new replica starts, and the services run with
AUTO_MIGRATE=false, so many replicas never race to migrate one database. With no SERVICE, every
service is migrated. Each service's URL comes from VANTHU_<SVC>_DATABASE_URL (or the platform-wide
VANTHU_DATABASE_URL); a service without one is an error, never a silent migration of a default
SQLite file. Migrations are the service's own Alembic scripts (`vanthu_<svc>/migrations`), applied
with the runtime kit's `upgrade_sync`. Until `vanthu migrate` exists this script is that command.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

SERVICES = ("registry", "routing", "signing", "interop", "analytics")


class MigrationSetupError(RuntimeError):
    pass


def database_url(service: str, env: dict[str, str]) -> str:
    url = env.get(f"VANTHU_{service.upper()}_DATABASE_URL") or env.get("VANTHU_DATABASE_URL")
    if not url:
        raise MigrationSetupError(
            f"{service}: VANTHU_{service.upper()}_DATABASE_URL is not set "
            "(chưa cấu hình cơ sở dữ liệu / no database configured)"
        )
    return url


def migrations_dir(service: str) -> Path:
    spec = importlib.util.find_spec(f"vanthu_{service}")
    if spec is None or not spec.submodule_search_locations:
        raise MigrationSetupError(f"{service}: package vanthu_{service} is not installed in this image")
    path = Path(next(iter(spec.submodule_search_locations))) / "migrations"
    if not (path / "env.py").is_file():
        raise MigrationSetupError(f"{service}: no Alembic scripts at {path}")
    return path


def upgrade_with_retry(script_location: Path, url: str, wait_s: float) -> None:
    """Upgrade to head; while `wait_s` lasts, a database that refuses connections is retried."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from vanthu_runtime.migrations import upgrade_sync

    deadline = time.monotonic() + wait_s
    while True:
        try:
            upgrade_sync(script_location, url)
            return
        except (OperationalError, DBAPIError, OSError) as exc:
            # Only connection trouble is worth waiting for; asyncpg reports it as OSError or
            # as a DBAPI error wrapping one.
            connection_trouble = (
                isinstance(exc, OSError)
                or getattr(exc, "connection_invalidated", False)
                or (isinstance(getattr(exc, "orig", None), OSError))
            )
            if not connection_trouble or time.monotonic() >= deadline:
                raise
            time.sleep(1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vanthu-migrate", description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", metavar="SERVICE", help=f"any of {', '.join(SERVICES)}")
    parser.add_argument(
        "--wait", type=float, default=60.0, help="seconds to keep retrying an unreachable database"
    )
    args = parser.parse_args(argv)
    unknown = [s for s in args.services if s not in SERVICES]
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}")
    env = dict(os.environ)
    try:
        plan = [(s, migrations_dir(s), database_url(s, env)) for s in (args.services or SERVICES)]
    except MigrationSetupError as exc:
        print(f"vanthu-migrate: {exc}", file=sys.stderr)
        return 2
    from sqlalchemy.exc import DBAPIError, OperationalError

    for service, scripts, url in plan:
        started = time.monotonic()
        try:
            upgrade_with_retry(scripts, url, args.wait)
        except (OperationalError, DBAPIError, OSError) as exc:
            print(f"vanthu-migrate: {service}: cannot migrate: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print(f"vanthu-migrate: {service} at head ({time.monotonic() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
