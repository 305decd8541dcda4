"""Tracing: spans reach the JSON-lines file, W3C context crosses headers, threads and processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from vanthu_runtime.telemetry import (
    context_preserving,
    current_trace_ids,
    extract_context,
    inject_headers,
    install_context_preserving_executor,
    instrument_fastapi,
    run_in_thread,
    setup_tracing,
    shutdown_tracing,
    tracer,
)


def read_spans(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def spans_named(path: Path, name: str) -> list[dict]:
    return [span for span in read_spans(path) if span["name"] == name]


@pytest.fixture
def spans_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "spans" / "test.jsonl"
    setup_tracing("vanthu-test", exporter=f"jsonl:{path}", instance="test-1")
    yield path
    shutdown_tracing()


def test_jsonl_exporter_writes_parent_and_child_with_one_trace_id(spans_file: Path) -> None:
    with tracer().start_as_current_span("register document") as parent:
        with tracer("vanthu.registry").start_as_current_span("store file", attributes={"size": 42}):
            pass
        # The child is on disk as soon as it ends, before the parent finishes.
        assert [span["name"] for span in read_spans(spans_file)] == ["store file"]
    parent_id = format(parent.get_span_context().span_id, "016x")

    child, root = spans_named(spans_file, "store file")[0], spans_named(spans_file, "register document")[0]
    assert child["trace_id"] == root["trace_id"] == format(parent.get_span_context().trace_id, "032x")
    assert child["parent_span_id"] == root["span_id"] == parent_id
    assert root["parent_span_id"] is None
    assert child["service.name"] == "vanthu-test"
    assert child["service.instance.id"] == "test-1"
    assert child["attributes"] == {"size": 42}
    assert child["kind"] == "INTERNAL"
    assert child["start_ns"] <= child["end_ns"]
    assert child["status"]["code"] == "UNSET"


def test_jsonl_exporter_records_errors(spans_file: Path) -> None:
    with pytest.raises(ValueError), tracer().start_as_current_span("failing step"):
        raise ValueError("bad input")
    (span,) = spans_named(spans_file, "failing step")
    assert span["status"]["code"] == "ERROR"
    assert span["events"][0]["name"] == "exception"


def test_inject_then_extract_keeps_the_trace_id_and_baggage(spans_file: Path) -> None:
    token = otel_context.attach(baggage.set_baggage("agency", "000.00.12.H53"))
    try:
        with tracer().start_as_current_span("publish") as producer:
            headers = inject_headers({"Nats-Msg-Id": "evt-1"})
    finally:
        otel_context.detach(token)
    producer_context = producer.get_span_context()
    assert headers["Nats-Msg-Id"] == "evt-1"
    assert headers["traceparent"].split("-")[1] == format(producer_context.trace_id, "032x")
    assert "agency=000.00.12.H53" in headers["baggage"]

    # NATS keeps header names as written; W3C says they are case-insensitive.
    shouted = {key.upper(): value for key, value in headers.items()}
    for carrier in (headers, shouted):
        extracted = extract_context(carrier)
        assert baggage.get_baggage("agency", extracted) == "000.00.12.H53"
        with tracer().start_as_current_span("consume", context=extracted) as consumer:
            assert consumer.get_span_context().trace_id == producer_context.trace_id
    consumers = spans_named(spans_file, "consume")
    assert [span["parent_span_id"] for span in consumers] == [format(producer_context.span_id, "016x")] * 2


def test_extract_without_headers_starts_a_new_trace(spans_file: Path) -> None:
    with tracer().start_as_current_span("outer") as outer:
        with tracer().start_as_current_span("fresh", context=extract_context(None)) as fresh:
            assert fresh.get_span_context().trace_id != outer.get_span_context().trace_id


def test_current_trace_ids_inside_and_outside_spans(spans_file: Path) -> None:
    assert current_trace_ids() is None
    with tracer().start_as_current_span("work") as span:
        context = span.get_span_context()
        assert current_trace_ids() == (format(context.trace_id, "032x"), format(context.span_id, "016x"))


def test_headers_without_a_span_carry_no_traceparent(spans_file: Path) -> None:
    assert "traceparent" not in inject_headers()


async def test_context_survives_run_in_thread(spans_file: Path) -> None:
    def blocking_step() -> tuple[str, str] | None:
        with tracer().start_as_current_span("hash file"):
            return current_trace_ids()

    with tracer().start_as_current_span("upload") as parent:
        ids = await run_in_thread(blocking_step)
    assert ids is not None
    assert ids[0] == format(parent.get_span_context().trace_id, "032x")
    (child,) = spans_named(spans_file, "hash file")
    assert child["parent_span_id"] == format(parent.get_span_context().span_id, "016x")


async def test_context_preserving_carries_context_into_run_in_executor(spans_file: Path) -> None:
    loop = asyncio.get_running_loop()
    with tracer().start_as_current_span("sign") as parent:
        # Plain run_in_executor loses the context: this is the pitfall being fixed.
        assert await loop.run_in_executor(None, current_trace_ids) is None
        wrapped = context_preserving(current_trace_ids)
        # The same wrapper may run twice at once (each call gets its own copy of the context).
        results = await asyncio.gather(
            loop.run_in_executor(None, wrapped), loop.run_in_executor(None, wrapped)
        )
    expected = format(parent.get_span_context().trace_id, "032x")
    assert [ids[0] if ids else None for ids in results] == [expected, expected]


def test_context_preserving_default_executor_for_library_calls(spans_file: Path) -> None:
    """pyHanko calls `loop.run_in_executor(None, ...)` itself; the default executor must copy context."""

    async def library_call() -> tuple[str, str] | None:
        return await asyncio.get_running_loop().run_in_executor(None, current_trace_ids)

    async def scenario() -> tuple[str, tuple[str, str] | None]:
        install_context_preserving_executor()
        with tracer().start_as_current_span("seal") as span:
            return format(span.get_span_context().trace_id, "032x"), await library_call()

    loop = asyncio.new_event_loop()
    try:
        expected, seen = loop.run_until_complete(scenario())
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    assert seen is not None and seen[0] == expected


def test_setup_twice_same_arguments_returns_the_same_provider(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    first = setup_tracing("svc", exporter=f"jsonl:{path}")
    try:
        assert setup_tracing("svc", exporter=f"jsonl:{path}") is first
        assert trace.get_tracer_provider() is not None
    finally:
        shutdown_tracing()


def test_setup_again_replaces_the_exporter_for_tracers_handed_out_before(tmp_path: Path) -> None:
    first_file, second_file = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    setup_tracing("registry", exporter=f"jsonl:{first_file}")
    long_lived = tracer("vanthu.long_lived")  # e.g. captured by an instrumentation at startup
    with long_lived.start_as_current_span("before"):
        pass
    setup_tracing("routing", exporter=f"jsonl:{second_file}")
    try:
        with long_lived.start_as_current_span("after"):
            pass
    finally:
        shutdown_tracing()
    assert [span["name"] for span in read_spans(first_file)] == ["before"]
    assert [(span["name"], span["service.name"]) for span in read_spans(second_file)] == [
        ("after", "routing")
    ]


def test_after_shutdown_spans_are_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    setup_tracing("svc", exporter=f"jsonl:{path}")
    shutdown_tracing()
    with tracer().start_as_current_span("ignored") as span:
        assert not span.is_recording()
    assert read_spans(path) == []


def test_sampling_ratio_zero_still_follows_a_sampled_parent(tmp_path: Path) -> None:
    path = tmp_path / "sampled.jsonl"
    setup_tracing("svc", exporter=f"jsonl:{path}", sample_ratio=0.0)
    try:
        with tracer().start_as_current_span("root not sampled") as root:
            assert not root.is_recording()
        sampled_parent = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
        with tracer().start_as_current_span("child of sampled", context=extract_context(sampled_parent)):
            pass
    finally:
        shutdown_tracing()
    (span,) = read_spans(path)
    assert span["name"] == "child of sampled"
    assert span["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert span["parent_span_id"] == "b7ad6b7169203331"


def test_exporter_none_still_gives_trace_ids_for_logs() -> None:
    setup_tracing("svc", exporter="none")
    try:
        with tracer().start_as_current_span("work") as span:
            assert span.is_recording()
            assert current_trace_ids() is not None
    finally:
        shutdown_tracing()


def test_unknown_exporter_and_bad_ratio_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown trace exporter"):
        setup_tracing("svc", exporter="zipkin")
    with pytest.raises(ValueError, match="unknown trace exporter"):
        setup_tracing("svc", exporter="jsonl:")
    with pytest.raises(ValueError, match="sample_ratio"):
        setup_tracing("svc", exporter="none", sample_ratio=1.5)


CHILD_PROCESS = """
import sys
from vanthu_runtime.telemetry import setup_tracing, shutdown_tracing, tracer, extract_context
setup_tracing("second-process", exporter="jsonl:" + sys.argv[1])
with tracer().start_as_current_span("handle message", context=extract_context({"traceparent": sys.argv[2]})):
    pass
