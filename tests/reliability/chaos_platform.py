"""The whole platform as an operator runs it, on production-like infrastructure, for the chaos scenario.

`vanthu up` starts nats-server, provisions, and runs the five services as processes, each on its
own PostgreSQL database (`--postgres-dsn`), sharing one bucket on a SeaweedFS S3 server
(`--s3-endpoint`), with interop connected to the axis simulator (`--axis-url`), which routes the
province H99 to this platform and H98 to a second system the load driver plays. `vanthu up`
restarts a child that exits (with back-off) and brings nats-server back on the same port and
store; the chaos monkey kills them by the pids `vanthu up` records in `platform.json`, and stops
and starts the S3 server, which this harness owns.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from vanthu_cli.processes import pid_alive
from vanthu_cli.services import SERVICES
from vanthu_interop.bench.platforms import A_SECRET, A_SYSTEM, start_simulator, stop_process
from vanthu_testing.postgres import run_sync, with_database
from vanthu_testing.seaweed import SeaweedS3

S3_BUCKET = "vanthu-chaos"
READY_WITHIN_S = 180.0

# Settings of the run, passed through `vanthu up` to every service (it forwards VANTHU_*):
# documents arriving from interop are registered at once (no văn thư in the loop), no reminder
# sweeps or partner syncs in the middle of the measurement, and quieter logs on a busy machine.
SERVICE_ENV = {
    "VANTHU_REGISTRY_AUTO_REGISTER_ELECTRONIC": "true",
    "VANTHU_ROUTING_REMINDER_INTERVAL_S": "0",
    "VANTHU_INTEROP_PARTNER_SYNC_INTERVAL_S": "0",
    "VANTHU_LOG_LEVEL": "WARNING",
}


@dataclass
class ChaosPlatform:
    root: Path
    pg_server_dsn: str
    database_prefix: str = field(default_factory=lambda: f"chaos_{uuid.uuid4().hex[:10]}")
    s3: SeaweedS3 = field(init=False)
    sim_url: str = ""
    sim_dir: Path = field(init=False)
    data_dir: Path = field(init=False)
    output: Path = field(init=False)
    _sim: Any = None
    _up: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.sim_dir = self.root / "axis-sim"
        self.data_dir = self.root / "var"
        self.output = self.root / "vanthu-up.log"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ChaosPlatform:
        self.s3 = SeaweedS3(self.root / "s3")
        self.s3.start()
        self._sim, self.sim_url = start_simulator(self.sim_dir)
        argv = [
            sys.executable, "-m", "vanthu_cli", "up",
            "--data-dir", str(self.data_dir), "--nats-port", "0", "--base-port", "0",
            "--postgres-dsn", self.pg_server_dsn, "--database-prefix", self.database_prefix,
            "--s3-endpoint", self.s3.endpoint, "--s3-bucket", S3_BUCKET,
            "--axis-url", self.sim_url, "--axis-system-id", A_SYSTEM,
            "--no-demo-signing",
        ]  # fmt: skip
        env = {
            **os.environ,
            **SERVICE_ENV,
            "VANTHU_UP_S3_ACCESS_KEY": self.s3.access_key,
            "VANTHU_UP_S3_SECRET_KEY": self.s3.secret_key,
            "VANTHU_UP_AXIS_SECRET": A_SECRET,
        }
        with self.output.open("ab") as sink:
            self._up = subprocess.Popen(
                argv, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_ready()
        return self

    def stop(self) -> None:
        """Everything started, in reverse; safe after a start that failed half-way."""
        if self._up is not None and self._up.poll() is None:
            self._up.send_signal(signal.SIGINT)  # Ctrl-C: the services, then NATS
            try:
                self._up.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._up.kill()
                self._up.wait()
        with contextlib.suppress(Exception):
            for pid in self._recorded_pids().values():
                if pid_alive(pid):
                    os.kill(pid, signal.SIGKILL)
        if self._sim is not None:
            with contextlib.suppress(Exception):
                stop_process(self._sim)
        with contextlib.suppress(Exception):
            self.s3.stop()
        with contextlib.suppress(Exception):
            run_sync(self._drop_databases)

    async def _drop_databases(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.pg_server_dsn, timeout=10)
        try:
            for service in SERVICES:
                await connection.execute(
                    f'DROP DATABASE IF EXISTS "{self.database_prefix}_{service}" WITH (FORCE)'
                )
        finally:
            await connection.close()

    # -- what vanthu up recorded ---------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return json.loads((self.data_dir / "platform.json").read_text(encoding="utf-8"))

    def _recorded_pids(self) -> dict[str, int]:
        state = self.state()
        pids = {record["service"]: record["pid"] for record in state["instances"] if record["pid"]}
        if state.get("nats") and state["nats"].get("pid"):
            pids["nats-server"] = state["nats"]["pid"]
        return pids

    def url(self, service: str) -> str:
        return next(r["url"] for r in self.state()["instances"] if r["service"] == service)

    @property
    def nats_url(self) -> str:
        return str(self.state()["nats"]["url"])

    def database_dsn(self, service: str) -> str:
        return with_database(self.pg_server_dsn, f"{self.database_prefix}_{service}")

    def launcher_output(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def exits(self) -> list[tuple[str, int]]:
        """Every child exit `vanthu up` reported: (instance, exit code); -9 is a kill -9."""
        return [
            (name, int(code))
            for name, code in re.findall(r"(\S+) exited with code (-?\d+)", self.launcher_output())
        ]

    # -- health ------------------------------------------------------------------------------

    def wait_ready(self, timeout: float = READY_WITHIN_S) -> float:
        """Seconds until every service answers /readyz (its database, NATS and object store)."""
        started = time.monotonic()
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self._up is not None and self._up.poll() is not None:
                    raise AssertionError(
                        f"vanthu up exited with {self._up.returncode}:\n{self.launcher_output()[-6000:]}"
                    )
                with contextlib.suppress(OSError, ValueError, KeyError, StopIteration, httpx.HTTPError):
                    urls = [self.url(service) for service in SERVICES]
                    if all(client.get(f"{url}/readyz").status_code == 200 for url in urls):
                        return time.monotonic() - started
                if time.monotonic() - started > timeout:
                    raise AssertionError(
                        f"not ready after {timeout:.0f} s:\n{self.launcher_output()[-6000:]}"
                    )
                time.sleep(0.25)

    # -- chaos -------------------------------------------------------------------------------

    def kill(self, name: str) -> int:
        """`kill -9` a service (by service name) or nats-server, by the pid vanthu up recorded."""
        pid = self._recorded_pids().get(name)
        expect = "nats-server" if name == "nats-server" else f"vanthu_{name}"
        assert pid is not None and pid_alive(pid, expect), f"{name} is not running (pid {pid})"
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_restarted(self, name: str, old_pid: int, timeout: float = READY_WITHIN_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                pid = self._recorded_pids().get(name)
                if pid and pid != old_pid:
                    return
            time.sleep(0.2)
        raise AssertionError(f"vanthu up did not restart {name} within {timeout:.0f} s")

    def stop_s3(self) -> None:
        self.s3.stop()

    def start_s3(self) -> None:
        self.s3.start()  # same ports, same data
