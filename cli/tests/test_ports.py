"""The free-port check agrees with what a server can bind."""

from __future__ import annotations

import socket

from vanthu_cli.ports import port_is_free


def test_a_listening_port_is_taken_and_a_closed_one_is_free() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port_is_free(port) is False
    assert port_is_free(port) is True


def test_a_port_with_connections_in_time_wait_is_free() -> None:
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server side closes first, so it is the one left in TIME_WAIT
        client.close()
    # A plain bind() would fail now (EADDRINUSE); uvicorn and nats-server bind with SO_REUSEADDR.
    with socket.socket() as plain:
        try:
            plain.bind(("127.0.0.1", port))
            lingering = False
        except OSError:
            lingering = True
    assert lingering, "the connection did not linger in TIME_WAIT; the test proves nothing"
    assert port_is_free(port) is True
