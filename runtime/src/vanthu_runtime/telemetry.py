"""Tracing with OpenTelemetry, W3C trace context on every hop (HTTP and NATS).

A service calls `setup_tracing(...)` once in its composition root, before the
first request or publish. Nothing here builds a provider at import time.

Why the global provider is a facade: the OpenTelemetry API lets a process set
the global tracer provider only once, and tracers handed out earlier (to the
FastAPI instrumentation, to faststream's middleware) stay bound to whatever
provider they first resolved. Tests, and a process that reconfigures itself,
call `setup_tracing` more than once. So the global is a small facade set once;
it forwards every span to the *current* SDK provider, and `setup_tracing`
swaps that provider (shutting the old one down, which flushes it). All tracers
ever handed out therefore follow the latest configuration.

faststream's NATS middleware hard-codes the W3C propagator, so HTTP must use
W3C too (`traceparent`/`tracestate` + `baggage`); the global text map is set to
exactly that composite here, whatever `OTEL_PROPAGATORS` says.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import functools
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from opentelemetry import propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import format_span_id, format_trace_id
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util._decorator import _agnosticcontextmanager

__all__ = [
    "ContextPreservingThreadPoolExecutor",
    "JsonLinesSpanExporter",
    "context_preserving",
    "current_trace_ids",
    "extract_context",
    "inject_headers",
    "install_context_preserving_executor",
    "instrument_fastapi",
    "run_in_thread",
    "setup_tracing",
    "shutdown_tracing",
    "tracer",
]

P = ParamSpec("P")
R = TypeVar("R")

# W3C trace context + W3C baggage: the only propagation format on every hop.
W3C_PROPAGATOR = CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])


# --------------------------------------------------------------------------- provider facade


class _SwitchableTracer(trace.Tracer):
    """A tracer that resolves the real tracer from the facade's current provider on each span."""

    def __init__(self, owner: _SwitchableTracerProvider, args: tuple[Any, ...]) -> None:
        self._owner = owner
        self._args = args
        self._resolved: tuple[TracerProvider | None, trace.Tracer] | None = None

    def _target(self) -> trace.Tracer:
        provider = self._owner.current
        if self._resolved is None or self._resolved[0] is not provider:
            real = provider.get_tracer(*self._args) if provider is not None else trace.NoOpTracer()
            self._resolved = (provider, real)
        return self._resolved[1]

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:  # type: ignore[override]
        return self._target().start_span(*args, **kwargs)

    @_agnosticcontextmanager  # type: ignore[arg-type]
    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Iterator[trace.Span]:  # type: ignore[override]
        with self._target().start_as_current_span(*args, **kwargs) as span:
            yield span


class _SwitchableTracerProvider(trace.TracerProvider):
    """The process-wide provider registered once with the OpenTelemetry API."""

    def __init__(self) -> None:
        self.current: TracerProvider | None = None

    def get_tracer(  # type: ignore[override]
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Any = None,
    ) -> trace.Tracer:
        return _SwitchableTracer(
            self, (instrumenting_module_name, instrumenting_library_version, schema_url, attributes)
        )

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.current.force_flush(timeout_millis) if self.current is not None else True


@dataclass(frozen=True)
class _TracingConfig:
    service_name: str
    exporter: str
    endpoint: str
    sample_ratio: float
    instance: str


_lock = threading.Lock()
_facade: _SwitchableTracerProvider | None = None
_active_config: _TracingConfig | None = None


def setup_tracing(
    service_name: str,
    *,
    exporter: str = "none",
    endpoint: str = "",
    sample_ratio: float = 1.0,
    instance: str = "",
) -> TracerProvider:
    """Build the service's TracerProvider and make it the one every tracer uses.

    exporter: "none" (spans are still recorded, so trace ids reach the logs),
    "otlp" (OTLP over HTTP to `endpoint`, batched), "console", or "jsonl:<path>"
    (one JSON object per finished span, written as it ends; tests in other
    processes read these files).

    Calling it again with the same arguments returns the provider already in
    use; with different arguments it replaces it (the old one is flushed and
    shut down, and every tracer handed out before follows the new one).
    """
    global _facade, _active_config
    if not 0.0 <= sample_ratio <= 1.0:
        raise ValueError(f"sample_ratio must be between 0 and 1, got {sample_ratio}")
    config = _TracingConfig(service_name, exporter, endpoint, sample_ratio, instance)
    with _lock:
        if _facade is None:
            facade = _SwitchableTracerProvider()
            trace.set_tracer_provider(facade)
            if trace.get_tracer_provider() is not facade:
                raise RuntimeError(
                    "another TracerProvider was registered before setup_tracing(); "
                    "vanthu's tracing must be the first to set the global provider"
                )
            # Batched exporters hold spans in memory: flush them when the process ends.
            atexit.register(shutdown_tracing)
            _facade = facade
        if _facade.current is not None and _active_config == config:
            return _facade.current

        provider = TracerProvider(
            resource=Resource.create(
                {
                    "service.name": service_name,
                    "service.instance.id": instance or f"{socket.gethostname()}-{os.getpid()}",
                }
            ),
            # ParentBased: a caller's sampling decision wins, so a trace is never half recorded.
            sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
            # The facade owns the lifecycle; no atexit hook per replaced provider.
            shutdown_on_exit=False,
        )
        for processor in _span_processors(exporter, endpoint):
            provider.add_span_processor(processor)

        previous, _facade.current, _active_config = _facade.current, provider, config
        propagate.set_global_textmap(W3C_PROPAGATOR)
    if previous is not None:
        previous.shutdown()
    return provider


