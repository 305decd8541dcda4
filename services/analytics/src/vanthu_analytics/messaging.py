"""Consumer adapter: JetStream deliveries → the fact pipeline (translation only).

The consumer reads each message with `wire.decode` (pass `decode=` to the kit's consumer), so a
delivery's envelope is already the pipeline's `EventView`."""

from __future__ import annotations

import logging

from vanthu_analytics.ingest import FactPipeline
from vanthu_runtime.messaging.consumer import Delivery

log = logging.getLogger("vanthu.analytics")


async def apply_deliveries(pipeline: FactPipeline, deliveries: list[Delivery]) -> None:
    outcome = await pipeline.apply([d.envelope for d in deliveries])
    if outcome.skipped:
        log.info("skipped %d events: %s", sum(outcome.skipped.values()), dict(outcome.skipped))
