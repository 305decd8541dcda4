"""Structured logs: one JSON object per line, with the trace id, secrets masked.

`setup_logging(service)` configures the stdlib root logger once per process
(calling it again replaces vanthu's handler, it never adds a second one).
Libraries keep using `logging.getLogger(__name__)`.

Redaction happens in two places, because a secret must not reach *any*
handler (pytest's caplog, a handler a library adds) and not only ours:
- a log-record factory masks the message text as each record is created;
- a filter on vanthu's handler masks `extra=` fields, nested dicts included,
  and the formatter masks exception text.
"""

from __future__ import annotations

import itertools
import json as jsonlib
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

from vanthu_runtime.telemetry import current_trace_ids

__all__ = ["JsonFormatter", "RedactionFilter", "redact_text", "redact_value", "setup_logging"]

MASK = "***"

# Parts of a field name that mark its value as secret. Matched on the name's
# words (split on _ - . and camelCase) so "so_pin" and "userPin" are caught but
# "mapping", "typing" or "secrecy" (độ mật, a document field) are not.
_SECRET_WORDS = {
    "password",
    "passwd",
    "pwd",
    "pin",
    "secret",
    "token",
    "authorization",
    "cookie",
    "passphrase",
}
_SECRET_PAIRS = {("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"), ("set", "cookie")}
_SECRET_JOINED = {
    "apikey",
    "accesskey",
    "privatekey",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "clientsecret",
}

# Words that make a key name what happened to a secret rather than hold one. In prose,
# "wrong_pin: PinIncorrect" or "pin_locked: PinLocked" give a reason (how HsmError and the
# error codes write it), so the text after them is kept; an assignment ("wrong_pin=…") or a
# quoted key ('"wrong_pin": …', as JSON and dict reprs write values) is still masked.
_CONDITION_WORDS = {
    "wrong",
    "invalid",
    "incorrect",
    "locked",
    "expired",
    "missing",
    "required",
    "mismatch",
    "rejected",
    "refused",
}

# The random tail of an identifier (a UUID's or a hex suffix, a number): field names never end in one.
_GENERATED_ID = re.compile(r"(?=[0-9a-f]*[0-9])[0-9a-f]{6,}")

# key=value, key: value, "key": "value", 'key': 'value' inside free text.
_KEY_VALUE = re.compile(
    r"""(?P<key>[A-Za-z][A-Za-z0-9_.-]*)(?P<sep>["']?\s*[:=]\s*)"""
    r"""(?P<value>(?:(?:Bearer|Basic)\s+)?(?:"[^"]*"|'[^']*'|[^\s,;&'"}\])]+))"""
)
_BEARER = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# A JWT: header and payload are base64url JSON objects, so both start with "eyJ"
# ('{"'). A looser "three dotted segments" rule would also eat NATS subjects and
# agency codes (000.00.12.H53), which logs must keep.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL
)
_WORD_SPLIT = re.compile(r"[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])")


def is_secret_key(key: str) -> bool:
    """Whether a field called `key` holds a secret (password, PIN, token, API key …)."""
    words = [word.lower() for word in _WORD_SPLIT.split(key) if word]
    if not words:
        return False
    if any(word in _SECRET_WORDS or word in _SECRET_JOINED for word in words):
        return True
    if "".join(words) in _SECRET_JOINED:
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


def redact_text(text: str) -> str:
    """Mask secrets in free text: key=value pairs with secret keys, bearer tokens, JWTs, PEM keys."""
    if not text:
        return text
    text = _PEM_PRIVATE_KEY.sub(MASK, text)
    text = _mask_key_values(text)
    text = _BEARER.sub(lambda match: f"{match.group(1)} {MASK}", text)
    return _JWT.sub(MASK, text)


def _mask_key_values(text: str) -> str:
    # A scan rather than re.sub: after a key that is not secret, carry on from
    # its value, which may itself hold a pair ("url=https://x?access_token=…").
    parts: list[str] = []
    position = 0
    while match := _KEY_VALUE.search(text, position):
        if is_secret_key(match.group("key")) and not _names_a_condition(match):
            value = match.group("value")
            quote = value[0] if value[:1] in {'"', "'"} else ""
            parts.append(f"{text[position : match.start('value')]}{quote}{MASK}{quote}")
            position = match.end()
        else:
            parts.append(text[position : match.end("sep")])
            position = match.end("sep")
    parts.append(text[position:])
    return "".join(parts)