def shutdown_tracing() -> None:
    """Flush and stop the current provider; tracers become no-ops until the next setup."""
    global _active_config
    with _lock:
        previous = _facade.current if _facade is not None else None
        if _facade is not None:
            _facade.current = None
        _active_config = None
    if previous is not None:
        previous.shutdown()


def _span_processors(exporter: str, endpoint: str) -> list[Any]:
    if exporter == "none":
        return []
    if exporter == "console":
        return [SimpleSpanProcessor(ConsoleSpanExporter())]
    if exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return [BatchSpanProcessor(OTLPSpanExporter(endpoint=_otlp_traces_url(endpoint)))]
    if exporter.startswith("jsonl:") and exporter[len("jsonl:") :]:
        # Simple, not batched: the line must be on disk when the span ends.
        return [SimpleSpanProcessor(JsonLinesSpanExporter(Path(exporter[len("jsonl:") :])))]
    raise ValueError(f"unknown trace exporter {exporter!r}; use none, otlp, console or jsonl:<path>")


def _otlp_traces_url(endpoint: str) -> str | None:
    """`http://collector:4318` → `http://collector:4318/v1/traces`; empty → the exporter's env default."""
    if not endpoint:
        return None
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


# --------------------------------------------------------------------------- JSON-lines exporter


class JsonLinesSpanExporter(SpanExporter):
    """Appends one JSON object per finished span to a file, one line each.

    Each line goes out in a single `write(2)` on a file opened with O_APPEND and
    without user-space buffering, so it is visible to readers in other
    processes as soon as the span ends and lines from different writers never
    interleave.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        data = b"".join(
            json.dumps(span_to_dict(span), ensure_ascii=False, default=str).encode() + b"\n" for span in spans
        )
        with self._lock:
            if self._fd is None:
                return SpanExportResult.FAILURE
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True  # nothing is buffered


def span_to_dict(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None  # a finished SDK span always has one
    return {
        "trace_id": format_trace_id(context.trace_id),
        "span_id": format_span_id(context.span_id),
        "parent_span_id": format_span_id(span.parent.span_id) if span.parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "service.name": span.resource.attributes.get("service.name"),
        "service.instance.id": span.resource.attributes.get("service.instance.id"),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "attributes": dict(span.attributes or {}),
        "status": {"code": span.status.status_code.name, "description": span.status.description},
        "events": [{"name": event.name, "attributes": dict(event.attributes or {})} for event in span.events],
        "links": [
            {
                "trace_id": format_trace_id(link.context.trace_id),
                "span_id": format_span_id(link.context.span_id),
            }
            for link in span.links
        ],
    }


# --------------------------------------------------------------------------- propagation


def inject_headers(headers: dict[str, str] | None = None, context: Context | None = None) -> dict[str, str]:
    """Write `traceparent`/`tracestate`/`baggage` for `context` (default: current) into `headers`.

    The given dict is updated in place and returned; a new one is made when None.
    """
    carrier: dict[str, str] = headers if headers is not None else {}
    W3C_PROPAGATOR.inject(carrier, context=context)
    return carrier


def extract_context(headers: Mapping[str, str] | None) -> Context:
    """The context carried by message or HTTP headers (header names compared case-insensitively)."""
    carrier = {key.lower(): value for key, value in (headers or {}).items()}
    return W3C_PROPAGATOR.extract(carrier)


def tracer(name: str = "vanthu") -> trace.Tracer:
    return trace.get_tracer(name)


def current_trace_ids() -> tuple[str, str] | None:
    """(trace id, span id) in hex of the current span, or None outside any span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format_trace_id(context.trace_id), format_span_id(context.span_id)


def instrument_fastapi(app: Any, *, excluded_urls: str = "healthz,readyz,metrics") -> None:
    """Server spans for every request except probes and scrapes.

    `exclude_spans` drops the per-chunk "http send"/"http receive" spans, which
    add nothing but volume.
    """
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls=excluded_urls, exclude_spans=["receive", "send"])


# --------------------------------------------------------------------------- threads and context
#
# The current span lives in a contextvar. `asyncio.to_thread` copies the
# caller's contextvars into the worker thread, so spans started there are
# children of the caller's span. `loop.run_in_executor` does NOT copy them: code
# run there (pyHanko's PKCS#11 signer calls `key.sign` that way) starts new
# root traces and logs without trace ids. Use `run_in_thread`, wrap the
# callable with `context_preserving`, or make the loop's default executor one
# that copies context (`install_context_preserving_executor`).


async def run_in_thread(func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a blocking call in a worker thread, keeping the current trace context."""
    return await asyncio.to_thread(func, *args, **kwargs)


def context_preserving(func: Callable[P, R]) -> Callable[P, R]:
    """Bind `func` to the contextvars of the moment it is wrapped.

    Wrap on the event-loop side, call anywhere: `loop.run_in_executor(None,
    context_preserving(sign), data)`. Each call runs in its own copy of the
    captured context, so the wrapper may be called concurrently.
    """
    captured = contextvars.copy_context()

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return captured.copy().run(func, *args, **kwargs)

    return wrapper


class ContextPreservingThreadPoolExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's contextvars."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def install_context_preserving_executor(
    loop: asyncio.AbstractEventLoop | None = None, *, max_workers: int | None = None
) -> ContextPreservingThreadPoolExecutor:
    """Make `loop.run_in_executor(None, ...)` keep trace context, for libraries we cannot wrap.

    Call it at startup, before anything uses the default executor.
    """
    loop = loop or asyncio.get_running_loop()
    executor = ContextPreservingThreadPoolExecutor(
        max_workers=max_workers, thread_name_prefix="vanthu-worker"
    )
    loop.set_default_executor(executor)
    return executor
