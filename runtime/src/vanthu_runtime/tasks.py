"""Background tasks a process owns: stop them without letting one stuck task hold shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger("vanthu.runtime")

# Kubernetes gives a pod 30 s between SIGTERM and SIGKILL; the NATS drain and the database
# still need their share of it after the tasks are gone.
DEFAULT_STOP_TIMEOUT_S = 10.0


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[object]], within_s: float = DEFAULT_STOP_TIMEOUT_S
) -> None:
    """Cancel the tasks and wait for them, at most `within_s` seconds.

    A task that swallows its cancellation or waits on something that never answers
    (a socket in the middle of a reconnect, a worker thread) is named in the log and
    left behind: shutdown goes on, and the process exit ends it.
    """
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if not pending:
        return
    _, stuck = await asyncio.wait(pending, timeout=within_s)
    for task in stuck:
        log.warning(
            "task %s did not stop within %.0f s of its cancellation; leaving it", task.get_name(), within_s
        )
    for task in pending:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.debug("task %s ended with %r", task.get_name(), task.exception())
