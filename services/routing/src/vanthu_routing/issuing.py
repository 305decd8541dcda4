"""The port to the registry's issuing (number, symbol, outgoing register) and its NATS adapter."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from nats.aio.client import Client as NATS
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

log = logging.getLogger("vanthu.routing.issuing")


class IssuingUnavailable(Exception):
    """The registry did not answer; the caller retries later (the request is idempotent)."""


class Issuer(Protocol):
    async def issue(self, request: Any) -> Any:
        """Send an `IssueDocumentRequest`, get the `IssueDocumentReply`."""


class NatsIssuer:
    """`vanthu.rpc.registry.issue_document` over NATS request/reply."""

    def __init__(self, nc: NATS, timeout_s: float = 10.0) -> None:
        self.nc = nc
        self.timeout_s = timeout_s

    async def issue(self, request: Any) -> Any:
        from opentelemetry.trace import SpanKind

        from vanthu_contracts.events import registry as reg
        from vanthu_runtime.telemetry import inject_headers, tracer

        subject = reg.ISSUE_DOCUMENT.subject
        # The trace goes on to the registry (and to the document.issued it publishes) in the headers.
        with tracer("vanthu.routing").start_as_current_span(f"{subject} request", kind=SpanKind.CLIENT):
            try:
                msg = await self.nc.request(
                    subject, request.model_dump_json().encode(), timeout=self.timeout_s, headers=inject_headers()
                )
            except (NatsTimeoutError, NoRespondersError, TimeoutError) as exc:
                raise IssuingUnavailable(type(exc).__name__) from exc
        return reg.IssueDocumentReply.model_validate_json(msg.data)
