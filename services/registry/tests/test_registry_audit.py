"""`vanthu audit verify` finds a modified, a reordered and a deleted entry, and a cut tail."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from registry_support import Harness, eventually, register
from typer.testing import CliRunner

from vanthu_cli.main import build_app

pytestmark = [pytest.mark.nats]


def _verify(url: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), ["audit", "verify", "--database-url", url])
    return result.exit_code, result.output


async def _sealed(h: Harness) -> None:
    from sqlalchemy import func, select

    from vanthu_registry.tables import audit_pending

    async def nothing_pending() -> bool:
        async with h.app.state.runtime.uow.read() as session:
            return (await session.execute(select(func.count()).select_from(audit_pending))).scalar_one() == 0

    await eventually(nothing_pending)


async def _copy(h: Harness, target: Path) -> str:
    await _sealed(h)
    source = h.settings.database_url.split("///", 1)[1]
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite+aiosqlite:///{target}"


def _tamper(url: str, *statements: str) -> None:
    with sqlite3.connect(url.split("///", 1)[1]) as conn:
        for statement in statements:
            conn.execute(statement)


async def test_audit_verify_detects_tampering(sqlite_registry: Harness, tmp_path: Path) -> None:
    h = sqlite_registry
    for i in range(3):
        doc = (await register(h, code_number=str(600 + i))).json()
        await h.client.get(f"/api/v1/documents/{doc['id']}", headers=h.auth("lanhdao"))

    intact = await _copy(h, tmp_path / "intact.db")
    code, output = await asyncio.to_thread(_verify, intact)
    assert code == 0, output
    assert "OK" in output

    modified = await _copy(h, tmp_path / "modified.db")
    _tamper(modified, "UPDATE audit_log SET actor = 'ke-gian' WHERE seq = 3")
    code, output = await asyncio.to_thread(_verify, modified)
    assert code == 1 and "modified" in output

    reordered = await _copy(h, tmp_path / "reordered.db")
    _tamper(
        reordered,
        "UPDATE audit_log SET seq = -1 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = -1",
    )
    code, output = await asyncio.to_thread(_verify, reordered)
    assert code == 1 and ("reordered" in output or "modified" in output)

    deleted = await _copy(h, tmp_path / "deleted.db")
    _tamper(deleted, "DELETE FROM audit_log WHERE seq = 4")
    code, output = await asyncio.to_thread(_verify, deleted)
    assert code == 1 and "deleted" in output

    truncated = await _copy(h, tmp_path / "truncated.db")
    _tamper(truncated, "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
    code, output = await asyncio.to_thread(_verify, truncated)
    assert code == 1 and "truncated" in output


async def test_audit_chain_stays_intact_on_postgres_under_concurrency(pg_registry: Harness) -> None:
    h = pg_registry
    docs = await asyncio.gather(*(register(h, code_number=str(700 + i)) for i in range(10)))
    await asyncio.gather(*(h.client.get(f"/api/v1/documents/{d.json()['id']}", headers=h.auth("lanhdao")) for d in docs))
    await _sealed(h)
    code, output = await asyncio.to_thread(_verify, h.settings.database_url)
    assert code == 0, output
