"""Fixtures of the hostile-input tests: a canary file and a loopback HTTP server that must stay untouched."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nats
import pytest
from fuzz_watch import Canary, WatchServer

from vanthu_runtime.messaging.provision import provision


@pytest.fixture(scope="session")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Canary:
    marker = f"VANTHU-CANARY-{uuid.uuid4().hex}"
    path = tmp_path_factory.mktemp("canary") / "secret.txt"
    path.write_text(marker)
    return Canary(path, marker)


@pytest.fixture(scope="session")
def watch_server() -> Iterator[WatchServer]:
    seen: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def _record(self) -> None:
            seen.append(f"{self.command} {self.path}")
            body = b"<!ENTITY % send \"<!ENTITY leak SYSTEM 'http://127.0.0.1:9/'>\">"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _record

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield WatchServer(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
async def provisioned(nats_url: str) -> str:
    """The session's nats-server with every stream and consumer provisioned."""
    nc = await nats.connect(nats_url)
    try:
        report = await provision(nc.jetstream())
        assert report.ok, report.errors
    finally:
        await nc.close()
    return nats_url
