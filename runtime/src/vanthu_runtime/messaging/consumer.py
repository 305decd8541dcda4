"""Durable pull consumers with bounded, delayed redelivery and a dead-letter stream.

The runner binds to a durable that provisioning created (it never creates one
with its own idea of the settings), fetches in batches (`pull.BatchPuller`), runs the handler inside
a CONSUMER span whose parent comes from the message's W3C headers, and then:

- handler returns      → ack
- raises Retry(delay)  → nak with that delay
- raises Reject        → dead-letter now (the message can never succeed)
- raises anything else → nak with the spec's back-off for this attempt, and
                         dead-letter once the delivery limit is reached

A nak without a delay would redeliver at once and spin on a failing message,
so every nak carries one. Dead-lettering publishes the original bytes and
headers plus the error to `vanthu.dlq.<service>.<durable>` and then terminates
the message, because JetStream leaves a message that exceeded max_deliver in
the stream without telling anyone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from pydantic import ValidationError

from vanthu_contracts.envelope import RawEnvelope
from vanthu_contracts.streams import ConsumerSpec
from vanthu_contracts.subjects import dlq_subject
from vanthu_runtime.errors import AppError
from vanthu_runtime.messaging.pull import BatchPuller, PullError

log = logging.getLogger("vanthu.consumer")


class Retry(Exception):
    """Ask for redelivery after `delay_s` (e.g. a dependency is not ready yet)."""

    def __init__(self, reason: str, delay_s: float = 5.0) -> None:
        super().__init__(reason)
        self.delay_s = delay_s


class Reject(Exception):
    """The message can never be processed: dead-letter it now."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass
class Delivery:
    envelope: RawEnvelope  # what the consumer's `decode` returns: a RawEnvelope unless told otherwise
    subject: str
    headers: dict[str, str]
    msg: Msg

    # Read from the ack subject only when asked: most handlers never do.
    @property
    def num_delivered(self) -> int:
        return self.msg.metadata.num_delivered

    @property
    def stream_seq(self) -> int:
        return self.msg.metadata.sequence.stream

    async def in_progress(self) -> None:
        """Extend the ack deadline during long work (signing a big PDF, a slow axis)."""
        await self.msg.in_progress()


Handler = Callable[[Delivery], Awaitable[None]]
BatchHandler = Callable[[list[Delivery]], Awaitable[None]]
# Message body → envelope; raises ValidationError or ValueError for a message that can never be read.
Decode = Callable[[bytes], Any]


def _error_code(exc: BaseException) -> str:
    if isinstance(exc, AppError):
        return exc.code
    if isinstance(exc, Reject):
        return exc.code
    return f"unhandled.{type(exc).__name__}"


