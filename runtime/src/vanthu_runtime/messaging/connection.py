"""One NATS connection per process, reconnecting forever."""

from __future__ import annotations

import logging
from typing import Any

import nats
from nats.aio.client import Client as NATS

log = logging.getLogger("vanthu.nats")


async def connect_nats(
    url: str,
    *,
    name: str,
    user: str = "",
    password: str = "",
    creds_file: str | None = None,
    connect_timeout_s: float = 5.0,
) -> NATS:
    async def on_error(exc: Exception) -> None:
        log.warning("nats error: %s", exc)

    async def on_disconnect() -> None:
        log.warning("nats disconnected")

    async def on_reconnect() -> None:
        log.info("nats reconnected")

    options: dict[str, Any] = {
        "servers": [url],
        "name": name,
        "connect_timeout": connect_timeout_s,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.5,
        "allow_reconnect": True,
        "error_cb": on_error,
        "disconnected_cb": on_disconnect,
        "reconnected_cb": on_reconnect,
    }
    if user:
        options.update(user=user, password=password)
    if creds_file:
        options["user_credentials"] = creds_file
    return await nats.connect(**options)
