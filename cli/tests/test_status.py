"""`vanthu status` without a running platform."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vanthu_cli.main import build_app
from vanthu_cli.platform_state import DataDir, InstanceRecord, NatsRecord, PlatformState
from vanthu_testing.procs import reserve_free_ports


def test_status_without_a_platform_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(plugins=False), ["status", "--data-dir", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "no platform in" in result.output


def test_status_of_a_stopped_platform_is_down_with_exit_code_1(tmp_path: Path) -> None:
    nats_port, registry_port = reserve_free_ports(2)
    data = DataDir.at(tmp_path)
    state = PlatformState(data_dir=str(tmp_path))
    state.nats = NatsRecord(port=nats_port, url=f"nats://127.0.0.1:{nats_port}", store_dir="n", log="l")
    url = f"http://127.0.0.1:{registry_port}"
    state.instances = [
        InstanceRecord(
            service="registry", instance="registry-1", replica=1, port=registry_port, url=url, log="x"
        )
    ]
    state.save(data)
    result = CliRunner().invoke(build_app(plugins=False), ["status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].split() == ["nats", f"nats://127.0.0.1:{nats_port}", "down"]
    assert lines[1].split() == ["registry-1", url, "down"]


class _Health(BaseHTTPRequestHandler):
    """A stand-in service: /healthz answers with the status code in the server's `answer`."""

    def do_GET(self) -> None:
        code = self.server.answer  # type: ignore[attr-defined]
        body = json.dumps({"status": "healthy" if code == 200 else "starting"}).encode()
        self.send_response(code if self.path == "/healthz" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return  # keep pytest's output clean


@pytest.fixture
def http_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("answer", "word"), [(200, "healthy"), (503, "unhealthy")])
def test_status_words(tmp_path: Path, http_server: ThreadingHTTPServer, answer: int, word: str) -> None:
    http_server.answer = answer  # type: ignore[attr-defined]
    port = http_server.server_address[1]
    data = DataDir.at(tmp_path)
    state = PlatformState(data_dir=str(tmp_path))
    url = f"http://127.0.0.1:{port}"
    state.instances = [
        InstanceRecord(service="routing", instance="routing-1", replica=1, port=port, url=url, log="x")
    ]
    state.save(data)
    result = CliRunner().invoke(build_app(plugins=False), ["status", "--data-dir", str(tmp_path), "--json"])
    report = json.loads(result.output)
    assert report["services"][0]["status"] == word
    assert report["services"][0]["docs_url"] == f"{url}/docs"
    assert report["nats"]["status"] == "down"  # no NATS recorded at all
    assert report["healthy"] is False and result.exit_code == 1
