"""The five services of the embedded platform: which processes to run, on which ports, with which env."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vanthu_cli.platform_state import DataDir

# Order matters: it fixes the default ports (8101 … 8105) and the start-up table.
SERVICES: tuple[str, ...] = ("registry", "routing", "signing", "interop", "analytics")
DEFAULT_BASE_PORT = 8101
# Not 4222: a system NATS (possibly too old for our streams) may already listen there.
DEFAULT_NATS_PORT = 14222
# Replica i (i >= 2) of a service listens on its service port + REPLICA_PORT_STRIDE * i.
REPLICA_PORT_STRIDE = 10
LOOPBACK = "127.0.0.1"


class ReplicasError(ValueError):
    pass


def parse_replicas(text: str | None) -> dict[str, int]:
    """`"signing=2,interop=2"` → `{"signing": 2, "interop": 2}`; every other service runs once."""
    counts = dict.fromkeys(SERVICES, 1)
    if not text:
        return counts
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in SERVICES:
            raise ReplicasError(f"'{item}': expected SERVICE=COUNT with SERVICE one of {', '.join(SERVICES)}")
        try:
            count = int(value)
        except ValueError:
            raise ReplicasError(f"'{item}': COUNT must be a whole number") from None
        if not 1 <= count <= 9:
            # Ten or more would run into the next replica slot's ports.
            raise ReplicasError(f"'{item}': COUNT must be between 1 and 9")
        counts[name] = count
    return counts


@dataclass(frozen=True)
class InstancePlan:
    service: str
    replica: int  # 1-based
    port: int

    @property
    def instance(self) -> str:
        return f"{self.service}-{self.replica}"

    @property
    def module(self) -> str:
        return f"vanthu_{self.service}"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


def default_port(service: str, replica: int, base_port: int) -> int:
    port = base_port + SERVICES.index(service)
    return port if replica == 1 else port + REPLICA_PORT_STRIDE * replica


def plan_instances(
    replicas: Mapping[str, int],
    *,
    base_port: int | None,
    recorded_ports: Mapping[str, int],
    free_ports: list[int] | None = None,
) -> list[InstancePlan]:
    """Every process to run, first replicas first.

    Port precedence: an explicit non-zero `base_port` wins; otherwise the port recorded
    by an earlier run (resume); otherwise the default layout from 8101, or — with
    `base_port == 0` — the next of `free_ports`.
    """
    spare = list(free_ports or [])
    plans: list[InstancePlan] = []
    for replica in range(1, max(replicas.values(), default=1) + 1):
        for service in SERVICES:
            if replica > replicas.get(service, 1):
                continue
            instance = f"{service}-{replica}"
            if base_port:
                port = default_port(service, replica, base_port)
            elif instance in recorded_ports:
                port = recorded_ports[instance]
            elif base_port == 0:
                if not spare:
                    raise ValueError("not enough free ports were reserved")
                port = spare.pop(0)
            else:
                port = default_port(service, replica, DEFAULT_BASE_PORT)
            plans.append(InstancePlan(service, replica, port))
    return plans


class BackendsError(ValueError):
    pass


DATABASE_PREFIX_RE = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class S3Target:
    """An S3-compatible server every service shares (one bucket, content-addressed keys)."""

    endpoint: str  # host:port, as the minio client wants it
    access_key: str
    secret_key: str
    bucket: str = "vanthu"
    secure: bool = False
    region: str = "us-east-1"


@dataclass(frozen=True)
class Backends:
    """Where rows, files and spans go: embedded (SQLite, a directory, no spans) unless told otherwise."""

    postgres_dsn: str | None = None  # a server DSN; each service gets a database of its own on it
    database_prefix: str = "vanthu"  # database names: <prefix>_registry, <prefix>_routing, …
    s3: S3Target | None = None
    trace_dir: Path | None = None  # one JSON-lines span file per process
    # Extra env per service (the axis connection for interop, the HSM for signing …).
    service_extra: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not DATABASE_PREFIX_RE.match(self.database_prefix):
            raise BackendsError(
                f"'{self.database_prefix}': a database prefix is lower-case letters, digits and _ "
                "(starting with a letter or _), at most 41 characters"
            )
        if self.postgres_dsn is not None:
            scheme = self.postgres_dsn.partition("://")[0]
            if scheme not in {"postgres", "postgresql"}:
                raise BackendsError(
                    f"'{self.postgres_dsn}': expected a postgresql://user[:password]@host[:port]/database DSN"
                )

    def database_name(self, service: str) -> str:
        return f"{self.database_prefix}_{service}"

    def database_url(self, service: str, data: DataDir) -> str:
        if self.postgres_dsn is None:
            return data.database_url(service)
        from vanthu_testing.postgres import to_sqlalchemy_async_url, with_database

        return to_sqlalchemy_async_url(with_database(self.postgres_dsn, self.database_name(service)))

    def trace_file(self, instance: str) -> Path | None:
        return None if self.trace_dir is None else self.trace_dir / f"{instance}.jsonl"


def service_env(
    plan: InstancePlan,
    *,
    data: DataDir,
    nats_url: str,
    jwt_public_key_file: Path,
    jwt_private_key_file: Path,
    demo: bool,
    base_env: Mapping[str, str] | None = None,
    backends: Backends | None = None,
) -> dict[str, str]:
    """The environment of one service process: the parent's, plus the platform's settings."""
    backends = backends or Backends()
    prefix = f"VANTHU_{plan.service.upper()}_"
    env = dict(os.environ if base_env is None else base_env)
    env.update(
        {
            "PYTHONUNBUFFERED": "1",  # the log file must be current when we quote it on a failure
            "VANTHU_ENV": "development",
            "VANTHU_NATS_URL": nats_url,
            "VANTHU_JWT_PUBLIC_KEY_FILE": str(jwt_public_key_file),
            f"{prefix}HOST": LOOPBACK,
            f"{prefix}PORT": str(plan.port),
            f"{prefix}PUBLIC_URL": plan.url,
            f"{prefix}INSTANCE": plan.instance,
            f"{prefix}DATABASE_URL": backends.database_url(plan.service, data),
            f"{prefix}OBJECT_STORE": "local",
            f"{prefix}OBJECT_STORE_DIR": str(data.object_dir(plan.service)),
        }
    )
    if backends.s3 is not None:
        s3 = backends.s3
        env.update(
            {
                f"{prefix}OBJECT_STORE": "s3",
                f"{prefix}S3_ENDPOINT": s3.endpoint,
                f"{prefix}S3_ACCESS_KEY": s3.access_key,
                f"{prefix}S3_SECRET_KEY": s3.secret_key,
                f"{prefix}S3_BUCKET": s3.bucket,
                f"{prefix}S3_SECURE": "true" if s3.secure else "false",
                f"{prefix}S3_REGION": s3.region,
            }
        )
    trace_file = backends.trace_file(plan.instance)
    if trace_file is not None:
        env[f"{prefix}OTEL_EXPORTER"] = f"jsonl:{trace_file}"
    env.update(backends.service_extra.get(plan.service, {}))
    if plan.service == "registry":
        env["VANTHU_REGISTRY_JWT_PRIVATE_KEY_FILE"] = str(jwt_private_key_file)
        env["VANTHU_REGISTRY_SEED_DEMO"] = "true" if demo else "false"
    return env
