"""Which processes `vanthu up` runs, on which ports, with which environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from vanthu_cli.platform_state import DataDir, InstanceRecord, NatsRecord, PlatformState
from vanthu_cli.services import (
    SERVICES,
    Backends,
    BackendsError,
    InstancePlan,
    ReplicasError,
    S3Target,
    parse_replicas,
    plan_instances,
    service_env,
)


def test_parse_replicas() -> None:
    assert parse_replicas(None) == dict.fromkeys(SERVICES, 1)
    counts = parse_replicas("signing=2, interop=3,")
    assert counts["signing"] == 2 and counts["interop"] == 3 and counts["registry"] == 1
    for bad in ("signing", "printing=2", "signing=two", "signing=0", "signing=10"):
        with pytest.raises(ReplicasError):
            parse_replicas(bad)


def test_default_layout_and_replica_ports() -> None:
    plans = plan_instances(parse_replicas("signing=2,interop=2"), base_port=None, recorded_ports={})
    ports = {plan.instance: plan.port for plan in plans}
    assert ports == {
        "registry-1": 8101,
        "routing-1": 8102,
        "signing-1": 8103,
        "interop-1": 8104,
        "analytics-1": 8105,
        "signing-2": 8123,
        "interop-2": 8124,
    }
    # First replicas come first: they run the migrations before the others start.
    assert [plan.replica for plan in plans] == [1, 1, 1, 1, 1, 2, 2]


def test_recorded_ports_win_unless_a_base_port_is_given() -> None:
    recorded = {"registry-1": 9001, "signing-2": 9050}
    replicas = parse_replicas("signing=2")
    resumed = {p.instance: p.port for p in plan_instances(replicas, base_port=None, recorded_ports=recorded)}
    assert resumed["registry-1"] == 9001 and resumed["signing-2"] == 9050 and resumed["routing-1"] == 8102
    # 0 ("pick free ones") also resumes on the recorded ports, and uses free ports for the rest.
    free = [30001, 30002, 30003, 30004, 30005]
    picked = {
        p.instance: p.port
        for p in plan_instances(replicas, base_port=0, recorded_ports=recorded, free_ports=free)
    }
    assert picked["registry-1"] == 9001 and picked["signing-2"] == 9050
    assert {picked[name] for name in ("routing-1", "signing-1", "interop-1", "analytics-1")} <= set(free)
    explicit = {
        p.instance: p.port for p in plan_instances(replicas, base_port=20000, recorded_ports=recorded)
    }
    assert explicit["registry-1"] == 20000 and explicit["signing-2"] == 20022


def test_service_env(tmp_path: Path) -> None:
    data = DataDir.at(tmp_path / "var")
    common = {
        "data": data,
        "nats_url": "nats://127.0.0.1:14222",
        "jwt_public_key_file": data.keys / "jwt-public.pem",
        "jwt_private_key_file": data.keys / "jwt-private.pem",
        "base_env": {"PATH": "/usr/bin", "VANTHU_LOG_LEVEL": "DEBUG"},
    }
    env = service_env(InstancePlan("signing", 2, 8123), demo=True, **common)
    assert env["PATH"] == "/usr/bin" and env["VANTHU_LOG_LEVEL"] == "DEBUG"
    assert env["VANTHU_ENV"] == "development"
    assert env["VANTHU_NATS_URL"] == "nats://127.0.0.1:14222"
    assert env["VANTHU_SIGNING_PORT"] == "8123"
    assert env["VANTHU_SIGNING_INSTANCE"] == "signing-2"
    assert env["VANTHU_SIGNING_PUBLIC_URL"] == "http://127.0.0.1:8123"
    assert env["VANTHU_SIGNING_DATABASE_URL"] == f"sqlite+aiosqlite:///{tmp_path}/var/db/signing.db"
    assert env["VANTHU_SIGNING_OBJECT_STORE"] == "local"
    assert env["VANTHU_SIGNING_OBJECT_STORE_DIR"] == str(tmp_path / "var" / "objects")
    assert env["VANTHU_JWT_PUBLIC_KEY_FILE"] == str(data.keys / "jwt-public.pem")
    assert "VANTHU_REGISTRY_JWT_PRIVATE_KEY_FILE" not in env  # only the registry issues tokens

    registry = service_env(InstancePlan("registry", 1, 8101), demo=True, **common)
    assert registry["VANTHU_REGISTRY_JWT_PRIVATE_KEY_FILE"] == str(data.keys / "jwt-private.pem")
    assert registry["VANTHU_REGISTRY_SEED_DEMO"] == "true"
    assert (
        service_env(InstancePlan("registry", 1, 8101), demo=False, **common)["VANTHU_REGISTRY_SEED_DEMO"]
        == "false"
    )


def test_service_env_on_external_postgres_s3_and_span_files(tmp_path: Path) -> None:
    data = DataDir.at(tmp_path / "var")
    backends = Backends(
        postgres_dsn="postgresql://vanthu:pw@db.example:5433/postgres?sslmode=disable",
        database_prefix="tinh_h98",
        s3=S3Target("s3.example:9000", "AK", "SK", bucket="vanban", secure=True),
        trace_dir=tmp_path / "spans",
        service_extra={"interop": {"VANTHU_INTEROP_AXIS_ENABLED": "true"}},
    )
    env = service_env(
        InstancePlan("interop", 2, 8124),
        data=data,
        nats_url="nats://127.0.0.1:14222",
        jwt_public_key_file=data.keys / "jwt-public.pem",
        jwt_private_key_file=data.keys / "jwt-private.pem",
        demo=True,
        base_env={},
        backends=backends,
    )
    assert env["VANTHU_INTEROP_DATABASE_URL"] == (
        "postgresql+asyncpg://vanthu:pw@db.example:5433/tinh_h98_interop?sslmode=disable"
    )
    assert env["VANTHU_INTEROP_OBJECT_STORE"] == "s3"
    assert env["VANTHU_INTEROP_S3_ENDPOINT"] == "s3.example:9000"
    assert (env["VANTHU_INTEROP_S3_ACCESS_KEY"], env["VANTHU_INTEROP_S3_SECRET_KEY"]) == ("AK", "SK")
    assert env["VANTHU_INTEROP_S3_BUCKET"] == "vanban" and env["VANTHU_INTEROP_S3_SECURE"] == "true"
    assert env["VANTHU_INTEROP_OTEL_EXPORTER"] == f"jsonl:{tmp_path / 'spans' / 'interop-2.jsonl'}"
    assert env["VANTHU_INTEROP_AXIS_ENABLED"] == "true"
    with pytest.raises(BackendsError):
        Backends(database_prefix="Tỉnh-H98")
    with pytest.raises(BackendsError):
        Backends(postgres_dsn="mysql://db/x")


def test_platform_state_round_trip_and_stop(tmp_path: Path) -> None:
    data = DataDir.at(tmp_path)
    data.create()
    assert PlatformState.load(data) is None
    state = PlatformState(data_dir=str(tmp_path))
    state.mark_started(4242)
    state.nats = NatsRecord(port=14222, url="nats://127.0.0.1:14222", pid=77, store_dir="s", log="l")
    state.instances = [
        InstanceRecord(
            service="registry",
            instance="registry-1",
            replica=1,
            port=8101,
            url="http://127.0.0.1:8101",
            pid=78,
            log="x",
        )
    ]
    state.save(data)
    loaded = PlatformState.load(data)
    assert loaded == state
    assert loaded is not None and loaded.instances[0].docs_url == "http://127.0.0.1:8101/docs"

    loaded.mark_stopped()
    loaded.save(data)
    stopped = PlatformState.load(data)
    assert stopped is not None
    assert stopped.launcher_pid is None and stopped.nats is not None and stopped.nats.pid is None
    assert stopped.ports_by_instance() == {"registry-1": 8101}
    assert stopped.instances[0].pid is None
    assert not list(tmp_path.glob(".platform-*"))  # the atomic write left no temporary file
