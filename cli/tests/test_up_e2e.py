"""`vanthu up` as an operator runs it: start, status, streams on the server, Ctrl-C, resume on the same data."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vanthu_cli.processes import pid_alive

pytestmark = [pytest.mark.e2e, pytest.mark.nats, pytest.mark.slow]

SERVICES = ("registry", "routing", "signing", "interop", "analytics")
# `vanthu up` itself gives each wave of services 60 s. The test allows for the launcher's own
# start and for a machine shared with other test runs (2 cores): slack, not the product's promise.
HEALTHY_WITHIN_S = 120.0


def _vanthu(*args: str) -> list[str]:
    return [sys.executable, "-m", "vanthu_cli", *args]


class UpProcess:
    """One `vanthu up` run in the background, its output in a file."""

    def __init__(self, data_dir: Path, output: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.output = output
        self._out = open(output, "ab")  # closed by interrupt() or kill()
        self.popen = subprocess.Popen(
            _vanthu(
                "up", "--data-dir", str(data_dir), "--no-demo", "--nats-port", "0", "--base-port", "0", *extra
            ),
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def wait_until_healthy(self) -> dict[str, Any]:
        deadline = time.monotonic() + HEALTHY_WITHIN_S
        last = ""
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                pytest.fail(
                    f"vanthu up exited with {self.popen.returncode} before being healthy:\n{self.text()}"
                )
            status = subprocess.run(
                _vanthu("status", "--data-dir", str(self.data_dir), "--json"), capture_output=True, text=True
            )
            last = status.stdout + status.stderr
            if status.returncode == 0:
                report = json.loads(status.stdout)
                assert report["healthy"] is True
                return report
            time.sleep(0.5)
        pytest.fail(
            f"not healthy within {HEALTHY_WITHIN_S:.0f} s; last status:\n{last}\nvanthu up said:\n{self.text()}"
        )

    def interrupt(self, timeout: float = 40.0) -> int:
        self.popen.send_signal(signal.SIGINT)
        try:
            return self.popen.wait(timeout=timeout)
        finally:
            self._out.close()

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        self._out.close()


def _state(data_dir: Path) -> dict[str, Any]:
    return json.loads((data_dir / "platform.json").read_text(encoding="utf-8"))


def _pids(state: dict[str, Any]) -> dict[str, int]:
    pids = {record["instance"]: record["pid"] for record in state["instances"]}
    pids["nats-server"] = state["nats"]["pid"]
    return pids


def _ports(state: dict[str, Any]) -> dict[str, int]:
    ports = {record["instance"]: record["port"] for record in state["instances"]}
    ports["nats"] = state["nats"]["port"]
    return ports


async def _streams_and_consumers(url: str) -> dict[str, Any]:
    import nats

    from vanthu_contracts.streams import STREAMS, consumers

    nc = await nats.connect(url, connect_timeout=5)
    try:
        js = nc.jetstream()
        found: dict[str, Any] = {}
        for spec in STREAMS:
            info = await js.stream_info(spec.name)
            assert sorted(info.config.subjects or []) == sorted(spec.subjects)
            found[spec.name] = info.created
        for cspec in consumers():
            cinfo = await js.consumer_info(cspec.stream, cspec.durable)
            assert cinfo.config.durable_name == cspec.durable
            found[f"{cspec.stream}/{cspec.durable}"] = cinfo.created
        return found
    finally:
        await nc.close()


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.decode().split("=", 1) for item in raw.split(b"\0") if b"=" in item)


def _wait_for_new_pid(data_dir: Path, instance: str, old_pid: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = _pids(_state(data_dir)).get(instance)
        if pid and pid != old_pid:
            return pid
        time.sleep(0.2)
    pytest.fail(f"{instance} was not restarted within {timeout:.0f} s")


@pytest.fixture
def cleanup() -> Iterator[list[UpProcess]]:
    """Whatever a failed assertion leaves running is killed, children included."""
    runs: list[UpProcess] = []
    yield runs
    for run in runs:
        run.kill()
        state_file = run.data_dir / "platform.json"
        if state_file.exists():
            for pid in _pids(_state(run.data_dir)).values():
                if pid_alive(pid):
                    os.kill(pid, signal.SIGKILL)


def test_up_status_interrupt_and_resume(tmp_path: Path, cleanup: list[UpProcess]) -> None:
    data_dir = tmp_path / "var"

    # --- first run: a fresh machine, the data directory is the only state
    first = UpProcess(data_dir, tmp_path / "up-1.log")
    cleanup.append(first)
    report = first.wait_until_healthy()
    assert {s["instance"] for s in report["services"]} == {f"{name}-1" for name in SERVICES}
    assert report["nats"]["status"] == "healthy"
    for entry in ("nats", "db", "objects", "keys", "logs"):
        assert (data_dir / entry).is_dir(), entry
    assert (data_dir / "keys" / "jwt-public.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")

    state = _state(data_dir)
    assert state["nats"]["port"] != 4222
    nats_url = state["nats"]["url"]
    created = asyncio.run(_streams_and_consumers(nats_url))
    assert set(created) >= {"VANTHU_EVENTS", "VANTHU_JOBS_SIGNING", "VANTHU_JOBS_INTEROP", "VANTHU_DLQ"}
    pids = _pids(state)
    for service in SERVICES:
        assert pid_alive(pids[f"{service}-1"], f"vanthu_{service}")
    assert pid_alive(pids["nats-server"], "nats-server")
    text_status = subprocess.run(
        _vanthu("status", "--data-dir", str(data_dir)), capture_output=True, text=True
    )
    assert text_status.returncode == 0, text_status.stdout + text_status.stderr
    lines = text_status.stdout.splitlines()
    assert len(lines) == 1 + len(SERVICES)
    for record in state["instances"]:
        assert any(
            record["instance"] in line and record["url"] in line and line.endswith("healthy")
            for line in lines
        )

    key_pair = (data_dir / "keys" / "jwt-private.pem").read_bytes()
    ports = _ports(state)

    # --- Ctrl-C: every child is stopped, the command exits 0
    assert first.interrupt() == 0, first.text()
    for name, pid in pids.items():
        assert not pid_alive(pid), f"{name} (pid {pid}) survived the launcher"
    stopped = _state(data_dir)
    assert stopped["launcher_pid"] is None
    down = subprocess.run(_vanthu("status", "--data-dir", str(data_dir)), capture_output=True, text=True)
    assert down.returncode == 1
    assert "down" in down.stdout and "healthy" not in down.stdout

    # --- second run on the same data directory: same ports, same keys, same streams
    second = UpProcess(data_dir, tmp_path / "up-2.log", "--replicas", "signing=2")
    cleanup.append(second)
    second.wait_until_healthy()
    resumed = _state(data_dir)
    resumed_ports = _ports(resumed)
    assert resumed_ports.pop("signing-2") not in ports.values()
    assert resumed_ports == ports
    assert (data_dir / "keys" / "jwt-private.pem").read_bytes() == key_pair
    # Creation times unchanged: the JetStream store was reused, not provisioned afresh.
    assert asyncio.run(_streams_and_consumers(nats_url)) == created
    assert "0 created" in second.text()

    # A second launcher for the same data directory refuses to start.
    again = subprocess.run(
        _vanthu("up", "--data-dir", str(data_dir), "--no-demo"), capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 1
    assert "already running" in again.stdout + again.stderr
    assert _state(data_dir)["launcher_pid"] == second.popen.pid  # the refused run did not touch the record

    # The extra signing worker shares the database and NATS, under its own instance name.
    replica_env = _environ(_pids(resumed)["signing-2"])
    first_env = _environ(_pids(resumed)["signing-1"])
    assert replica_env["VANTHU_SIGNING_INSTANCE"] == "signing-2"
    assert replica_env["VANTHU_SIGNING_DATABASE_URL"] == first_env["VANTHU_SIGNING_DATABASE_URL"]
    assert replica_env["VANTHU_NATS_URL"] == first_env["VANTHU_NATS_URL"] == nats_url

    # A crashed service is reported and restarted.
    crashed = _pids(resumed)["routing-1"]
    os.kill(crashed, signal.SIGKILL)
    restarted = _wait_for_new_pid(data_dir, "routing-1", crashed)
    assert pid_alive(restarted, "vanthu_routing")
    second.wait_until_healthy()
    assert "routing-1 exited with code -9" in second.text()

    resumed_pids = _pids(_state(data_dir))
    assert second.interrupt() == 0, second.text()
    for name, pid in resumed_pids.items():
        assert not pid_alive(pid), f"{name} (pid {pid}) survived the launcher"


def test_a_service_failing_at_start_up_is_reported_with_its_log(
    tmp_path: Path, cleanup: list[UpProcess]
) -> None:
    data_dir = tmp_path / "var"
    # The launcher passes the operator's VANTHU_* variables through; this one is invalid for routing.
    env = {**os.environ, "VANTHU_ROUTING_DATABASE_POOL_SIZE": "không-phải-số"}
    run = UpProcess(data_dir, tmp_path / "up.log", env=env)
    cleanup.append(run)
    code = run.popen.wait(timeout=90)
    output = run.text()
    assert code == 1, output
    assert "routing-1 exited with code 1 while starting" in output
    assert "database_pool_size" in output  # the tail of routing's own log explains it
    assert str(data_dir / "logs" / "routing-1.log") in output
    state = _state(data_dir)
    assert state["launcher_pid"] is None
    for name, pid in _pids(state).items():
        assert pid is None, name


def test_ports_in_use_are_refused_before_any_service_starts(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        # routing is the second service, so it gets base + 1.
        args = (
            "up",
            "--data-dir",
            str(data_dir),
            "--no-demo",
            "--nats-port",
            "0",
            "--base-port",
            str(taken - 1),
        )
        run = subprocess.run(_vanthu(*args), capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"routing-1:{taken}" in run.stdout and "already in use" in run.stdout
    assert not (data_dir / "logs" / "routing-1.log").exists()
    assert _state(data_dir)["nats"]["pid"] is None  # NATS, started first, was stopped again
