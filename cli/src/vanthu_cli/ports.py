"""Whether a loopback port is free (checked before start-up, to fail with a clear message)."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server could listen on `port` now.

    SO_REUSEADDR as uvicorn and nats-server use it: without it a port whose last
    connections still linger in TIME_WAIT (right after the previous `vanthu up`, whose
    health probes used them) would look taken although the servers can bind it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True
