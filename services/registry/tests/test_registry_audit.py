"""`vanthu audit verify` finds a modified, a reordered and a deleted entry, and a cut tail; with the
anchors published outside the database, also a log rewritten with every hash computed again."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from pathlib import Path

import pytest
from registry_support import Harness, eventually, register, registry_settings, start_harness
from typer.testing import CliRunner

from vanthu_cli.main import build_app
from vanthu_testing._process import reserve_free_ports

pytestmark = [pytest.mark.nats]


def _verify(url: str, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), ["audit", "verify", "--database-url", url, *options])
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
    return _copy_file(h.settings.database_url, target)


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


async def _rewrite(url: str, seq: int, actor: str) -> None:
    """What someone who can write the database could do: change entry `seq` and compute every
    later hash, and the head, again. The chain stays consistent."""
    from sqlalchemy import update

    from vanthu_registry.audit import entries
    from vanthu_registry.cli import registry_uow
    from vanthu_registry.domain.audit import chain_hash
    from vanthu_registry.tables import audit_head, audit_log

    async with registry_uow(url) as uow, uow.begin() as tx:
        log = [e async for e in entries(tx.session)]
        prev = log[seq - 2].hash if seq > 1 else "0" * 64
        for entry in log[seq - 1 :]:
            changed = dataclasses.replace(entry, prev_hash=prev, actor=actor if entry.seq == seq else entry.actor)
            prev = chain_hash(prev, changed)
            await tx.session.execute(
                update(audit_log)
                .where(audit_log.c.seq == entry.seq)
                .values(actor=changed.actor, prev_hash=changed.prev_hash, hash=prev)
            )
        await tx.session.execute(update(audit_head).where(audit_head.c.id == 1).values(hash=prev))


async def _cut(url: str) -> None:
    """Remove the newest entry and move the head back to the one before: consistent again."""
    from sqlalchemy import delete, select, update

    from vanthu_registry.cli import registry_uow
    from vanthu_registry.tables import audit_head, audit_log

    async with registry_uow(url) as uow, uow.begin() as tx:
        last, before = (
            await tx.session.execute(select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(2))
        ).all()
        await tx.session.execute(delete(audit_log).where(audit_log.c.seq == last.seq))
        await tx.session.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=before.seq, hash=before.hash))


async def test_anchors_outside_the_database_catch_a_consistently_rewritten_or_cut_log(
    tmp_path: Path, provisioned: str
) -> None:
    import nats

    from vanthu_contracts.subjects import event_subject

    settings = registry_settings(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'anchored.db'}", provisioned, audit_anchor_interval_s=0
    )
    published: list[dict] = []
    nc = await nats.connect(provisioned)

    async def on_sealed(msg) -> None:  # type: ignore[no-untyped-def]
        published.append(json.loads(msg.data))

    await nc.subscribe(event_subject("registry.audit.sealed"), cb=on_sealed)
    try:
        async for h in start_harness(settings):
            for i in range(3):
                doc = (await register(h, code_number=str(800 + i))).json()
                await h.client.get(f"/api/v1/documents/{doc['id']}", headers=h.auth("lanhdao"))
            intact = await _copy(h, tmp_path / "intact.db")
    finally:
        await eventually(lambda: _nonempty(published))
        await nc.close()
    # The anchors published are this log's: its first entry's hash, and heads it reached.
    chains = {a["payload"]["chain"] for a in published}
    assert len(chains) == 1
    anchors_file = tmp_path / "anchors.jsonl"
    anchors_file.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in published))
    nats_options = ("--anchors", "nats", "--nats-url", provisioned)

    code, output = await asyncio.to_thread(_verify, intact, *nats_options)
    assert code == 0 and "OK" in output, output
    anchored = int(output.split(" mốc")[0].split()[-1])
    assert anchored >= len(published) >= 1  # other tests' logs on the same stream are left aside

    rewritten = _copy_file(intact, tmp_path / "rewritten.db")
    await _rewrite(rewritten, 2, "ke-gian")
    code, output = await asyncio.to_thread(_verify, rewritten)
    assert code == 0, output  # the chain alone cannot tell
    for options in (nats_options, ("--anchors", str(anchors_file))):
        code, output = await asyncio.to_thread(_verify, rewritten, *options)
        assert code == 1 and "rewritten" in output, output

    cut = _copy_file(intact, tmp_path / "cut.db")
    await _cut(cut)
    assert (await asyncio.to_thread(_verify, cut))[0] == 0
    code, output = await asyncio.to_thread(_verify, cut, *nats_options)
    assert code == 1 and "truncated" in output, output

    first_changed = _copy_file(intact, tmp_path / "first.db")
    await _rewrite(first_changed, 1, "ke-gian")
    code, output = await asyncio.to_thread(_verify, first_changed, "--anchors", str(anchors_file))
    assert code == 1 and "unanchored" in output, output

    code, output = await asyncio.to_thread(_verify, intact, "--anchors", "nats", "--nats-url", f"nats://127.0.0.1:{reserve_free_ports(1)[0]}")
    assert code == 2 and "error registry.audit_anchors_unreadable" in output, output

    (tmp_path / "bad.jsonl").write_text('{"seq": "một"}\n')
    code, output = await asyncio.to_thread(_verify, intact, "--anchors", str(tmp_path / "bad.jsonl"))
    assert code == 2 and "error registry.audit_anchors_unreadable" in output and "bad.jsonl:1" in output, output


async def _nonempty(items: list) -> bool:  # type: ignore[type-arg]
    return bool(items)


def _copy_file(url: str, target: Path) -> str:
    """A copy of a SQLite database (the online backup API: consistent while the app writes)."""
    with sqlite3.connect(url.split("///", 1)[1]) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite+aiosqlite:///{target}"