def _names_a_condition(match: re.Match[str]) -> bool:
    """A label in prose, not a secret's name: `wrong_pin: PinIncorrect` (a reason) or
    `job sxd-sai-pin-3f9a2b1c: …` (an identifier that happens to contain "pin")."""
    if match.group("sep").strip() != ":":  # "=" assigns; a quote before ":" closes a JSON/dict key
        return False
    words = [word.lower() for word in _WORD_SPLIT.split(match.group("key")) if word]
    return bool(set(words) & _CONDITION_WORDS) or bool(words and _GENERATED_ID.fullmatch(words[-1]))


def redact_value(value: Any, _depth: int = 0) -> Any:
    """Mask secret keys inside dicts/lists (any depth) and secrets inside strings."""
    if _depth > 8:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: MASK if isinstance(key, str) and is_secret_key(key) else redact_value(item, _depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item, _depth + 1) for item in value]
    return value


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "trace_id",
    "span_id",
    "_vanthu_redacted",
}


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}


class RedactionFilter(logging.Filter):
    """Masks secrets in a record's message and `extra=` fields (in place, so later handlers see it masked)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_message(record)
        for key, value in extra_fields(record).items():
            setattr(record, key, MASK if is_secret_key(key) else redact_value(value))
        return True


class TraceContextFilter(logging.Filter):
    """Puts the current span's ids on the record (runs in the logging thread, where the span is current)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = current_trace_ids()
        record.trace_id, record.span_id = ids if ids else (None, None)
        return True


def _redact_message(record: logging.LogRecord) -> None:
    if getattr(record, "_vanthu_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not lose the record; logging reports it later
        return
    record.msg, record.args = redact_text(message), ()
    record._vanthu_redacted = True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, service, trace_id, span_id, exc, extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _iso_utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "service": self.service,
            "trace_id": getattr(record, "trace_id", None),
            "span_id": getattr(record, "span_id", None),
        }
        if record.exc_info:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            entry["exc"] = redact_text(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact_text(record.stack_info)
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)
        return jsonlib.dumps(entry, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    """A readable line for a terminal: time, level, logger, message, extras, short trace id."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{key}={value!r}" for key, value in extra_fields(record).items())
        trace_id = getattr(record, "trace_id", None)
        line = (
            f"{datetime.fromtimestamp(record.created, UTC):%H:%M:%S.%f}"[:-3]
            + f" {record.levelname:<7} {self.service} {record.name}: {record.getMessage()}"
            + (f"  {extras}" if extras else "")
            + (f"  [trace {trace_id[:8]}]" if trace_id else "")
        )
        if record.exc_info:
            line += "\n" + redact_text("".join(traceback.format_exception(*record.exc_info)).rstrip())
        return line


def _iso_utc(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _VanthuHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler setup_logging installed, so a second call replaces it."""


# Loggers that are chatty at INFO and say nothing a service operator needs. httpx writes a line
# per request (interop's axis poll made two every few seconds); the request spans already have them.
NOISY_LOGGERS = {
    "uvicorn.access": logging.WARNING,
    "werkzeug": logging.WARNING,
    "nats": logging.WARNING,
    "httpx": logging.WARNING,
}


def setup_logging(
    service: str, *, level: str = "INFO", json: bool = True, stream: TextIO | None = None
) -> None:
    """Configure the root logger for `service`: JSON lines (or console text), redaction, trace ids."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _VanthuHandler)]:
        root.removeHandler(handler)
        handler.close()

    handler = _VanthuHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactionFilter())
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(JsonFormatter(service) if json else ConsoleFormatter(service))
    root.addHandler(handler)
    root.setLevel(level.upper())

    for name, noisy_level in NOISY_LOGGERS.items():
        logging.getLogger(name).setLevel(noisy_level)
    _install_redacting_record_factory()


def _install_redacting_record_factory() -> None:
    current = logging.getLogRecordFactory()
    if getattr(current, "_vanthu_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _redact_message(record)
        return record

    factory._vanthu_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
