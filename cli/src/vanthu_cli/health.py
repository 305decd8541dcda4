"""Probes: a service's `/healthz`, and NATS with JetStream."""

from __future__ import annotations

import contextlib
from enum import StrEnum

import httpx


class Health(StrEnum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"  # answers, but not 200
    DOWN = "down"  # does not answer at all


async def probe_http(client: httpx.AsyncClient, base_url: str, timeout_s: float = 2.0) -> Health:
    try:
        response = await client.get(f"{base_url}/healthz", timeout=timeout_s)
    except httpx.HTTPError:
        return Health.DOWN
    if response.status_code != 200:
        return Health.UNHEALTHY
    try:
        body = response.json()
    except ValueError:
        return Health.UNHEALTHY
    return Health.HEALTHY if isinstance(body, dict) and body.get("status") == "healthy" else Health.UNHEALTHY


async def probe_nats(url: str, timeout_s: float = 2.0) -> Health:
    """Healthy when a client can connect and JetStream answers for its account."""
    from nats.errors import Error as NatsError

    from vanthu_runtime.messaging.connection import connect_once

    try:
        nc = await connect_once(url, name="vanthu-status", timeout_s=timeout_s)
    except (OSError, TimeoutError, NatsError):
        return Health.DOWN
    try:
        await nc.jetstream(timeout=timeout_s).account_info()
        return Health.HEALTHY
    except (TimeoutError, NatsError):
        return Health.UNHEALTHY
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
