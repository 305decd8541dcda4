"""Hostile answers from the national axis, over real HTTP on loopback, to the axis client.

Whatever the axis (or something posing as it) answers, the client raises AxisUnavailable (try
again later) or AxisRefused (it said no) — the two errors the poller and the send worker know
how to handle — and never anything else, in bounded time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fuzz_checks import Timings, draw_examples
from hypothesis import strategies as st

from vanthu_interop.axis.client import AxisClient, AxisConnection, AxisError

NESTED = b"[" * 200_000 + b"]" * 200_000


@dataclass
class FakeAxis:
    """Answers every request with `body` and `status` (set per case)."""

    url: str
    body: bytes = b""
    status: int = 200
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def fake_axis() -> Iterator[FakeAxis]:
    holder: list[FakeAxis] = []

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            axis = holder[0]
            axis.requests.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(axis.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(axis.body)))
            self.end_headers()
            self.wfile.write(axis.body)

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    holder.append(FakeAxis(f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()


HAND_MADE = {
    "empty": b"",
    "html": b"<html><body>502 Bad Gateway</body></html>",
    "not_an_object": b'["status", "OK"]',
    "deeply_nested_value": b'{"status":"OK","data":' + NESTED + b"}",
    "deeply_nested_other_field": b'{"x":' + NESTED + b',"status":"OK","data":"QQ=="}',
    "deeply_nested_top": NESTED,
    "invalid_utf8": b'{"status":"OK","data":"\xff\xfe\xfd"}',
    "bad_unicode_escape": b'{"status":"OK","data":"\\uZZZZ"}',
    "lone_surrogate": b'{"status":"OK","data":"\\ud800"}',
    "bad_escape": b'{"status":"OK","data":"\\q"}',
    "truncated": b'{"status":"OK","data":"QUJD',
    "data_is_number": b'{"status":"OK","data":12345}',
    "data_is_object": b'{"status":"OK","data":{"a":1}}',
    "data_is_list_of_junk": b'{"status":"OK","data":[1,"x",null,{"docId":null},{"docId":{"a":1}}]}',
    "base64_garbage": b'{"status":"OK","data":"!!!!@@@@"}',
    "base64_one_char_left": b'{"status":"OK","data":"QUJDR"}',
    "huge_small_field": b'{"ErrorDesc":"' + b"x" * (3 << 20) + b'","status":"OK","data":"QQ=="}',
    "huge_number": b'{"status":"OK","n":' + b"9" * 100_000 + b',"data":"QQ=="}',
    "trailing_garbage": b'{"status":"OK","data":"QQ=="}garbage',
    "fail_with_junk": b'{"status":"FAIL","ErrorCode":{"x":[1,2]},"ErrorDesc":["a"]}',
    "status_not_string": b'{"status":{"ok":true},"data":"QQ=="}',
}


async def _every_operation(client: AxisClient, tmp_path: Path) -> list[str]:
    """Each operation that reads an answer; returns what ended in anything but AxisError or success."""
    escaped = []
    for name, call in (
        ("getEdoc", lambda: client.get_edoc("doc-1", tmp_path / "packet.edxml")),
        ("getReceivedEdocList", lambda: client.get_received_edoc_list("edoc")),
        ("getSentEdocList", lambda: client.get_sent_edoc_list("edoc")),
        ("getAgenciesListQD20", lambda: client.get_agencies_list_qd20()),
        ("updateStatus", lambda: client.update_status("doc-1", "done")),
    ):
        try:
            await call()
        except AxisError:
            pass
        except Exception as exc:
            escaped.append(f"{name}: {type(exc).__name__}: {str(exc)[:120]}")
    return escaped


async def test_hostile_axis_answers_end_in_axis_errors(
    fake_axis: FakeAxis, tmp_path: Path, long_run: bool
) -> None:
    client = AxisClient(AxisConnection(fake_axis.url, "00.41.W00", "c2VjcmV0", timeout_s=10))
    generated = draw_examples(
        st.one_of(
            st.binary(max_size=300),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                lambda inner: (
                    st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
                ),
                max_leaves=20,
            ).map(lambda value: json.dumps({"status": "OK", "data": value}).encode()),
        ),
        1000 if long_run else 150,
    )
    cases = list(HAND_MADE.items()) + [(f"generated #{i}", body) for i, body in enumerate(generated)]  # type: ignore[misc]
    timings = Timings()
    escaped: list[str] = []
    try:
        for status in (200, 404, 500):
            fake_axis.status = status
            for name, body in cases:
                fake_axis.body = body  # type: ignore[assignment]
                with timings.case(f"{name} (HTTP {status})"):
                    escaped += [
                        f"{name} (HTTP {status}) {e}" for e in await _every_operation(client, tmp_path)
                    ]
    finally:
        await client.aclose()
    print(f"\naxis answers: {timings.summary()}")
    assert not escaped, "\n".join(escaped[:20])
    timings.assert_within_budget()
    assert len(fake_axis.requests) == 5 * 3 * len(cases)  # every call reached the server
