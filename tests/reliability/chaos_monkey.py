"""What goes wrong during the chaos scenario.

The monkey works through its events one at a time, each once the load has reached its share of
the documents and the platform has recovered from the previous event: `kill -9` of each service
in turn, `kill -9` of nats-server, and the S3 server stopped for ten seconds. Putting things
right is `vanthu up`'s job, as it is in production: it starts a service that exited again (with
back-off) and brings nats-server back on the same port with the same store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from chaos_platform import ChaosPlatform

from vanthu_cli.services import SERVICES

S3_OUTAGE_S = 10.0


@dataclass
class Event:
    name: str
    action: str  # kill:<service> | kill:nats-server | stop-s3
    at_fraction: float
    fired_at_document: int | None = None
    outage_s: float | None = None  # from the fault until every service answers /readyz again


def schedule() -> list[Event]:
    # The faults whose effects wait out a consumer's 120 s ack wait come first, so it runs out
    # during the load rather than after it: acknowledgements in flight when nats-server dies,
    # and what interop and analytics held when killed. The S3 outage next (consumers' back-off
    # of 15–30 s); registry, routing and signing (ack wait 30–60 s) last.
    actions = [
        "kill:nats-server",
        "kill:interop",
        "kill:analytics",
        "stop-s3",
        "kill:registry",
        "kill:routing",
        "kill:signing",
    ]
    assert {a.removeprefix("kill:") for a in actions} >= set(SERVICES)
    names = {
        **{f"kill:{s}": f"kill -9 {s} (vanthu up restarts it)" for s in SERVICES},
        "kill:nats-server": "kill -9 nats-server (vanthu up restarts it, same port and store)",
        "stop-s3": f"stop the S3 server for {S3_OUTAGE_S:.0f} s, then start it",
    }
    # Spread over the load: the first after a twentieth of it, the last at four fifths.
    return [
        Event(names[action], action, 0.05 + 0.75 * i / (len(actions) - 1)) for i, action in enumerate(actions)
    ]


class Monkey:
    def __init__(self, platform: ChaosPlatform, total: int) -> None:
        self.platform = platform
        self.total = total
        self.events = schedule()

    async def run(self, progress: Callable[[], int]) -> None:
        for event in self.events:
            while progress() < event.at_fraction * self.total:
                await asyncio.sleep(0.2)
            event.fired_at_document = progress()
            started = time.monotonic()
            await asyncio.to_thread(self._fire, event.action)
            await asyncio.to_thread(self.platform.wait_ready)
            event.outage_s = time.monotonic() - started

    def _fire(self, action: str) -> None:
        platform = self.platform
        if action.startswith("kill:"):
            name = action.removeprefix("kill:")
            pid = platform.kill(name)
            platform.wait_restarted(name, pid)
        elif action == "stop-s3":
            platform.stop_s3()
            time.sleep(S3_OUTAGE_S)
            platform.start_s3()
        else:
            raise ValueError(action)
