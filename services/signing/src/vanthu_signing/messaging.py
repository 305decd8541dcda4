"""Consumer handler for sign jobs: translate a delivery into the use case and back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pydantic import ValidationError

from vanthu_contracts.events import signing as contract
from vanthu_contracts.events.signing import SignDocument
from vanthu_contracts.streams import ConsumerSpec
from vanthu_runtime.messaging.consumer import Delivery, Handler, Reject, Retry
from vanthu_signing.jobs import Delivered, Outcome, SignJobService


def sign_job_handler(
    service: Callable[[], SignJobService],
    ready: asyncio.Event,
    spec: ConsumerSpec,
    retry_delays_s: list[float] | None = None,
) -> Handler:
    """`service` is read once the app is wired (`ready`): consumers start before that."""
    delays = tuple(retry_delays_s or spec.backoff_s)

    async def handle(delivery: Delivery) -> None:
        await ready.wait()
        if delivery.envelope.type != contract.SIGN.type:
            raise Reject(contract.JOB_INVALID.code, f"unexpected message type {delivery.envelope.type}")
        try:
            job = SignDocument.model_validate(delivery.envelope.payload)
        except ValidationError as exc:
            raise Reject(contract.JOB_INVALID.code, str(exc)[:500]) from exc
        result = await service().run(
            job,
            Delivered(
                correlation_id=delivery.envelope.correlation_id,
                attempt=delivery.num_delivered,
                max_attempts=spec.max_deliver,
                progress=delivery.in_progress,
            ),
        )
        if result.outcome is Outcome.FAILED:
            assert result.error is not None
            raise Reject(result.error.code, result.error.error.message_en)
        if result.outcome is Outcome.RETRY:
            reason = result.error.code if result.error is not None else "busy"
            delay = result.retry_after_s or delays[min(delivery.num_delivered, len(delays)) - 1]
            raise Retry(reason, delay_s=delay)

    return handle