class Consumer:
    def __init__(
        self,
        js: JetStreamContext,
        spec: ConsumerSpec,
        handler: Handler | None = None,
        *,
        batch_handler: BatchHandler | None = None,
        service: str,
        batch_size: int = 64,
        fetch_timeout_s: float = 1.0,
        metrics: Any = None,
        decode: Decode | None = None,
    ) -> None:
        if (handler is None) == (batch_handler is None):
            raise ValueError("give exactly one of handler or batch_handler")
        self.js = js
        self.spec = spec
        self.handler = handler
        self.batch_handler = batch_handler
        self.service = service
        self.batch_size = batch_size
        self.fetch_timeout_s = fetch_timeout_s
        self.metrics = metrics
        self.decode = decode or RawEnvelope.model_validate_json
        self.tracer = trace.get_tracer("vanthu.consumer")
        self.processed = 0
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True

    async def run(self) -> None:
        """Consume until cancelled or stopped. Reconnects the subscription on errors."""
        while not self._stopping:
            puller = BatchPuller(self.js, self.spec.stream, self.spec.durable)
            try:
                await puller.start()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("cannot subscribe for consumer %s; retrying", self.spec.durable)
                await asyncio.sleep(2.0)
                continue
            try:
                while not self._stopping:
                    msgs = await puller.fetch(self.batch_size, timeout=self.fetch_timeout_s)
                    if not msgs:
                        continue
                    if self.batch_handler is not None:
                        await self._handle_batch(msgs)
                    else:
                        for msg in msgs:
                            await self._handle_one(msg)
            except asyncio.CancelledError:
                raise
            except PullError:
                log.exception("consumer %s cannot pull (provisioned?); retrying", self.spec.durable)
                await asyncio.sleep(2.0)
            except Exception:
                log.exception("consumer %s fetch loop failed; re-binding", self.spec.durable)
                await asyncio.sleep(1.0)
            finally:
                try:
                    # Bounded: during a reconnect the UNSUB can wait on a socket that is not there.
                    await asyncio.wait_for(puller.stop(), timeout=2.0)
                except Exception:  # the connection may already be gone
                    log.debug("unsubscribe failed", exc_info=True)

    # -- single messages ---------------------------------------------------------------

    def _parse(self, msg: Msg) -> Delivery:
        envelope = self.decode(msg.data)
        return Delivery(envelope=envelope, subject=msg.subject, headers=dict(msg.headers or {}), msg=msg)

    async def _handle_one(self, msg: Msg) -> None:
        from vanthu_runtime.telemetry import extract_context

        started = time.perf_counter()
        headers = dict(msg.headers or {})
        with self.tracer.start_as_current_span(
            f"{msg.subject} process",
            context=extract_context(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": msg.subject,
                "messaging.consumer.group.name": self.spec.durable,
                "messaging.message.id": headers.get("Nats-Msg-Id", ""),
            },
        ) as span:
            try:
                delivery = self._parse(msg)
            except (ValidationError, ValueError) as exc:
                span.set_status(Status(StatusCode.ERROR, "unparseable message"))
                await self._dead_letter(msg, "consumer.unparseable", str(exc)[:500])
                self._count("dead_lettered")
                return
            try:
                assert self.handler is not None
                await self.handler(delivery)
            except Retry as exc:
                span.set_attribute("vanthu.retry_delay_s", exc.delay_s)
                await self._retry_or_dead_letter(msg, delivery.num_delivered, exc, exc.delay_s)
                return
            except Reject as exc:
                span.set_status(Status(StatusCode.ERROR, exc.reason))
                await self._dead_letter(msg, exc.code, exc.reason)
                self._count("dead_lettered")
                return
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                log.warning(
                    "consumer %s: handler failed on %s (delivery %d): %r",
                    self.spec.durable,
                    delivery.envelope.type,
                    delivery.num_delivered,
                    exc,
                )
                await self._retry_or_dead_letter(msg, delivery.num_delivered, exc, None)
                return
            await msg.ack()
            self.processed += 1
            self._count("applied")
            if self.metrics is not None:
                self.metrics.handler_seconds.labels(self.service, self.spec.durable).observe(
                    time.perf_counter() - started
                )

    def _backoff(self, num_delivered: int) -> float:
        delays = self.spec.backoff_s or (5.0,)
        return delays[min(num_delivered, len(delays)) - 1]

    async def _retry_or_dead_letter(
        self, msg: Msg, num_delivered: int, exc: BaseException, delay_s: float | None
    ) -> None:
        if num_delivered >= self.spec.max_deliver:
            await self._dead_letter(msg, _error_code(exc), str(exc)[:1000] or type(exc).__name__)
            self._count("dead_lettered")
            return
        await msg.nak(delay=delay_s if delay_s is not None else self._backoff(num_delivered))
        self._count("retried")

    async def _dead_letter(self, msg: Msg, code: str, reason: str) -> None:
        meta = msg.metadata
        headers = dict(msg.headers or {})
        original_id = headers.pop("Nats-Msg-Id", "")
        headers.update(
            {
                "Nats-Msg-Id": f"dlq-{self.spec.durable}-{meta.sequence.stream}",
                "Vanthu-Original-Subject": msg.subject,
                "Vanthu-Original-Msg-Id": original_id,
                "Vanthu-Original-Stream": meta.stream,
                "Vanthu-Original-Seq": str(meta.sequence.stream),
                "Vanthu-Consumer": self.spec.durable,
                "Vanthu-Deliveries": str(meta.num_delivered),
                "Vanthu-Error-Code": code,
                "Vanthu-Error": reason.replace("\n", " ")[:1000],
            }
        )
        if self.spec.dead_letter:
            await self.js.publish(dlq_subject(self.service, self.spec.durable), msg.data, headers=headers)
        log.error(
            "consumer %s dead-lettered %s seq %s: %s %s",
            self.spec.durable,
            msg.subject,
            meta.sequence.stream,
            code,
            reason[:200],
        )
        await msg.term()

    # -- batches -----------------------------------------------------------------------

    async def _handle_batch(self, msgs: list[Msg]) -> None:
        """All-or-nothing: the batch handler applies a batch in one transaction.

        Unparseable messages are dead-lettered individually first. If the batch
        fails, each message is retried with back-off, as a single one would be.
        """
        from vanthu_runtime.telemetry import extract_context

        deliveries: list[Delivery] = []
        for msg in msgs:
            try:
                deliveries.append(self._parse(msg))
            except (ValidationError, ValueError) as exc:
                await self._dead_letter(msg, "consumer.unparseable", str(exc)[:500])
                self._count("dead_lettered")
        if not deliveries:
            return
        links = [
            Link(trace.get_current_span(extract_context(d.headers)).get_span_context())
            for d in deliveries[:32]
        ]
        started = time.perf_counter()
        with self.tracer.start_as_current_span(
            f"{self.spec.durable} process batch",
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={"messaging.system": "nats", "messaging.batch.message_count": len(deliveries)},
        ) as span:
            try:
                assert self.batch_handler is not None
                await self.batch_handler(deliveries)
            except Exception as exc:
                span.record_exception(exc)
                log.warning("consumer %s: batch of %d failed: %r", self.spec.durable, len(deliveries), exc)
                for d in deliveries:
                    await self._retry_or_dead_letter(
                        d.msg, d.num_delivered, exc, exc.delay_s if isinstance(exc, Retry) else None
                    )
                return
        for d in deliveries:  # an ack is a buffered core publish: awaiting in turn beats a task each
            await d.msg.ack()
        self.processed += len(deliveries)
        self._count("applied", len(deliveries))
        if self.metrics is not None:
            self.metrics.handler_seconds.labels(self.service, self.spec.durable).observe(
                time.perf_counter() - started
            )

    def _count(self, outcome: str, n: int = 1) -> None:
        if self.metrics is not None:
            self.metrics.events_consumed_total.labels(self.service, self.spec.durable, outcome).inc(n)
