"""PostgreSQL fixtures and launchers: the session database exists, databases are dropped, private clusters run."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import asyncpg
import pytest

from vanthu_testing.postgres import run_sync, to_sqlalchemy_async_url, with_database
from vanthu_testing.procs import PostgresDatabase, PrivatePostgresCluster

pytestmark = pytest.mark.postgres


async def test_session_database_is_fresh_and_utf8(postgres_url: str, postgres_dsn: str) -> None:
    assert postgres_url == to_sqlalchemy_async_url(postgres_dsn)
    assert postgres_url.startswith("postgresql+asyncpg://")
    database = postgres_dsn.rsplit("/", 1)[1]
    connection = await asyncpg.connect(postgres_dsn)
    try:
        assert await connection.fetchval("SELECT current_database()") == database
        assert await connection.fetchval("SHOW server_encoding") == "UTF8"
        await connection.execute("CREATE TABLE harness_probe (name text)")
        await connection.execute("INSERT INTO harness_probe VALUES ($1)", "Ủy ban nhân dân tỉnh")
        assert await connection.fetchval("SELECT name FROM harness_probe") == "Ủy ban nhân dân tỉnh"
    finally:
        await connection.close()


def test_database_is_dropped_at_stop_even_with_open_connections(postgres_server_dsn: str) -> None:
    database = PostgresDatabase(postgres_server_dsn)
    database.start()
    assert database.exists()

    async def open_connection_and_leave_it() -> asyncpg.Connection:
        return await asyncpg.connect(database.dsn)

    leftover = run_sync(open_connection_and_leave_it)  # a test that forgot to close
    assert leftover is not None
    database.stop()
    assert not database.exists()
    database.stop()  # idempotent


def test_private_cluster_runs_and_stops() -> None:
    base_dir = Path(tempfile.mkdtemp(prefix="vanthu-pg-test-"))
    cluster = PrivatePostgresCluster(base_dir)
    try:
        with cluster:
            assert cluster.dsn.startswith("postgresql://postgres@127.0.0.1:")
            assert cluster.port != 5432
            with PostgresDatabase(cluster.dsn) as database:

                async def server_port() -> str:
                    connection = await asyncpg.connect(database.dsn)
                    try:
                        return await connection.fetchval("SHOW port")
                    finally:
                        await connection.close()

                assert int(run_sync(server_port)) == cluster.port
        cluster.stop()

        async def refused() -> None:
            await asyncpg.connect(cluster.dsn, timeout=2)

        with pytest.raises(OSError):
            run_sync(refused)
    finally:
        cluster.stop()
        shutil.rmtree(base_dir, ignore_errors=True)


def test_dsn_helpers_keep_credentials_and_options() -> None:
    dsn = "postgresql://app:s%40cret@db.local:6543/postgres?sslmode=disable"
    assert (
        with_database(dsn, "vanthu_x") == "postgresql://app:s%40cret@db.local:6543/vanthu_x?sslmode=disable"
    )
    assert to_sqlalchemy_async_url("postgres://u@h/d") == "postgresql+asyncpg://u@h/d"
    with pytest.raises(ValueError):
        to_sqlalchemy_async_url("mysql://u@h/d")
