"""The hash-chained audit log on PostgreSQL: `vanthu audit verify` finds every kind of tampering.

The registry of the platform writes real entries (registrations, reads, grants, refused
nothing). Its sealed chain is copied, in one consistent snapshot, into a database of its
own (migrated like the registry's), and each scenario tampers with that copy the way
someone with database access would: change a field, change a field and recompute that
entry's hash, delete an entry, swap two, cut the tail, append a forged entry. The operator
command must report each one (exit 1, with its kind) and accept the untouched copy (exit 0).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from security_data import register_incoming
from security_platform import AGENCY_A, SecurityPlatform, eventually
from sqlalchemy import func, select
from typer.testing import CliRunner

from vanthu_registry.app import MIGRATIONS
from vanthu_registry.domain.audit import AuditEntry, chain_hash
from vanthu_runtime.migrations import upgrade
from vanthu_testing.postgres import PostgresDatabase

COLUMNS = (
    "seq",
    "at",
    "actor",
    "on_behalf_of",
    "agency_code",
    "action",
    "target_type",
    "target_id",
    "source_ip",
    "details",
    "prev_hash",
    "hash",
)


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _verify(database_url: str) -> tuple[int, str]:
    from vanthu_cli.main import build_app

    result = CliRunner().invoke(build_app(), ["audit", "verify", "--database-url", database_url])
    return result.exit_code, result.output


async def _sealed_snapshot(platform: SecurityPlatform) -> tuple[list[asyncpg.Record], asyncpg.Record]:
    """The registry's chain and head, read in one repeatable-read transaction (the sealer keeps going)."""
    from vanthu_registry.tables import audit_pending

    async def nothing_pending() -> bool:
        async with platform.uow("registry").read() as session:
            return (await session.execute(select(func.count()).select_from(audit_pending))).scalar_one() == 0

    await eventually(nothing_pending, "the audit sealer")
    connection = await asyncpg.connect(_dsn(platform.databases["registry"]))
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            head = await connection.fetchrow("SELECT seq, hash FROM audit_head WHERE id = 1")
            rows = await connection.fetch(
                f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE seq <= $1 ORDER BY seq", head["seq"]
            )
    finally:
        await connection.close()
    return rows, head


