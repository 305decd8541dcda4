"""The local servers a benchmark runs against, started in one place and always stopped.

Every benchmark needs some of: a scratch directory, nats-server (JetStream), throw-away
PostgreSQL databases, a SeaweedFS S3 server. `bench_infrastructure` starts what is asked for
and stops it in reverse order however the benchmark ends, including when a later server fails
to start (an ExitStack over the `vanthu_testing` context managers).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vanthu_testing.nats_server import NatsServer
    from vanthu_testing.postgres import PostgresDatabase
    from vanthu_testing.seaweed import SeaweedS3

# The same variable the test suite reads: the PostgreSQL server the databases are created on.
PG_DSN_ENV = "VANTHU_TEST_PG_DSN"
KEEP_ENV = "VANTHU_BENCH_KEEP"
log = logging.getLogger("vanthu.bench")


@dataclass(frozen=True)
class BenchInfrastructure:
    tmp: Path
    nats_server: NatsServer | None
    databases: tuple[PostgresDatabase, ...]
    s3_server: SeaweedS3 | None

    @property
    def nats(self) -> NatsServer:
        if self.nats_server is None:
            raise RuntimeError("this benchmark asked for no nats-server (nats=False)")
        return self.nats_server

    @property
    def pg(self) -> PostgresDatabase:
        """The first (often the only) database."""
        if not self.databases:
            raise RuntimeError("this benchmark asked for no PostgreSQL database (postgres=0)")
        return self.databases[0]

    @property
    def s3(self) -> SeaweedS3:
        if self.s3_server is None:
            raise RuntimeError("this benchmark asked for no S3 server (s3=False)")
        return self.s3_server


@contextlib.contextmanager
def bench_infrastructure(
    name: str, *, nats: bool = True, postgres: int = 1, s3: bool = False
) -> Iterator[BenchInfrastructure]:
    """A scratch directory `vanthu-bench-<name>-…` plus the servers asked for, torn down on exit.

    `postgres` is how many separate databases (e.g. one for the service, one for the floor).
    With VANTHU_BENCH_KEEP=1 the directory (workers' logs, the servers' data) is left for a look.
    """
    from vanthu_testing.nats_server import NatsServer
    from vanthu_testing.postgres import DEFAULT_SERVER_DSN, PostgresDatabase
    from vanthu_testing.seaweed import SeaweedS3

    server_dsn = os.environ.get(PG_DSN_ENV) or DEFAULT_SERVER_DSN
    with contextlib.ExitStack() as stack:
        if os.environ.get(KEEP_ENV) == "1":
            tmp = Path(tempfile.mkdtemp(prefix=f"vanthu-bench-{name}-"))
            log.warning("keeping the benchmark's directory %s (%s=1)", tmp, KEEP_ENV)
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"vanthu-bench-{name}-")))
        yield BenchInfrastructure(
            tmp=tmp,
            nats_server=stack.enter_context(NatsServer(tmp / "nats")) if nats else None,
            databases=tuple(
                stack.enter_context(PostgresDatabase(server_dsn, name_prefix=f"vanthu_bench_{name}"))
                for _ in range(postgres)
            ),
            s3_server=stack.enter_context(SeaweedS3(tmp / "s3")) if s3 else None,
        )