shutdown_tracing()
"""


def test_trace_id_flows_into_another_process(spans_file: Path, tmp_path: Path) -> None:
    child_file = tmp_path / "child.jsonl"
    with tracer().start_as_current_span("publish") as parent:
        headers = inject_headers()
        subprocess.run(
            [sys.executable, "-c", CHILD_PROCESS, str(child_file), headers["traceparent"]],
            check=True,
            timeout=60,
        )
    (remote,) = read_spans(child_file)
    assert remote["service.name"] == "second-process"
    assert remote["trace_id"] == format(parent.get_span_context().trace_id, "032x")
    assert remote["parent_span_id"] == format(parent.get_span_context().span_id, "016x")


async def test_fastapi_server_spans_continue_the_caller_trace_and_skip_probes(spans_file: Path) -> None:
    app = FastAPI()

    @app.get("/documents/{document_id}")
    async def read_document(document_id: str) -> dict[str, str | None]:
        ids = current_trace_ids()
        return {"document_id": document_id, "trace_id": ids[0] if ids else None}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    instrument_fastapi(app)
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://registry"
    ) as client:
        response = await client.get(
            "/documents/d-1", headers={"traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"}
        )
        assert (await client.get("/healthz")).status_code == 200
    assert response.json() == {"document_id": "d-1", "trace_id": caller_trace}

    spans = read_spans(spans_file)
    (server,) = [span for span in spans if span["kind"] == "SERVER"]
    assert server["name"] == "GET /documents/{document_id}"
    assert server["trace_id"] == caller_trace
    assert server["parent_span_id"] == "00f067aa0ba902b7"
    assert server["attributes"]["http.route"] == "/documents/{document_id}"
    # No probe spans, and no per-chunk "http send"/"http receive" spans.
    assert len(spans) == 1


class _CollectorHandler(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return  # keep pytest output clean; the test asserts on what was received


def test_otlp_exporter_posts_spans_to_a_collector() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CollectorHandler)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        setup_tracing("interop", exporter="otlp", endpoint=f"http://127.0.0.1:{server.server_port}/")
        with tracer().start_as_current_span("send edxml"):
            pass
        shutdown_tracing()  # flushes the batch processor
    finally:
        server.shutdown()
        server.server_close()

    received = server.received  # type: ignore[attr-defined]
    assert [path for path, _ in received] == ["/v1/traces"]
    request = ExportTraceServiceRequest.FromString(received[0][1])
    resource_spans = request.resource_spans[0]
    service = {attr.key: attr.value.string_value for attr in resource_spans.resource.attributes}
    assert service["service.name"] == "interop"
    assert [span.name for span in resource_spans.scope_spans[0].spans] == ["send edxml"]
