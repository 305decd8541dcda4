"""Prometheus metrics: one registry per process, built at startup.

`build_metrics(service)` makes a fresh `CollectorRegistry` (never the
prometheus_client global one, so building twice in a test process cannot
collide) with the platform's metric families, plus process, platform and GC
collectors. Expose it with `metrics_response(metrics)` on `/metrics`; fill the
HTTP families with `instrument_http(app, metrics)`.

Label values are bounded on purpose: `route` is the route template
(`/documents/{document_id}`), never the raw path, and unmatched requests share
one value.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ConsumeOutcome",
    "HttpMetricsMiddleware",
    "Metrics",
    "build_metrics",
    "instrument_http",
    "metrics_response",
]

ConsumeOutcome = Literal["applied", "duplicate", "retried", "dead_lettered", "skipped"]
CONSUME_OUTCOMES: tuple[str, ...] = ("applied", "duplicate", "retried", "dead_lettered", "skipped")
UNMATCHED_ROUTE = "<unmatched>"

# Message handlers and HTTP calls run from ~1 ms (inbox duplicate) to tens of
# seconds (a PAdES signature on a large PDF through an HSM).
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class Metrics:
    """The metric families of one service process. The helpers fill the `service` label."""

    service: str
    registry: CollectorRegistry
    events_published_total: Counter
    events_consumed_total: Counter
    handler_seconds: Histogram
    outbox_pending: Gauge
    outbox_relay_seconds: Histogram
    http_requests_total: Counter
    http_request_seconds: Histogram

    def event_published(self, event_type: str, count: int = 1) -> None:
        self.events_published_total.labels(service=self.service, type=event_type).inc(count)

    def event_consumed(self, consumer: str, outcome: ConsumeOutcome) -> None:
        if outcome not in CONSUME_OUTCOMES:
            raise ValueError(f"unknown consume outcome {outcome!r}; expected one of {CONSUME_OUTCOMES}")
        self.events_consumed_total.labels(service=self.service, consumer=consumer, outcome=outcome).inc()

    @contextmanager
    def time_handler(self, consumer: str) -> Iterator[None]:
        """Observe how long a message handler ran, whether it returned or raised."""
        with self.handler_seconds.labels(service=self.service, consumer=consumer).time():
            yield

    def set_outbox_pending(self, count: int) -> None:
        self.outbox_pending.labels(service=self.service).set(count)

    def observe_outbox_relay(self, seconds: float) -> None:
        self.outbox_relay_seconds.observe(seconds)

    def observe_http(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests_total.labels(
            service=self.service, method=method, route=route, status=str(status)
        ).inc()
        self.http_request_seconds.labels(service=self.service, method=method, route=route).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def build_metrics(service: str) -> Metrics:
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return Metrics(
        service=service,
        registry=registry,
        events_published_total=Counter(
            "events_published",
            "Events handed to NATS by the outbox relay, by event type.",
            ("service", "type"),
            registry=registry,
        ),
        events_consumed_total=Counter(
            "events_consumed",
            "Messages a consumer finished with, by outcome "
            "(applied, duplicate, retried, dead_lettered, skipped).",
            ("service", "consumer", "outcome"),
            registry=registry,
        ),
        handler_seconds=Histogram(
            "handler_seconds",
            "Time spent in a message handler.",
            ("service", "consumer"),
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
        outbox_pending=Gauge(
            "outbox_pending",
            "Outbox rows written but not yet published.",
            ("service",),
            registry=registry,
        ),
        outbox_relay_seconds=Histogram(
            "outbox_relay_seconds",
            "Time one outbox relay pass took (read, publish, mark sent).",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
        http_requests_total=Counter(
            "http_requests",
            "HTTP requests served, by route template and status.",
            ("service", "method", "route", "status"),
            registry=registry,
        ),
        http_request_seconds=Histogram(
            "http_request_seconds",
            "HTTP request latency, by route template.",
            ("service", "method", "route"),
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
    )


def metrics_response(metrics: Metrics) -> Response:
    """The Prometheus text exposition of the process's registry."""
    return Response(content=metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


class HttpMetricsMiddleware:
    """Pure ASGI middleware (streaming bodies pass through untouched) that fills the HTTP families."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before responding

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            # The router writes the matched route into the (shared) scope dict on the way in.
            self.metrics.observe_http(
                scope["method"], route_template(scope), status, time.perf_counter() - started
            )


def route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNMATCHED_ROUTE


def instrument_http(app: Any, metrics: Metrics) -> None:
    """Count and time every HTTP request of a Starlette/FastAPI app; keeps `metrics` on `app.state`."""
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    app.state.metrics = metrics