class Copy:
    """A migrated registry database holding a copy of the chain, restored before each scenario."""

    def __init__(self, url: str, rows: list[asyncpg.Record], head: asyncpg.Record) -> None:
        self.url, self.rows, self.head = url, rows, head

    async def restore(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(_dsn(self.url))
        await connection.execute("TRUNCATE audit_log")
        await connection.copy_records_to_table(
            "audit_log", records=[tuple(r) for r in self.rows], columns=COLUMNS
        )
        await connection.execute(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", self.head["seq"], self.head["hash"]
        )
        return connection

    async def verify(self) -> tuple[int, str]:
        return await asyncio.to_thread(_verify, self.url)


@pytest.fixture(scope="module")
async def chain_copy(platform: SecurityPlatform, postgres_server_dsn: str) -> AsyncIterator[Copy]:
    for _ in range(3):
        document = await register_incoming(platform, AGENCY_A)
        for who in ("lanhdao", "pholanhdao"):
            assert (
                await platform.request(
                    "registry", "GET", f"/api/v1/documents/{document['id']}", AGENCY_A, who
                )
            ).status_code == 200
    rows, head = await _sealed_snapshot(platform)
    assert len(rows) >= 9 and head["seq"] == rows[-1]["seq"]
    database = PostgresDatabase(server_dsn=postgres_server_dsn, name_prefix="vanthu_security_audit")
    database.start()
    try:
        await upgrade(MIGRATIONS, database.url)
        yield Copy(database.url, rows, head)
    finally:
        database.stop()


def _entry(row: dict[str, Any]) -> AuditEntry:
    """The entry as the registry hashes it (UTC wall time, JSON details)."""
    import json
    from datetime import UTC

    details = row["details"]
    return AuditEntry(
        seq=row["seq"],
        at=row["at"].astimezone(UTC).replace(tzinfo=None),
        actor=row["actor"],
        on_behalf_of=row["on_behalf_of"],
        agency=row["agency_code"],
        action=row["action"],
        target_type=row["target_type"],
        target_id=row["target_id"],
        source_ip=row["source_ip"],
        details=json.loads(details) if isinstance(details, str) else details,
        prev_hash=row["prev_hash"],
    )


async def test_the_untouched_chain_verifies(chain_copy: Copy) -> None:
    connection = await chain_copy.restore()
    await connection.close()
    code, output = await chain_copy.verify()
    assert code == 0 and "OK" in output, output
    assert f"{len(chain_copy.rows)} entries, chain intact" in output.replace("\n", " ")


async def test_every_kind_of_tampering_is_found(chain_copy: Copy) -> None:
    middle = chain_copy.rows[len(chain_copy.rows) // 2]["seq"]
    last = chain_copy.head["seq"]

    async def rehash(connection: asyncpg.Connection, seq: int) -> None:
        """The attacker knows the algorithm: make the changed entry match its own hash again."""
        row = dict(
            await connection.fetchrow(f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE seq = $1", seq)
        )
        await connection.execute(
            "UPDATE audit_log SET hash = $1 WHERE seq = $2", chain_hash(row["prev_hash"], _entry(row)), seq
        )

    async def forge_next(connection: asyncpg.Connection, seq: int) -> None:
        row = dict(
            await connection.fetchrow(f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE seq = $1", seq)
        )
        row |= {"seq": seq + 1, "prev_hash": row["hash"], "action": "document.read", "actor": "ke-gian"}
        row["hash"] = chain_hash(row["prev_hash"], _entry(row))
        await connection.copy_records_to_table(
            "audit_log", records=[tuple(row[c] for c in COLUMNS)], columns=COLUMNS
        )

    scenarios: dict[str, tuple[list[str | Any], tuple[str, ...]]] = {
        "actor changed": ([f"UPDATE audit_log SET actor = 'ke-gian' WHERE seq = {middle}"], ("modified",)),
        "action changed": (
            [f"UPDATE audit_log SET action = 'document.grant' WHERE seq = {middle}"],
            ("modified",),
        ),
        "time moved": (
            [f"UPDATE audit_log SET at = at - interval '3 days' WHERE seq = {middle}"],
            ("modified",),
        ),
        "details rewritten": (
            [f"""UPDATE audit_log SET details = '{{"note": "không có gì"}}' WHERE seq = {middle}"""],
            ("modified",),
        ),
        "source ip cleared": ([f"UPDATE audit_log SET source_ip = NULL WHERE seq = {middle}"], ("modified",)),
        "changed and its own hash recomputed": (
            [f"UPDATE audit_log SET actor = 'ke-gian' WHERE seq = {middle}", lambda c: rehash(c, middle)],
            ("reordered",),
        ),
        "an entry deleted": ([f"DELETE FROM audit_log WHERE seq = {middle}"], ("deleted",)),
        "two entries swapped": (
            [
                f"UPDATE audit_log SET seq = -1 WHERE seq = {middle}",
                f"UPDATE audit_log SET seq = {middle} WHERE seq = {middle + 1}",
                f"UPDATE audit_log SET seq = {middle + 1} WHERE seq = -1",
            ],
            ("reordered", "modified"),
        ),
        "the tail cut": ([f"DELETE FROM audit_log WHERE seq = {last}"], ("truncated",)),
        "a forged entry appended": ([lambda c: forge_next(c, last)], ("truncated",)),
    }
    for name, (steps, kinds) in scenarios.items():
        connection = await chain_copy.restore()
        try:
            for step in steps:
                await (connection.execute(step) if isinstance(step, str) else step(connection))
        finally:
            await connection.close()
        code, output = await chain_copy.verify()
        assert code == 1, f"{name}: not detected\n{output}"
        assert "FAILED" in output and any(kind in output for kind in kinds), f"{name}\n{output}"
