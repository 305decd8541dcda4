"""`wire.decode` accepts, rejects and reads exactly what `RawEnvelope` does; the province's day of
an instant by integer arithmetic is the time zone's."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from vanthu_analytics import wire
from vanthu_analytics.domain.facts import VIETNAM, day_of_epoch, local_day
from vanthu_analytics.domain.mapping import MAPPINGS, view_of
from vanthu_analytics.generator import province_year
from vanthu_analytics.wire import decode
from vanthu_contracts.envelope import RawEnvelope


def _outcome(decoder, body: bytes) -> Any:
    try:
        return decoder(body)
    except ValidationError as exc:
        return ("rejected", type(exc).__name__)


def _same(body: bytes) -> None:
    expected = _outcome(lambda b: view_of(RawEnvelope.model_validate_json(b)), body)
    got = _outcome(decode, body)
    assert got == expected, body
    if not isinstance(got, tuple) or got[0] != "rejected":
        assert got.occurred_at.tzinfo is UTC


@pytest.fixture(scope="module")
def province() -> list[dict[str, Any]]:
    """Every event type the generator makes, as the platform writes them."""
    return [json.loads(e.model_dump_json()) for e in province_year(units=30, users=120, events=3000, seed=11)]


def test_the_platforms_own_events_read_the_same(
    province: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len({e["type"] for e in province}) >= 10
    assert all(e["type"] in MAPPINGS for e in province)
    bodies = [json.dumps(event, ensure_ascii=False).encode() for event in province]
    for body in bodies:
        _same(body)
    monkeypatch.setattr(wire, "RawEnvelope", None)  # and without falling back to the model once
    assert [decode(body).id for body in bodies] == [event["id"] for event in province]


ODD_FIELDS: list[tuple[str, Any]] = [
    ("id", "6F9619FF-8B86-D011-B42D-00C04FC964FF"),  # upper case: RawEnvelope normalises it
    ("id", "{6f9619ff-8b86-d011-b42d-00c04fc964ff}"),
    ("id", "6f9619ff8b86d011b42d00c04fc964ff"),
    ("id", "not-a-uuid"),
    ("id", 12),
    ("version", "1"),
    ("version", 1.0),
    ("version", 0),
    ("version", True),
    ("version", 2),
    ("version", None),
    ("occurred_at", "2026-10-05T01:30:00+07:00"),
    ("occurred_at", "2026-10-05T01:30:00.5Z"),
    ("occurred_at", "2026-10-05T01:30:00.1234567Z"),
    ("occurred_at", "2026-10-05T01:30:00"),  # no zone: rejected
    ("occurred_at", "2026-10-05 01:30:00Z"),
    ("occurred_at", "2026-02-30T01:30:00Z"),
    ("occurred_at", "2026-10-05T25:30:00Z"),
    ("occurred_at", "2026-10-05T01:30:00-23:59"),
    ("occurred_at", "2026-10-05T01:30:00+24:00"),
    ("occurred_at", 1791163800),
    ("occurred_at", "2026-10-05T01:30:00z"),
    ("source", "elsewhere"),
    ("source", "test"),
    ("source", None),
    ("type", 7),
    ("agency", None),
    ("agency", 5),
    ("actor", None),
    ("actor", ""),
    ("on_behalf_of", "u-2"),
    ("on_behalf_of", 3),
    ("correlation_id", None),
    ("correlation_id", ["x"]),
    ("payload", []),
    ("payload", None),
    ("payload", {"nested": {"n": 1.5, "big": 2**70, "list": [None, True, "ư"]}}),
    ("surprise", "an extra field"),
]


@pytest.mark.parametrize(("name", "value"), ODD_FIELDS, ids=[f"{n}={v!r}" for n, v in ODD_FIELDS])
def test_every_other_shape_is_read_or_rejected_as_rawenvelope_does(
    province: list[dict[str, Any]], name: str, value: Any
) -> None:
    event = dict(province[-1])
    event[name] = value
    _same(json.dumps(event).encode())


@pytest.mark.parametrize("name", ["id", "version", "occurred_at", "source", "agency", "actor", "payload"])
def test_a_missing_field_is_read_or_rejected_as_rawenvelope_does(
    province: list[dict[str, Any]], name: str
) -> None:
    event = dict(province[-1])
    del event[name]
    body = json.dumps(event).encode()
    if name in ("id", "occurred_at"):  # RawEnvelope fills in a new id or now: compare the rest
        got = decode(body)
        expected = view_of(RawEnvelope.model_validate_json(body))
        assert got._replace(id="", occurred_at=None) == expected._replace(id="", occurred_at=None)
    else:
        _same(body)


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[]", b"null", b'"text"', b"{}", b'{"payload": NaN}', '{"t": "ư"}'.encode()]
)
def test_what_is_not_an_envelope_is_rejected(body: bytes) -> None:
    with pytest.raises(ValidationError):
        decode(body)
    _same(body)


def test_a_day_by_arithmetic_is_the_time_zones_day() -> None:
    def zone_day(seconds: float) -> date:
        return datetime.fromtimestamp(seconds, VIETNAM).date()

    rng = random.Random(5)
    edges = [datetime(1976, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)]
    instants = [edge.timestamp() + hours * 3600 for edge in edges for hours in range(-72, 73)]
    instants += [rng.uniform(edges[0].timestamp(), edges[1].timestamp()) for _ in range(20_000)]
    instants += [
        datetime(1960, 6, 1, tzinfo=UTC).timestamp(),
        datetime(2150, 1, 1, 16, 59, tzinfo=UTC).timestamp(),
    ]
    for seconds in instants:
        assert day_of_epoch(seconds) == zone_day(seconds), seconds
    # Local midnight is 17:00 UTC.
    midnight = datetime(2026, 10, 4, 17, 0, tzinfo=UTC)
    assert local_day(midnight - timedelta(microseconds=1)) == date(2026, 10, 4)
    assert local_day(midnight) == date(2026, 10, 5)
    assert local_day(datetime(2026, 10, 5, 0, 0, tzinfo=UTC).astimezone(VIETNAM)) == date(2026, 10, 5)
