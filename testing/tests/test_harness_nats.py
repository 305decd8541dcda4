"""nats-server launcher: JetStream works, restarts keep port and stream data, WebSocket listens."""

from __future__ import annotations

import socket
from pathlib import Path

import nats
import pytest

from vanthu_testing.procs import InfrastructureError, NatsServer

pytestmark = pytest.mark.nats


async def publish_and_fetch(url: str, stream: str, subject: str, payload: bytes) -> bytes:
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        await js.add_stream(name=stream, subjects=[subject])
        ack = await js.publish(subject, payload)
        assert ack.stream == stream
        subscription = await js.pull_subscribe(subject, durable=f"{stream.lower()}-reader")
        (message,) = await subscription.fetch(1, timeout=5)
        await message.ack()
        return message.data
    finally:
        await client.close()


async def test_session_server_runs_jetstream(nats_server, nats_url: str) -> None:
    assert nats_url == nats_server.url
    assert nats_url.startswith("nats://127.0.0.1:")
    assert nats_server.port != 4222  # never the machine's own (too old) server
    assert await publish_and_fetch(nats_url, "HARNESS_SESSION", "harness.session", b"xin chao") == b"xin chao"


async def test_restart_and_kill_keep_port_and_stream_data(tmp_path: Path) -> None:
    with NatsServer(tmp_path / "nats") as server:
        port = server.port
        client = await nats.connect(server.url)
        js = client.jetstream()
        await js.add_stream(name="HARNESS_RESTART", subjects=["harness.restart"])
        await js.publish("harness.restart", b"before restart")
        await client.close()

        server.restart()
        assert server.port == port
        server.kill()  # a crash, not a clean shutdown
        server.start()
        assert server.port == port

        client = await nats.connect(server.url)
        try:
            js = client.jetstream()
            info = await js.stream_info("HARNESS_RESTART")
            assert info.state.messages == 1
            stored = await js.get_msg("HARNESS_RESTART", seq=1)
            assert stored.data == b"before restart"
        finally:
            await client.close()
    assert not server.is_running()
    server.stop()  # a second stop is harmless


def test_two_servers_coexist_and_websocket_listens(tmp_path: Path) -> None:
    with (
        NatsServer(tmp_path / "a") as first,
        NatsServer(tmp_path / "b", websocket_port=0) as second,
    ):
        assert first.port != second.port
        assert second.websocket_url == f"ws://127.0.0.1:{second.websocket_port}"
        with socket.create_connection(("127.0.0.1", second.websocket_port), timeout=2) as ws:
            ws.sendall(
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            assert ws.recv(4096).startswith(b"HTTP/1.1 101")


def test_start_failure_reports_server_output(tmp_path: Path) -> None:
    with NatsServer(tmp_path / "first") as first:
        clash = NatsServer(tmp_path / "second", port=first.port, startup_timeout=5)
        with pytest.raises(InfrastructureError) as failure:
            clash.start()
        assert "nats-server" in str(failure.value)
        assert "address already in use" in str(failure.value)
