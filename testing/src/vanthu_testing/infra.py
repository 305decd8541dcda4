"""Which kind of infrastructure the fixtures start: local processes or testcontainers.

VANTHU_TEST_INFRA=processes|containers|auto (default auto). `auto` uses containers only where
testcontainers is installed and a Docker engine answers; machines with just the docker client
(like the project's) get processes.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Mapping
from typing import Literal

from vanthu_testing._process import InfrastructureError

INFRA_ENV = "VANTHU_TEST_INFRA"
InfraKind = Literal["processes", "containers"]


@functools.cache
def docker_engine_answers(timeout: float = 3.0) -> bool:
    """Ping the engine with the docker SDK (what testcontainers itself uses)."""
    try:
        import docker
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=timeout)
    except Exception:  # no socket, bad DOCKER_HOST: the engine is not reachable
        return False
    try:
        return bool(client.ping())
    except Exception:  # the socket exists but nothing answers
        return False
    finally:
        client.close()


def containers_unavailable_reason() -> str | None:
    if importlib.util.find_spec("testcontainers") is None:
        return "testcontainers is not installed (install vanthu-testing[containers])"
    if not docker_engine_answers():
        return "no Docker engine answers"
    return None


def infra_kind(environ: Mapping[str, str] = os.environ) -> InfraKind:
    requested = environ.get(INFRA_ENV, "").strip().lower() or "auto"
    if requested == "processes":
        return "processes"
    if requested == "containers":
        reason = containers_unavailable_reason()
        if reason is not None:
            raise InfrastructureError(f"{INFRA_ENV}=containers, but {reason}")
        return "containers"
    if requested == "auto":
        return "containers" if containers_unavailable_reason() is None else "processes"
    raise InfrastructureError(f"{INFRA_ENV} must be processes, containers or auto, not {requested!r}")
