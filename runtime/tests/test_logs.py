"""Structured logs: JSON lines with trace ids, and no secret survives into any log output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from vanthu_runtime.auth import DevTokenIssuer, Principal
from vanthu_runtime.logs import is_secret_key, redact_text, setup_logging
from vanthu_runtime.telemetry import current_trace_ids, setup_tracing, shutdown_tracing, tracer


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """setup_logging into a buffer; the root logger is put back as it was afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    setup_logging("registry", level="DEBUG", stream=stream)
    yield stream
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
    root.setLevel(saved_level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture(scope="module")
def real_jwt() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    issuer = DevTokenIssuer(pem, issuer="vanthu-dev", audience="vanthu")
    return issuer.mint(Principal(user_id="u-1", agency="000.00.12.H53", roles=["van_thu"]))


def test_json_line_has_the_fields_and_the_trace_id_inside_a_span(log_stream: io.StringIO) -> None:
    setup_tracing("registry", exporter="none")
    log = logging.getLogger("vanthu.registry.documents")
    try:
        with tracer().start_as_current_span("register"):
            ids = current_trace_ids()
            log.info("registered %s", "0001/2026", extra={"document_id": "d-1", "count": 3})
        log.warning("outside any span")
    finally:
        shutdown_tracing()

    inside, outside = lines(log_stream)
    assert ids is not None
    assert (inside["trace_id"], inside["span_id"]) == ids
    assert inside["msg"] == "registered 0001/2026"
    assert inside["level"] == "INFO"
    assert inside["logger"] == "vanthu.registry.documents"
    assert inside["service"] == "registry"
    assert inside["document_id"] == "d-1" and inside["count"] == 3
    timestamp = datetime.fromisoformat(inside["ts"].replace("Z", "+00:00"))
    assert timestamp.tzinfo == UTC and inside["ts"].endswith("Z")
    assert abs((datetime.now(UTC) - timestamp).total_seconds()) < 60
    assert outside["trace_id"] is None and outside["span_id"] is None


def test_exception_is_in_the_line(log_stream: io.StringIO) -> None:
    try:
        {}["missing"]
    except KeyError:
        logging.getLogger("vanthu").exception("lookup failed")
    (entry,) = lines(log_stream)
    assert entry["level"] == "ERROR"
    assert entry["exc_type"] == "KeyError"
    assert "Traceback" in entry["exc"] and "'missing'" in entry["exc"]


def test_values_that_are_not_json_are_logged_as_text(log_stream: io.StringIO) -> None:
    logging.getLogger("vanthu").info(
        "odd extra", extra={"when": datetime(2026, 1, 2, tzinfo=UTC), "ids": {1, 2}}
    )
    (entry,) = lines(log_stream)
    assert entry["when"] == "2026-01-02 00:00:00+00:00"
    assert sorted(entry["ids"]) == [1, 2]


def test_secrets_are_masked_in_messages_and_extra_fields(log_stream: io.StringIO, real_jwt: str) -> None:
    log = logging.getLogger("vanthu.signing")
    log.info("login user=an password=Hunter2! then pin: 123456")
    log.info("calling axis with %s", {"secret_key": "axis-s3cr3t", "client_id": "ubnd"})
    log.info("request headers Authorization: Bearer %s", real_jwt)
    log.info("forwarding token %s to interop", real_jwt)
    log.info("url https://axis.gov.vn/api?access_token=abcDEF123&page=2")
    log.info(
        "pkcs11 session",
        extra={
            "user_pin": "98765",
            "so_pin": "11111111",
            "config": {"nats_password": "natspw", "s3": {"s3_secret_key": "s3pw"}, "url": "nats://x"},
            "headers": [{"Authorization": f"Bearer {real_jwt}"}, {"Cookie": "session=abc"}],
            "note": f"jwt={real_jwt}",
        },
    )
    output = log_stream.getvalue()
    for secret in (
        "Hunter2!",
        "123456",
        "axis-s3cr3t",
        real_jwt,
        real_jwt.split(".")[1],
        "abcDEF123",
        "98765",
        "11111111",
        "natspw",
        "s3pw",
        "session=abc",
    ):
        assert secret not in output, secret

    entries = lines(log_stream)
    assert entries[0]["msg"] == "login user=an password=*** then pin: ***"
    assert entries[1]["msg"] == "calling axis with {'secret_key': '***', 'client_id': 'ubnd'}"
    assert entries[2]["msg"] == "request headers Authorization: ***"
    assert entries[3]["msg"] == "forwarding token *** to interop"
    assert entries[4]["msg"] == "url https://axis.gov.vn/api?access_token=***&page=2"
    extra = entries[5]
    assert extra["user_pin"] == "***" and extra["so_pin"] == "***"
    assert extra["config"] == {"nats_password": "***", "s3": {"s3_secret_key": "***"}, "url": "nats://x"}
    assert extra["headers"] == [{"Authorization": "***"}, {"Cookie": "***"}]


def test_private_keys_and_secrets_in_exceptions_are_masked(log_stream: io.StringIO) -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    try:
        raise RuntimeError("cannot open token with pin=424242")
    except RuntimeError:
        logging.getLogger("vanthu").exception("key was %s", pem)
    (entry,) = lines(log_stream)
    assert entry["msg"] == "key was ***"
    assert "424242" not in entry["exc"] and "pin=***" in entry["exc"]


def test_ordinary_values_are_left_alone(log_stream: io.StringIO) -> None:
    message = (
        "published vanthu.evt.registry.document.registered for agency 000.00.12.H53 "
        "secrecy=mat mapping=done typing=ok doc 45/UBND-VP"
    )
    logging.getLogger("vanthu").info(
        message, extra={"secrecy": "toi_mat", "token_count_hint": None} | {"kid": "k1"}
    )
    (entry,) = lines(log_stream)
    assert entry["msg"] == message
    assert entry["secrecy"] == "toi_mat" and entry["kid"] == "k1"


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("nats_password", True),
        ("PIN", True),
        ("userPin", True),
        ("so-pin", True),
        ("api_key", True),
        ("X-Api-Key", True),
        ("APIKey", True),
        ("accessKey", True),
        ("private_key", True),
        ("authorization", True),
        ("Set-Cookie", True),
        ("refresh_token", True),
        ("client_secret", True),
        ("secrecy", False),
        ("mapping", False),
        ("typing", False),
        ("key", False),
        ("kid", False),
        ("public_key", False),
        ("document_id", False),
        ("spinner", False),
    ],
)
def test_secret_key_names(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_redaction_reaches_handlers_other_than_ours(
    log_stream: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("vanthu.interop").info("axis login secret=%s", "axis-secret-value")
    assert "axis-secret-value" not in caplog.text
    assert caplog.records[-1].getMessage() == "axis login secret=***"


def test_setup_is_idempotent_and_the_console_format_is_readable(log_stream: io.StringIO) -> None:
    second = io.StringIO()
    setup_logging("routing", level="INFO", json=False, stream=second)
    root = logging.getLogger()
    assert sum(type(handler).__name__ == "_VanthuHandler" for handler in root.handlers) == 1

    logging.getLogger("vanthu.routing").info("assigned token=abc", extra={"handling_id": "h-1"})
    logging.getLogger("vanthu.routing").debug("not shown at INFO")
    assert log_stream.getvalue() == ""  # the first handler was replaced, not kept
    (line,) = second.getvalue().splitlines()
    assert "INFO" in line and "routing vanthu.routing: assigned token=***" in line
    assert "handling_id='h-1'" in line
    assert not line.startswith("{")


def test_noisy_loggers_are_quieted(log_stream: io.StringIO) -> None:
    assert logging.getLogger("uvicorn.access").level == logging.WARNING
    assert logging.getLogger("nats").level == logging.WARNING
    assert logging.getLogger("httpx").level == logging.WARNING
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /healthz" 200')
    assert log_stream.getvalue() == ""


def test_redact_text_masks_jwts_but_not_dotted_names(real_jwt: str) -> None:
    assert redact_text(f"got {real_jwt}.") == "got ***."
    assert redact_text("vanthu.evt.signing.document.signed") == "vanthu.evt.signing.document.signed"


def test_redact_text_keeps_scanning_after_a_harmless_key() -> None:
    assert redact_text("typing: pin=1234 mapping=ok") == "typing: pin=*** mapping=ok"
    assert redact_text('{"note": "x", "password": "p w"}') == '{"note": "x", "password": "***"}'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Reasons in prose: what went wrong with a PIN is not the PIN.
        ("job j-1: HsmError('wrong_pin: PinIncorrect')", "job j-1: HsmError('wrong_pin: PinIncorrect')"),
        ("HsmError('pin_locked: PinLocked')", "HsmError('pin_locked: PinLocked')"),
        (
            "wrong_pin: differs from the PIN this token is logged in with",
            "wrong_pin: differs from the PIN this token is logged in with",
        ),
        ("token_expired: renew it", "token_expired: renew it"),
        # An identifier is not a field name, even when "pin" is one of its words.
        ("job sxd-sai-pin-3f9a2b1c: HsmError('x')", "job sxd-sai-pin-3f9a2b1c: HsmError('x')"),
        ("profile sxd-sai-pin: 1234", "profile sxd-sai-pin: ***"),
        ("token-3f9a2b1c=abc", "token-3f9a2b1c=***"),
        # Values are still masked, whatever the key says about them.
        ("wrong_pin=Wrong-Pin-9Jm2Ds6B", "wrong_pin=***"),
        ('{"wrong_pin": "Wrong-Pin-9Jm2Ds6B"}', '{"wrong_pin": "***"}'),
        ("{'old_pin': '1234'}", "{'old_pin': '***'}"),
        ("pin: 1234", "pin: ***"),
        ("new_password: hunter2", "new_password: ***"),
    ],
)
def test_a_reason_about_a_secret_is_kept_and_its_value_is_not(text: str, expected: str) -> None:
    assert redact_text(text) == expected
