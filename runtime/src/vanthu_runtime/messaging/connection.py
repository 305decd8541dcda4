"""NATS connections: one per service process, reconnecting forever (`connect_nats`); one quick
attempt for a command-line tool, no reconnecting (`connect_once`)."""

from __future__ import annotations

import asyncio
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


async def connect_once(
    url: str,
    *,
    name: str,
    timeout_s: float = 2.0,
    creds_file: str | None = None,
    user: str = "",
    password: str = "",
) -> NATS:
    """Connect or raise (OSError, TimeoutError or a nats error) within about `timeout_s`.

    nats-py treats `max_reconnect_attempts=0` as "retry forever" even for the first
    connection, so the attempts are capped at one retry and the whole call at a deadline.
    """
    import nats

    async def quiet_error(exc: Exception) -> None:
        # Replaces nats-py's default callback, which logs every refused connection as an error:
        # the caller gets the failure itself (raised below), so it is only worth a debug line.
        log.debug("NATS %s: %r", url, exc)

    auth: dict[str, str] = {}
    if creds_file:
        auth["user_credentials"] = creds_file
    if user:
        auth.update(user=user, password=password)
    return await asyncio.wait_for(
        nats.connect(
            url,
            name=name,
            connect_timeout=timeout_s,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.1,
            error_cb=quiet_error,
            **auth,
        ),
        timeout=2 * timeout_s + 1,
    )
