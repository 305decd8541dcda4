"""Prometheus metrics: per-process registries, the event and HTTP families, the exposition."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import Response

from vanthu_runtime.metrics import Metrics, build_metrics, instrument_http, metrics_response


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Parse the exposition text the way Prometheus would."""
    text = metrics.exposition().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, frozenset(labels.items())))


def test_each_build_has_its_own_registry() -> None:
    first, second = build_metrics("registry"), build_metrics("registry")
    first.event_published("registry.document.registered")
    assert (
        value(first, "events_published_total", service="registry", type="registry.document.registered") == 1
    )
    assert (
        value(second, "events_published_total", service="registry", type="registry.document.registered")
        is None
    )


def test_event_families_appear_in_the_exposition() -> None:
    metrics = build_metrics("routing")
    metrics.event_published("routing.handling.assigned", count=2)
    metrics.event_consumed("routing-documents", "applied")
    metrics.event_consumed("routing-documents", "duplicate")
    metrics.event_consumed("routing-documents", "duplicate")
    metrics.set_outbox_pending(7)
    metrics.observe_outbox_relay(0.02)
    with metrics.time_handler("routing-documents"):
        pass
    with pytest.raises(RuntimeError), metrics.time_handler("routing-documents"):
        raise RuntimeError("handler failed")

    assert value(metrics, "events_published_total", service="routing", type="routing.handling.assigned") == 2
    consumed = {"service": "routing", "consumer": "routing-documents"}
    assert value(metrics, "events_consumed_total", **consumed, outcome="applied") == 1
    assert value(metrics, "events_consumed_total", **consumed, outcome="duplicate") == 2
    assert value(metrics, "handler_seconds_count", **consumed) == 2  # a raising handler is timed too
    assert value(metrics, "outbox_pending", service="routing") == 7
    assert value(metrics, "outbox_relay_seconds_count") == 1
    assert value(metrics, "outbox_relay_seconds_bucket", le="0.025") == 1
    assert value(metrics, "outbox_relay_seconds_bucket", le="0.01") == 0


def test_unknown_consume_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown consume outcome"):
        build_metrics("analytics").event_consumed("analytics-all", "ok")  # type: ignore[arg-type]


def test_process_and_platform_collectors_are_registered() -> None:
    names = {name for name, _ in samples(build_metrics("signing"))}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"} <= names
    assert any(name.startswith("python_gc_") for name in names)


def build_app(metrics: Metrics) -> FastAPI:
    app = FastAPI()

    @app.get("/documents/{document_id}")
    async def read_document(document_id: str) -> dict[str, str]:
        return {"id": document_id}

    @app.post("/documents")
    async def create_document() -> Response:
        return Response(status_code=201)

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("boom")

    @app.get("/metrics")
    async def scrape(request: Request) -> Response:
        return metrics_response(request.app.state.metrics)

    instrument_http(app, metrics)
    return app


async def test_http_requests_are_counted_by_route_template() -> None:
    metrics = build_metrics("registry")
    app = build_app(metrics)
    assert app.state.metrics is metrics
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        for document_id in ("d-1", "d-2", "d-3"):
            assert (await client.get(f"/documents/{document_id}")).status_code == 200
        assert (await client.post("/documents")).status_code == 201
        assert (await client.get("/no/such/path")).status_code == 404
        assert (await client.get("/broken")).status_code == 500
        scrape = await client.get("/metrics")

    assert scrape.status_code == 200
    assert scrape.headers["content-type"] == CONTENT_TYPE_LATEST
    assert (
        'http_requests_total{method="GET",route="/documents/{document_id}",service="registry",status="200"} 3.0'
        in scrape.text
    )

    def requests(method: str, route: str, status: str) -> float | None:
        return value(
            metrics, "http_requests_total", service="registry", method=method, route=route, status=status
        )

    assert requests("GET", "/documents/{document_id}", "200") == 3
    assert requests("POST", "/documents", "201") == 1
    assert requests("GET", "<unmatched>", "404") == 1
    assert requests("GET", "/broken", "500") == 1
    # Raw paths never become label values.
    assert not any("d-1" in dict(labels).get("route", "") for _, labels in samples(metrics))
    latency = value(
        metrics,
        "http_request_seconds_count",
        service="registry",
        method="GET",
        route="/documents/{document_id}",
    )
    assert latency == 3
