"""Consumer handlers: translate deliveries into use-case calls, and failures into retry or dead-letter."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from vanthu_contracts.errors import UNAVAILABLE
from vanthu_contracts.events import interop as contract
from vanthu_contracts.events.registry import AgencyUpserted, OutgoingIssued
from vanthu_interop.axis.client import AxisRefused, AxisUnavailable
from vanthu_interop.usecases.directory import Directory
from vanthu_interop.usecases.dispatch import Dispatch
from vanthu_interop.usecases.sending import Sending
from vanthu_runtime.errors import AppError
from vanthu_runtime.messaging.consumer import Delivery, Reject, Retry
from vanthu_runtime.uow import Tx, UnitOfWork

log = logging.getLogger("vanthu.interop.messaging")
# Outages that pass: the axis, or the object store the packet's files come from.
_TRANSIENT_CODES = {contract.AXIS_UNAVAILABLE.code, UNAVAILABLE.code}


class Handlers:
    def __init__(
        self,
        uow: UnitOfWork,
        dispatch: Dispatch,
        sending: Sending,
        directory: Directory,
        backoff_s: tuple[float, ...] = contract.SEND_CONSUMER.backoff_s,
    ) -> None:
        self.uow = uow
        self.dispatch = dispatch
        self.sending = sending
        self.directory = directory
        self.backoff_s = backoff_s or contract.SEND_CONSUMER.backoff_s

    def _backoff(self, num_delivered: int) -> float:
        return self.backoff_s[min(num_delivered, len(self.backoff_s)) - 1]

    async def on_send(self, delivery: Delivery) -> None:
        try:
            job = contract.SendJob.model_validate(delivery.envelope.payload)
        except ValidationError as exc:
            raise Reject("interop.bad_job", str(exc)[:500]) from None
        spec = contract.SEND_CONSUMER
        last = delivery.num_delivered >= spec.max_deliver
        try:
            await self.sending.execute(job)
        except AxisRefused as exc:
            await self._give_up(job, contract.AXIS_REFUSED.code, f"{exc.error_code}: {exc.message}")
        except AppError as exc:
            if exc.code in _TRANSIENT_CODES and not last:
                raise Retry(str(exc), delay_s=self._backoff(delivery.num_delivered)) from None
            await self._give_up(job, exc.code, str(exc.details.get("reason") or exc))
        except (AxisUnavailable, OSError) as exc:
            if last:
                await self._give_up(job, contract.AXIS_UNAVAILABLE.code, str(exc))
            raise Retry(str(exc), delay_s=self._backoff(delivery.num_delivered)) from None
        except Exception as exc:  # a database hiccup and the like: retried with back-off, then given up
            if last:
                await self._give_up(job, f"unhandled.{type(exc).__name__}", str(exc))
            raise

    async def _give_up(self, job: contract.SendJob, code: str, reason: str) -> None:
        await self.sending.fail(job.delivery_id, code, reason)
        raise Reject(code, reason)

    async def on_issued(self, delivery: Delivery) -> None:
        issued = OutgoingIssued.model_validate(delivery.envelope.payload)

        async def dispatch(tx: Tx) -> None:
            if await tx.claim(contract.ISSUED_CONSUMER.durable, delivery.envelope.id):
                await self.dispatch.on_issued(tx, issued, actor=delivery.envelope.actor)

        # In a transaction shared with whatever else is committing at that moment (sends' bookkeeping).
        await self.dispatch.ctx.shared.run(dispatch)

    async def on_handling(self, delivery: Delivery) -> None:
        payload = dict(delivery.envelope.payload)
        async with self.uow.begin() as tx:
            if await tx.claim(contract.FEEDBACK_CONSUMER.durable, delivery.envelope.id):
                await self.dispatch.on_handling(tx, payload, event_type=delivery.envelope.type)

    async def on_agency(self, delivery: Delivery) -> None:
        agency = AgencyUpserted.model_validate(delivery.envelope.payload)
        async with self.uow.begin() as tx:
            if await tx.claim(contract.DIRECTORY_CONSUMER.durable, delivery.envelope.id):
                await self.directory.on_agency(tx, agency)
