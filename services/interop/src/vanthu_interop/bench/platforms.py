"""Two vanthu platforms and the axis simulator as real processes, for the exchange test and bench.

Platform A hosts 000.00.00.H99 and 000.00.12.H99, platform B hosts 000.00.00.H98. Each has its
own nats-server, SQLite database, object store and axis systemId/secret; the simulator (a test
double) routes between them and checks every request's HMAC.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

A_SYSTEM, A_SECRET = "00.99.W00", "YS1zeXN0ZW0tc2VjcmV0LWZvci10aGUtdGVzdC0wMDE="
B_SYSTEM, B_SECRET = "00.98.W00", "Yi1zeXN0ZW0tc2VjcmV0LWZvci10aGUtdGVzdC0wMDI="
A_PROVINCE, A_FINANCE = "000.00.00.H99", "000.00.12.H99"
B_PROVINCE = "000.00.00.H98"


@dataclass
class Side:
    name: str
    nats: Any
    process: subprocess.Popen[str]
    base_url: str
    objects: Path


@dataclass
class TwoPlatforms:
    root: Path
    public_key: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    database_urls: tuple[str, str] | None = None  # default: a SQLite file per platform
    sim_url: str = ""
    a: Side | None = None
    b: Side | None = None
    _sim: subprocess.Popen[str] | None = None

    def start(self) -> TwoPlatforms:
        from vanthu_testing._process import reserve_free_ports
        from vanthu_testing.nats_server import NatsServer

        a_port, b_port = reserve_free_ports(2)
        self._sim, self.sim_url = start_simulator(self.root / "sim", wait=False)
        sides = []
        for name, port, system, secret, agencies in (
            ("a", a_port, A_SYSTEM, A_SECRET,
             [{"code": A_PROVINCE, "name": "UBND tỉnh Hòa Bình Xanh"}, {"code": A_FINANCE, "name": "Sở Tài chính"}]),
            ("b", b_port, B_SYSTEM, B_SECRET, [{"code": B_PROVINCE, "name": "UBND tỉnh Sơn Lâm"}]),
        ):  # fmt: skip
            nats = NatsServer(self.root / f"nats-{name}")
            nats.start()
            provision_streams(nats.url)
            (self.root / name).mkdir(parents=True, exist_ok=True)
            env = {
                **os.environ,
                "VANTHU_NATS_URL": nats.url,
                "VANTHU_JWT_PUBLIC_KEY_FILE": str(self.public_key),
                "VANTHU_INTEROP_PORT": str(port),
                "VANTHU_INTEROP_DATABASE_URL": (
                    self.database_urls[0 if name == "a" else 1]
                    if self.database_urls
                    else f"sqlite+aiosqlite:///{self.root / name / 'interop.db'}"
                ),
                "VANTHU_INTEROP_OBJECT_STORE_DIR": str(self.root / name / "objects"),
                "VANTHU_INTEROP_AGENCIES": json.dumps(agencies),
                "VANTHU_INTEROP_AXIS_ENABLED": "true",
                "VANTHU_INTEROP_AXIS_ENDPOINT": self.sim_url,
                "VANTHU_INTEROP_AXIS_SYSTEM_ID": system,
                "VANTHU_INTEROP_AXIS_SECRET": secret,
                "VANTHU_INTEROP_AXIS_TIMEOUT_S": "2",
                "VANTHU_INTEROP_POLL_INTERVAL_S": "0.3",
                "VANTHU_INTEROP_SEND_BACKOFF_S": "[0.3, 0.5, 1, 1, 1, 1, 1]",
                "VANTHU_INTEROP_PARTNER_SYNC_INTERVAL_S": "0",
                # The outbox relay keeps its default poll (0.2 s): a commit in the process wakes it
                # at once, so polling faster only reads the outbox table for nothing.
                "VANTHU_INTEROP_LOG_LEVEL": "WARNING",
                **self.extra_env,
            }
            process = spawn([sys.executable, "-m", "vanthu_interop"], self.root / name / "interop.log", env)
            sides.append(Side(name, nats, process, f"http://127.0.0.1:{port}", self.root / name / "objects"))
        self.a, self.b = sides
        wait_http(f"{self.sim_url}/_sim/faults", 60, self._sim)
        for side in sides:
            wait_http(f"{side.base_url}/healthz", 90, side.process)
        return self

    @property
    def sim_pid(self) -> int:
        assert self._sim is not None
        return self._sim.pid

    def stop(self) -> None:
        for side in (self.a, self.b):
            if side is not None:
                stop_process(side.process)
                side.nats.stop()
        if self._sim is not None:
            stop_process(self._sim)

    def __enter__(self) -> TwoPlatforms:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_: object) -> None:
        self.stop()


def provision_streams(nats_url: str) -> None:
    """Streams and durables, before the interop process starts: its consumers then bind at once,
    where one that finds no durable waits 2 s before it looks again (which a benchmark would time)."""
    import nats as nats_client

    from vanthu_runtime.messaging.provision import provision
    from vanthu_testing.postgres import run_sync

    async def run() -> None:
        client = await nats_client.connect(nats_url)
        try:
            report = await provision(client.jetstream())
            if not report.ok:
                raise RuntimeError(f"provisioning {nats_url} failed: {report.errors}")
        finally:
            await client.close()

    run_sync(run)


def start_simulator(data_dir: Path, *, wait: bool = True) -> tuple[subprocess.Popen[str], str]:
    """The axis simulator with systems A (H99) and B (H98), as a process; returns it and its URL."""
    from vanthu_testing._process import reserve_free_ports

    [port] = reserve_free_ports(1)
    data_dir.mkdir(parents=True, exist_ok=True)
    process = spawn(
        [sys.executable, "-m", "vanthu_interop.simulator", "--port", str(port), "--data-dir", str(data_dir),
         "--system", f"{A_SYSTEM}={A_SECRET}@H99", "--system", f"{B_SYSTEM}={B_SECRET}@H98"],
        data_dir / "axis-sim.log",
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    if wait:
        wait_http(f"{url}/_sim/faults", 60, process)
    return process, url


def spawn(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start a process whose output goes to `log`: a pipe nobody reads would block it once full."""
    with log.open("w") as sink:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=sink, text=True)
    process.log_path = log  # type: ignore[attr-defined]
    return process


def wait_http(url: str, timeout: float, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log_path = getattr(process, "log_path", None)
            log = log_path.read_text("utf-8")[-4000:] if log_path else ""
            raise RuntimeError(f"{url} exited early: {log}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout} s")


def stop_process(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
