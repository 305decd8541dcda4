"""The scripts the images carry, run for real: vanthu-migrate on PostgreSQL, vanthu-healthcheck and
vanthu-smoke against a registry process and a nats-server (the session's, from the fixtures)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import nats
import pytest
from deploy_support import DOCKER_DIR

from vanthu_runtime.messaging.provision import provision
from vanthu_testing._process import reserve_free_ports
from vanthu_testing.postgres import PostgresDatabase

BIN = DOCKER_DIR / "bin"


def run_script(
    name: str, *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VANTHU_")}
    return subprocess.run(
        [sys.executable, str(BIN / name), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def two_databases(postgres_dsn: str) -> Iterator[tuple[PostgresDatabase, PostgresDatabase]]:
    server = postgres_dsn.rsplit("/", 1)[0] + "/postgres"
    first, second = PostgresDatabase(server_dsn=server), PostgresDatabase(server_dsn=server)
    first.start()
    second.start()
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def tables_of(dsn: str) -> set[str]:
    import asyncio

    import asyncpg

    async def query() -> set[str]:
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch("select tablename from pg_tables where schemaname = 'public'")
        finally:
            await connection.close()
        return {r["tablename"] for r in rows}

    return asyncio.run(query())


@pytest.mark.postgres
def test_migrate_brings_each_named_service_to_head(
    two_databases: tuple[PostgresDatabase, PostgresDatabase],
) -> None:
    registry_db, routing_db = two_databases
    env = {"VANTHU_REGISTRY_DATABASE_URL": registry_db.url, "VANTHU_ROUTING_DATABASE_URL": routing_db.url}
    result = run_script("migrate.py", "--wait", "5", "registry", "routing", env=env)
    assert result.returncode == 0, result.stderr
    assert "registry at head" in result.stdout and "routing at head" in result.stdout
    for db in (registry_db, routing_db):
        tables = tables_of(db.dsn)
        assert {"alembic_version", "outbox", "inbox"} <= tables, tables


def test_migrate_refuses_a_service_without_a_database_url() -> None:
    result = run_script("migrate.py", "signing", env={})
    assert result.returncode == 2
    assert "VANTHU_SIGNING_DATABASE_URL is not set" in result.stderr


def test_migrate_reports_an_unreachable_database_and_fails() -> None:
    [port] = reserve_free_ports(1)  # nothing listens there
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/nowhere"
    result = run_script("migrate.py", "--wait", "0", "registry", env={"VANTHU_REGISTRY_DATABASE_URL": url})
    assert result.returncode == 1
    assert "registry: cannot migrate" in result.stderr


@pytest.fixture(scope="module")
def registry_process(tmp_path_factory: pytest.TempPathFactory, nats_url: str) -> Iterator[str]:
    """A real registry process on a free port, with SQLite and local files, on the session NATS."""
    from vanthu_runtime.auth import ensure_dev_keypair

    tmp = tmp_path_factory.mktemp("registry")
    _, public_key = ensure_dev_keypair(tmp / "keys")
    [port] = reserve_free_ports(1)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VANTHU_")},
        "VANTHU_NATS_URL": nats_url,
        "VANTHU_REGISTRY_PORT": str(port),
        "VANTHU_REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'registry.db'}",
        "VANTHU_REGISTRY_OBJECT_STORE_DIR": str(tmp / "objects"),
        "VANTHU_JWT_PUBLIC_KEY_FILE": str(public_key),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "vanthu_registry"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"registry exited {process.returncode}: {process.stderr.read()[-2000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("registry did not become ready in 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.mark.nats
def test_healthcheck_passes_on_a_live_service_and_fails_on_a_dead_port(registry_process: str) -> None:
    port = registry_process.rsplit(":", 1)[1]
    alive = run_script("healthcheck.py", "registry", env={"VANTHU_REGISTRY_PORT": port}, timeout=30)
    assert alive.returncode == 0, alive.stderr
    assert "healthy" in alive.stdout
    [dead] = reserve_free_ports(1)
    down = run_script("healthcheck.py", "registry", env={"VANTHU_REGISTRY_PORT": str(dead)}, timeout=30)
    assert down.returncode == 1
    unknown = run_script("healthcheck.py", "printer", env={}, timeout=30)
    assert unknown.returncode == 2


@pytest.mark.nats
async def test_smoke_passes_on_a_provisioned_platform_and_names_what_fails(
    registry_process: str, nats_url: str
) -> None:
    nc = await nats.connect(nats_url)
    try:
        assert (await provision(nc.jetstream())).ok
    finally:
        await nc.close()
    env = {"VANTHU_REGISTRY_URL": registry_process, "VANTHU_NATS_URL": nats_url}
    passed = run_script("smoke.py", "--service", "registry", env=env, timeout=60)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    for line in ("registry /healthz", "registry /readyz", "registry /metrics", "nats stream VANTHU_EVENTS"):
        assert f"ok   {line}" in passed.stdout
    assert "all checks passed" in passed.stdout
    # Every service by default: the four without a URL fail, each on its own line.
    failed = run_script("smoke.py", env=env, timeout=60)
    assert failed.returncode == 1
    assert "FAIL routing" in failed.stdout and "VANTHU_ROUTING_URL is not set" in failed.stdout
    assert "4 of" in failed.stdout
