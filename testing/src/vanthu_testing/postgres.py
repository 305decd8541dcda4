"""PostgreSQL for tests: a throw-away database on a running server, or a private cluster."""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from vanthu_testing._process import LOOPBACK, InfrastructureError, StartStop, reserve_free_ports

T = TypeVar("T")

DEFAULT_SERVER_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def run_sync(make_coroutine: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even if the caller is inside an event loop.

    `asyncio.run` refuses to nest, and fixtures or `vanthu up` may be called from a loop, so the
    coroutine gets a fresh loop in a worker thread.
    """

    async def main() -> T:
        return await make_coroutine()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vanthu-pg") as pool:
        return pool.submit(asyncio.run, main()).result()


def with_database(dsn: str, database: str) -> str:
    """The same server DSN pointing at another database (query options kept)."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def to_sqlalchemy_async_url(dsn: str) -> str:
    scheme, sep, rest = dsn.partition("://")
    if not sep or scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"not a plain postgresql:// DSN: {dsn!r}")
    return f"postgresql+asyncpg://{rest}"


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresDatabase(StartStop):
    """A uniquely named database on a running server, dropped (connections and all) at `stop()`."""

    def __init__(self, server_dsn: str = DEFAULT_SERVER_DSN, *, name_prefix: str = "vanthu_test") -> None:
        self.server_dsn = server_dsn
        self.name = f"{name_prefix}_{uuid.uuid4().hex[:12]}"
        self._created = False

    @property
    def dsn(self) -> str:
        return with_database(self.server_dsn, self.name)

    @property
    def url(self) -> str:
        """SQLAlchemy async URL (asyncpg driver)."""
        return to_sqlalchemy_async_url(self.dsn)

    def start(self) -> None:
        if self._created:
            return
        statement = f"CREATE DATABASE {_quote_identifier(self.name)} ENCODING 'UTF8' TEMPLATE template0"
        try:
            run_sync(lambda: _execute(self.server_dsn, statement))
        except (OSError, asyncpg.PostgresError) as exc:
            raise InfrastructureError(
                f"PostgreSQL: cannot create database {self.name} on {self.server_dsn}: "
                f"{type(exc).__name__}: {exc}. Is the server running? Pick another with "
                "--postgres-server-dsn / VANTHU_TEST_PG_DSN, or use --private-postgres."
            ) from exc
        self._created = True

    def stop(self) -> None:
        if not self._created:
            return
        # FORCE terminates the sessions a test left open (PostgreSQL 13+).
        statement = f"DROP DATABASE IF EXISTS {_quote_identifier(self.name)} WITH (FORCE)"
        run_sync(lambda: _execute(self.server_dsn, statement))
        self._created = False

    def exists(self) -> bool:
        async def query() -> bool:
            connection = await asyncpg.connect(self.server_dsn, timeout=10)
            try:
                return bool(
                    await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", self.name)
                )
            finally:
                await connection.close()

        return run_sync(query)


async def _execute(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def find_postgres_binary(name: str) -> Path:
    """Debian keeps initdb/pg_ctl out of PATH, under /usr/lib/postgresql/<major>/bin."""
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    versioned = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0,
        reverse=True,
    )
    if versioned:
        return Path(versioned[0])
    raise InfrastructureError(f"PostgreSQL: '{name}' not found on PATH nor in /usr/lib/postgresql/*/bin")


class PrivatePostgresCluster(StartStop):
    """A cluster of our own under `base_dir`, on a free loopback port, socket in `base_dir`.

    PostgreSQL refuses to run as root, so as root the directory is handed to the `postgres`
    OS user and the server runs as that user; `base_dir` and its parents must be reachable
    by it (a directory under /tmp is; pytest's tmp_path, 0700 root, is not).
    `durable=False` turns fsync off: a test cluster does not outlive a power cut anyway.
    """

    def __init__(self, base_dir: str | Path, *, port: int | None = None, durable: bool = False) -> None:
        self.base_dir = Path(base_dir)
        self.data_dir = self.base_dir / "data"
        self.log_path = self.base_dir / "postgres.log"
        self.port = port
        self.durable = durable
        self._running = False

    @property
    def dsn(self) -> str:
        """DSN of the `postgres` maintenance database, for `PostgresDatabase(server_dsn=...)`."""
        if self.port is None:
            raise InfrastructureError("private PostgreSQL cluster has not been started yet")
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/postgres"

    def start(self) -> None:
        if self._running:
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        run_as = _server_os_user()
        if run_as is not None:
            os.chown(self.base_dir, run_as.pw_uid, run_as.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(run_as)
        elif self.port is None:
            self.port = self._configured_port()
        self._run(run_as, [find_postgres_binary("pg_ctl"), "-D", self.data_dir, "-l", self.log_path,
                           "-w", "-t", "60", "start"], "pg_ctl start")  # fmt: skip
        self._running = True

    def stop(self) -> None:
        if not self._running:
            return
        self._run(_server_os_user(), [find_postgres_binary("pg_ctl"), "-D", self.data_dir,
                                      "-m", "fast", "-w", "stop"], "pg_ctl stop")  # fmt: skip
        self._running = False

    def _initdb(self, run_as: pwd.struct_passwd | None) -> None:
        self._run(run_as, [find_postgres_binary("initdb"), "-D", self.data_dir, "-U", "postgres",
                           "-A", "trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"], "initdb")  # fmt: skip
        if self.port is None:
            (self.port,) = reserve_free_ports(1)
        settings = {
            "port": str(self.port),
            "listen_addresses": f"'{LOOPBACK}'",
            "unix_socket_directories": f"'{self.base_dir}'",
        }
        if not self.durable:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# vanthu_testing private cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _configured_port(self) -> int:
        lines = (self.data_dir / "postgresql.conf").read_text(encoding="utf-8").splitlines()
        ports = [line.split("=", 1)[1].strip() for line in lines if line.startswith("port = ")]
        if not ports:
            raise InfrastructureError(f"PostgreSQL: no port set in {self.data_dir}/postgresql.conf")
        return int(ports[-1])

    def _run(self, run_as: pwd.struct_passwd | None, argv: list[str | Path], what: str) -> None:
        result = subprocess.run(
            [os.fspath(a) for a in argv],
            capture_output=True,
            text=True,
            user=run_as.pw_uid if run_as else None,
            group=run_as.pw_gid if run_as else None,
            extra_groups=[] if run_as else None,
            cwd=self.base_dir,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
            timeout=120,
        )
        if result.returncode != 0:
            log = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
            hint = (
                f"\nThe '{run_as.pw_name}' OS user must be able to reach {self.base_dir} and its parents."
                if run_as
                else ""
            )
            raise InfrastructureError(
                f"PostgreSQL: {what} failed (exit {result.returncode}).{hint}\n"
                f"--- stderr ---\n{result.stderr}\n--- stdout ---\n{result.stdout}\n--- server log ---\n{log}"
            )


def _server_os_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError as exc:
        raise InfrastructureError(
            "PostgreSQL refuses to run as root and there is no 'postgres' OS user"
        ) from exc
