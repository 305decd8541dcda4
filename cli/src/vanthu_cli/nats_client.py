"""A short-lived NATS client for the CLI: one quick connection attempt, no reconnecting."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client as NATS


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

    errors: list[Exception] = []

    async def keep_error(exc: Exception) -> None:
        # Replaces nats-py's default callback, which logs every refused connection.
        errors.append(exc)

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
            error_cb=keep_error,
            **auth,
        ),
        timeout=2 * timeout_s + 1,
    )
