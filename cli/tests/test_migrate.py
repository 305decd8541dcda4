"""`vanthu migrate` upgrades every service's own database from its own settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vanthu_cli.main import build_app

SERVICES = ("registry", "routing", "signing", "interop", "analytics")


def test_migrates_each_service_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for service in SERVICES:
        monkeypatch.setenv(
            f"VANTHU_{service.upper()}_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / service}.db"
        )
    result = CliRunner().invoke(build_app(plugins=False), ["migrate"])
    assert result.exit_code == 0, result.output
    for service in SERVICES:
        with sqlite3.connect(tmp_path / f"{service}.db") as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            version = db.execute("SELECT version_num FROM alembic_version").fetchone()
        assert {"outbox", "inbox", "alembic_version"} <= tables, service
        assert version is not None
    with sqlite3.connect(tmp_path / "registry.db") as db:
        assert db.execute("SELECT count(*) FROM agencies").fetchone() == (0,)
    # Running it again is a no-op that still succeeds.
    assert CliRunner().invoke(build_app(plugins=False), ["migrate", "registry"]).exit_code == 0


def test_unknown_service_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(plugins=False), ["migrate", "mailroom"])
    assert result.exit_code == 2
    assert "mailroom" in result.output
