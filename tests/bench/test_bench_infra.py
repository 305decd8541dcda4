"""bench_infrastructure(): a benchmark's servers are up inside the block and gone after it, however it ends."""

from __future__ import annotations

import socket

import pytest

from vanthu_bench.infra import PG_DSN_ENV, bench_infrastructure
from vanthu_cli.processes import pid_alive
from vanthu_testing.procs import InfrastructureError

pytestmark = [pytest.mark.nats, pytest.mark.postgres, pytest.mark.slow]


def _answers(host_port: str) -> bool:
    host, port = host_port.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def test_every_server_asked_for_runs_inside_and_is_stopped_after(
    monkeypatch: pytest.MonkeyPatch, postgres_server_dsn: str
) -> None:
    monkeypatch.setenv(PG_DSN_ENV, postgres_server_dsn)
    with bench_infrastructure("infra-test", nats=True, postgres=2, s3=True) as infra:
        nats_pid, nats_url = infra.nats.pid, infra.nats.url
        assert nats_pid and pid_alive(nats_pid, "nats-server")
        assert _answers(nats_url.removeprefix("nats://"))
        first, second = infra.databases
        assert first is infra.pg and first.name != second.name
        assert first.name.startswith("vanthu_bench_infra-test_")
        assert first.exists() and second.exists()
        s3_endpoint = infra.s3.endpoint
        assert _answers(s3_endpoint)
        assert infra.s3.client().list_buckets() == []
        tmp = infra.tmp
        assert tmp.is_dir() and tmp.name.startswith("vanthu-bench-infra-test-")
    assert not pid_alive(nats_pid)
    assert not _answers(s3_endpoint)
    assert not first.exists() and not second.exists()
    assert not tmp.exists()


def test_servers_are_stopped_when_the_benchmark_fails(
    monkeypatch: pytest.MonkeyPatch, postgres_server_dsn: str
) -> None:
    monkeypatch.setenv(PG_DSN_ENV, postgres_server_dsn)
    with pytest.raises(RuntimeError, match="benchmark broke"):
        with bench_infrastructure("infra-test", nats=True, postgres=1) as infra:
            nats_pid, database, tmp = infra.nats.pid, infra.pg, infra.tmp
            with pytest.raises(RuntimeError, match="no S3 server"):
                infra.s3  # noqa: B018  (not asked for: a clear error, not None)
            raise RuntimeError("benchmark broke")
    assert nats_pid and not pid_alive(nats_pid)
    assert not database.exists()
    assert not tmp.exists()


def test_a_server_that_fails_to_start_stops_those_started_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv(PG_DSN_ENV, f"postgresql://postgres@127.0.0.1:{closed}/postgres")
    started: list[int] = []
    import vanthu_testing.nats_server as nats_module

    original_start = nats_module.NatsServer.start

    def start_and_note(self: nats_module.NatsServer) -> None:
        original_start(self)
        assert self.pid is not None
        started.append(self.pid)

    monkeypatch.setattr(nats_module.NatsServer, "start", start_and_note)
    with pytest.raises(InfrastructureError, match="cannot create database"):
        with bench_infrastructure("infra-test", nats=True, postgres=1):
            pytest.fail("the block must not run without its database")
    [nats_pid] = started
    assert not pid_alive(nats_pid)
