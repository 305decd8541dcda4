"""Fixtures: the registry app in-process on real NATS and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from registry_support import Harness, registry_settings, start_harness

from vanthu_runtime.messaging.provision import provision
from vanthu_testing.postgres import PostgresDatabase


@pytest.fixture(scope="session")
async def provisioned(nats_url: str) -> str:
    nc = await nats.connect(nats_url)
    try:
        report = await provision(nc.jetstream())
        assert report.ok, report.errors
    finally:
        await nc.close()
    return nats_url


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("registry")


@pytest.fixture(scope="module")
async def sqlite_registry(module_tmp: Path, provisioned: str) -> AsyncIterator[Harness]:
    settings = registry_settings(module_tmp, f"sqlite+aiosqlite:///{module_tmp / 'registry.db'}", provisioned)
    async for harness in start_harness(settings):
        yield harness


@pytest.fixture(scope="module")
def module_pg_url(postgres_dsn: str) -> Iterator[str]:
    db = PostgresDatabase(server_dsn=postgres_dsn.rsplit("/", 1)[0] + "/postgres")
    db.start()
    try:
        yield db.url
    finally:
        db.stop()


@pytest.fixture(scope="module")
async def pg_registry(module_tmp: Path, module_pg_url: str, provisioned: str) -> AsyncIterator[Harness]:
    settings = registry_settings(module_tmp / "pg", module_pg_url, provisioned)
    async for harness in start_harness(settings):
        yield harness


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def registry(request: pytest.FixtureRequest, module_tmp: Path, provisioned: str) -> AsyncIterator[Harness]:
    """The same tests on both database back ends, one app per back end per module."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{module_tmp / ('param-' + os.urandom(3).hex() + '.db')}"
        tmp = module_tmp / "sqlite-param"
    else:
        url = request.getfixturevalue("module_pg_url")
        tmp = module_tmp / "pg-param"
    async for harness in start_harness(registry_settings(tmp, url, provisioned)):
        yield harness
