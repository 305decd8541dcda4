"""pytest fixtures that start real infrastructure on loopback, lazily, once per session.

Fixtures (a contract other packages' tests rely on):
  nats_server, nats_url        nats-server with JetStream (`.url`, `.port`, `restart()`, `kill()`)
  postgres_url, postgres_dsn   a fresh database for the session (SQLAlchemy async URL / plain DSN)
  postgres_database            the PostgresDatabase behind them
  s3_server                    S3 API (`.endpoint`, `.access_key`, `.secret_key`, `.region`,
                               `.secure`, `stop()`, `start()`, `client()`)
  softhsm_token                SoftHSMToken "vanthu-test", PINs 1234 / 5678, SOFTHSM2_CONF set
  tmp_data_dir                 a fresh directory per test

A server that cannot start fails the tests that asked for it, with its output in the error;
nothing is skipped. Each xdist worker is its own session, so it gets its own servers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vanthu_testing.infra import InfraKind, infra_kind
from vanthu_testing.nats_server import ExternalNatsServer, NatsServer
from vanthu_testing.postgres import DEFAULT_SERVER_DSN, PostgresDatabase, PrivatePostgresCluster
from vanthu_testing.seaweed import SeaweedS3
from vanthu_testing.softhsm import SoftHSMToken

PG_DSN_ENV = "VANTHU_TEST_PG_DSN"
NATS_URL_ENV = "VANTHU_TEST_NATS_URL"
LONG_RUN_ENV = "VANTHU_TEST_LONG"

# Fixture name -> marker, so `-m "not s3"` deselects whatever needs that server.
_MARKER_FOR_FIXTURE = {
    "nats_server": "nats",
    "nats_url": "nats",
    "postgres_url": "postgres",
    "postgres_dsn": "postgres",
    "postgres_database": "postgres",
    "s3_server": "s3",
    "softhsm_token": "hsm",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vanthu", "vanthu test infrastructure")
    group.addoption(
        "--nats-url",
        default=os.environ.get(NATS_URL_ENV),
        help=f"use this running nats-server (with JetStream) instead of starting one (env {NATS_URL_ENV})",
    )
    group.addoption(
        "--postgres-server-dsn",
        default=os.environ.get(PG_DSN_ENV),
        help=f"PostgreSQL server on which a database is created for the session (env {PG_DSN_ENV}; "
        f"default {DEFAULT_SERVER_DSN}, or a container when VANTHU_TEST_INFRA picks containers)",
    )
    group.addoption(
        "--private-postgres",
        action="store_true",
        help="start a private PostgreSQL cluster (initdb + pg_ctl) instead of using a running server",
    )
    group.addoption(
        "--long",
        action="store_true",
        default=os.environ.get(LONG_RUN_ENV, "") not in ("", "0", "false"),
        help=f"run the chaos, fuzz and load scenarios at full size instead of the bounded CI size "
        f"(env {LONG_RUN_ENV}=1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker in sorted(set(_MARKER_FOR_FIXTURE.values())):
        config.addinivalue_line(
            "markers", f"{marker}: needs a real {marker} server (started by vanthu_testing)"
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for marker in sorted({_MARKER_FOR_FIXTURE[f] for f in fixtures if f in _MARKER_FOR_FIXTURE}):
            item.add_marker(marker)


@pytest.fixture(scope="session")
def long_run(request: pytest.FixtureRequest) -> bool:
    """True under `--long`: scenarios use their full sizes (outside CI), else their bounded ones."""
    return bool(request.config.getoption("--long"))


@pytest.fixture(scope="session")
def vanthu_infra_kind() -> InfraKind:
    """'processes' or 'containers' (see vanthu_testing.infra)."""
    return infra_kind()


@pytest.fixture(scope="session")
def nats_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, vanthu_infra_kind: InfraKind
) -> Iterator[Any]:
    external_url = request.config.getoption("--nats-url")
    if external_url:
        yield ExternalNatsServer(external_url)
        return
    if vanthu_infra_kind == "containers":
        from vanthu_testing.containers import NatsContainerServer

        container = NatsContainerServer()
        container.start()
        try:
            yield container
        finally:
            container.remove()
        return
    with NatsServer(tmp_path_factory.mktemp("nats")) as server:
        yield server


@pytest.fixture(scope="session")
def nats_url(nats_server: Any) -> str:
    return str(nats_server.url)


@pytest.fixture(scope="session")
def postgres_server_dsn(request: pytest.FixtureRequest, vanthu_infra_kind: InfraKind) -> Iterator[str]:
    """DSN of the server the session database lives on (its `postgres` database)."""
    if request.config.getoption("--private-postgres"):
        # Under /tmp rather than tmp_path: as root the server runs as the postgres user, who
        # cannot enter pytest's 0700 temporary root.
        base_dir = Path(tempfile.mkdtemp(prefix="vanthu-pg-"))
        cluster = PrivatePostgresCluster(base_dir)
        try:
            with cluster:
                yield cluster.dsn
        finally:
            shutil.rmtree(base_dir, ignore_errors=True)
        return
    explicit_dsn = request.config.getoption("--postgres-server-dsn")
    if explicit_dsn:
        yield explicit_dsn
        return
    if vanthu_infra_kind == "containers":
        from vanthu_testing.containers import PostgresContainerServer

        container = PostgresContainerServer()
        container.start()
        try:
            yield container.dsn
        finally:
            container.remove()
        return
    yield DEFAULT_SERVER_DSN


@pytest.fixture(scope="session")
def postgres_database(postgres_server_dsn: str) -> Iterator[PostgresDatabase]:
    with PostgresDatabase(postgres_server_dsn) as database:
        yield database


@pytest.fixture(scope="session")
def postgres_url(postgres_database: PostgresDatabase) -> str:
    """SQLAlchemy async URL (postgresql+asyncpg://) of this session's database."""
    return postgres_database.url


@pytest.fixture(scope="session")
def postgres_dsn(postgres_database: PostgresDatabase) -> str:
    """The same database as a plain postgresql:// DSN (asyncpg, psql)."""
    return postgres_database.dsn


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory, vanthu_infra_kind: InfraKind) -> Iterator[Any]:
    if vanthu_infra_kind == "containers":
        from vanthu_testing.containers import MinioContainerServer

        container = MinioContainerServer()
        container.start()
        try:
            yield container
        finally:
            container.remove()
        return
    with SeaweedS3(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHSMToken]:
    token = SoftHSMToken(
        tmp_path_factory.mktemp("softhsm"), label="vanthu-test", user_pin="1234", so_pin="5678"
    )
    token.start()
    previous = os.environ.get("SOFTHSM2_CONF")
    # PKCS#11 libraries loaded in this process (python-pkcs11, pyHanko) read it at C_Initialize.
    os.environ["SOFTHSM2_CONF"] = str(token.conf_path)
    try:
        yield token
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous
        token.stop()


@pytest.fixture
def tmp_data_dir(tmp_path: Path) -> Path:
    """A fresh, empty directory for one test (a data dir, a local object store, ...)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return data_dir
