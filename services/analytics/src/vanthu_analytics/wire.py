"""Envelopes off the wire for the fact pipeline: what `RawEnvelope` accepts, read faster.

The kit's consumer validates each message into a `RawEnvelope` (a pydantic model: a UUID object,
an aware datetime, two validators in Python); once the pipeline itself was cheap that was the
largest cost per event. The pipeline needs only a few envelope fields, so `decode` parses the JSON
once with pydantic-core's parser and checks the shape every producer on the platform writes: a
lower-case UUID string, an RFC 3339 time with its offset, a known source, values of the exact JSON
types. A message of any other shape — another spelling of a UUID or a time, a number in a string,
a missing or unknown field, not JSON at all — goes through `RawEnvelope.model_validate_json` as
before. So the same messages are accepted and rejected (the kit dead-letters what `decode`
raises on), with the same values (tests/test_analytics_wire.py compares the two).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic_core import from_json

from vanthu_analytics.domain.mapping import EventView, view, view_of
from vanthu_contracts.envelope import RawEnvelope
from vanthu_contracts.subjects import SERVICES

_FIELDS = frozenset(RawEnvelope.model_fields)
_SOURCES = frozenset((*SERVICES, "test"))
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch
_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
).fullmatch


def decode(data: bytes) -> EventView:
    """A message body as the pipeline reads it; raises ValidationError if `RawEnvelope` would."""
    try:
        fields = from_json(data)
    except ValueError:
        fields = None
    fast = _plain(fields) if type(fields) is dict else None
    return fast if fast is not None else view_of(RawEnvelope.model_validate_json(data))


def _plain(f: dict[str, Any]) -> EventView | None:
    """The view of an envelope of the common shape, or None to leave it to `RawEnvelope`."""
    if not f.keys() <= _FIELDS:
        return None
    try:
        event_id, event_type, at, source, payload = (
            f["id"],
            f["type"],
            f["occurred_at"],
            f["source"],
            f["payload"],
        )
    except KeyError:
        return None
    version, actor, agency = f.get("version", 1), f.get("actor", "system"), f.get("agency")
    on_behalf_of, correlation_id = f.get("on_behalf_of"), f.get("correlation_id")
    if not (
        type(event_id) is str
        and _UUID(event_id)
        and type(event_type) is str
        and type(at) is str
        and _TIME(at)
        and type(source) is str
        and source in _SOURCES
        and type(version) is int
        and version >= 1
        and type(actor) is str
        and type(payload) is dict
        and (agency is None or type(agency) is str)
        and (on_behalf_of is None or type(on_behalf_of) is str)
        and (correlation_id is None or type(correlation_id) is str)
    ):
        return None
    try:
        occurred_at = datetime.fromisoformat(at).astimezone(UTC)
    except ValueError:  # e.g. 25:00 or 30 February: RawEnvelope says why
        return None
    return view(event_id, event_type, version, occurred_at, agency, actor, payload)
