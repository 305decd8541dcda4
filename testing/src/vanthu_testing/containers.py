"""The same servers through testcontainers, for machines with a Docker engine.

Optional (`vanthu-testing[containers]`); imported lazily. Each container's port is bound to a
fixed free host port so that stopping and starting the container (chaos tests) keeps the
address clients hold; `stop()` keeps the container and its data, `remove()` deletes it.
"""

from __future__ import annotations

import abc
import importlib
import time
from typing import Any

from vanthu_testing._process import InfrastructureError, StartStop, reserve_free_ports
from vanthu_testing.nats_server import _jetstream_ready

NATS_IMAGE = "nats:2.10"
POSTGRES_IMAGE = "postgres:16"
# Docker Hub no longer serves MinIO images; this quay.io tag is a frozen snapshot.
MINIO_IMAGE = "quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z"


def _import_first(*modules: str) -> Any:
    for name in modules:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise InfrastructureError(
        f"testcontainers is not installed (none of {modules}); install vanthu-testing[containers]"
    )


def _wait(probe: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise InfrastructureError(f"container: timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


class _ContainerServer(StartStop):
    def __init__(self) -> None:
        self._container: Any = None

    @abc.abstractmethod
    def _create(self) -> Any: ...

    @abc.abstractmethod
    def _wait_ready(self) -> None: ...

    @property
    def host(self) -> str:
        return str(self._container.get_container_host_ip())

    def start(self) -> None:
        if self._container is None:
            container = self._create()
            try:
                container.start()
            except Exception as exc:
                raise InfrastructureError(f"{type(self).__name__}: container did not start: {exc}") from exc
            self._container = container
        else:
            self._container.get_wrapped_container().start()
        self._wait_ready()

    def stop(self) -> None:
        if self._container is not None:
            wrapped = self._container.get_wrapped_container()
            wrapped.reload()
            if wrapped.status == "running":
                wrapped.stop(timeout=10)

    def kill(self) -> None:
        if self._container is not None:
            self._container.get_wrapped_container().kill()

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        if self._container is not None:
            self._container.stop()
            self._container = None


class NatsContainerServer(_ContainerServer):
    def __init__(self, image: str = NATS_IMAGE) -> None:
        super().__init__()
        self.image = image
        (self.port,) = reserve_free_ports(1)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def _create(self) -> Any:
        module = _import_first("testcontainers.community.nats", "testcontainers.nats")
        return module.NatsContainer(self.image, jetstream=True).with_bind_ports(4222, self.port)

    def _wait_ready(self) -> None:
        _wait(lambda: _jetstream_ready(self.host, self.port), "nats-server with JetStream")


class PostgresContainerServer(_ContainerServer):
    def __init__(self, image: str = POSTGRES_IMAGE) -> None:
        super().__init__()
        self.image = image
        (self.port,) = reserve_free_ports(1)

    @property
    def dsn(self) -> str:
        """DSN of the `postgres` maintenance database, for `PostgresDatabase(server_dsn=...)`."""
        return str(self._container.get_connection_url(driver=None))

    def _create(self) -> Any:
        module = _import_first("testcontainers.community.postgres", "testcontainers.postgres")
        container = module.PostgresContainer(
            self.image, username="postgres", password="postgres", dbname="postgres", driver="asyncpg"
        )
        return container.with_bind_ports(5432, self.port)

    def _wait_ready(self) -> None:
        # testcontainers waits on the first start; a restarted container needs its own wait.
        _wait(lambda: _postgres_answers(self.dsn), "PostgreSQL")


def _postgres_answers(dsn: str) -> bool:
    import asyncpg

    from vanthu_testing.postgres import run_sync

    async def probe() -> None:
        connection = await asyncpg.connect(dsn, timeout=2)
        await connection.close()

    try:
        run_sync(probe)
    except (OSError, asyncpg.PostgresError):
        return False
    return True


class MinioContainerServer(_ContainerServer):
    region = "us-east-1"
    secure = False

    def __init__(
        self,
        image: str = MINIO_IMAGE,
        access_key: str = "vanthu-test",
        secret_key: str = "vanthu-test-secret",
    ) -> None:
        super().__init__()
        self.image = image
        self.access_key = access_key
        self.secret_key = secret_key
        (self.port,) = reserve_free_ports(1)

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    def client(self, *, secret_key: str | None = None) -> Any:
        from minio import Minio

        return Minio(
            endpoint=self.endpoint,
            access_key=self.access_key,
            secret_key=secret_key if secret_key is not None else self.secret_key,
            secure=False,
            region=self.region,
        )

    def _create(self) -> Any:
        module = _import_first("testcontainers.community.minio", "testcontainers.minio")
        container = module.MinioContainer(self.image, access_key=self.access_key, secret_key=self.secret_key)
        # Current MinIO reads the ROOT_* names; testcontainers still sets the old ones.
        container.with_env("MINIO_ROOT_USER", self.access_key).with_env(
            "MINIO_ROOT_PASSWORD", self.secret_key
        )
        return container.with_bind_ports(9000, self.port)

    def _wait_ready(self) -> None:
        def lists_buckets() -> bool:
            try:
                self.client().list_buckets()
            except Exception:  # not up yet
                return False
            return True

        _wait(lists_buckets, "the MinIO S3 API")
