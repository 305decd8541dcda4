"""Pure rules: the mapping table covers the contracts, periods, percentiles, merges, flags."""

from __future__ import annotations

import random
from datetime import date

import pytest

from vanthu_analytics.domain.durations import (
    LAST_BUCKET,
    MEDIAN,
    P90,
    RELATIVE_PRECISION,
    SUB_BUCKETS,
    bucket_bounds,
    bucket_of,
    bucket_value,
    in_bucket_order,
    percentiles,
)
from vanthu_analytics.domain.facts import DOCUMENTS
from vanthu_analytics.domain.flags import Thresholds, register_only, scan_and_send, usage_score
from vanthu_analytics.domain.mapping import MAPPINGS, MEASURES
from vanthu_analytics.domain.periods import Period, PeriodError, percentile, subtree
from vanthu_analytics.ingest import merge_sql
from vanthu_contracts.spec import events


def test_every_contract_event_has_a_mapping_of_its_version() -> None:
    contracts = events()
    assert set(contracts) == set(MAPPINGS), "add the new event types to domain/mapping.py"
    assert all(MAPPINGS[t].max_version >= spec.version for t, spec in contracts.items())


def test_measures_have_labels() -> None:
    assert all(label and name == name.lower() for name, label in MEASURES.items())


def test_periods() -> None:
    october = Period.of_month("2026-10")
    assert (october.start, october.end, october.days, october.whole_months) == (
        date(2026, 10, 1),
        date(2026, 10, 31),
        31,
        True,
    )
    assert Period.of_month("2026-02").end == date(2026, 2, 28)
    assert not Period(date(2026, 10, 2), date(2026, 10, 31)).whole_months
    assert Period(date(2026, 11, 15), date(2027, 1, 3)).months() == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
    ]
    first, last = october.epoch_bounds()
    assert last - first + 1 == 31 * 86400 and first % 86400 == 17 * 3600  # midnight in Hà Nội = 17:00 UTC
    for bad in ("2026-13", "26-10", "2026/10"):
        with pytest.raises(PeriodError):
            Period.of_month(bad)
    with pytest.raises(PeriodError):
        Period.between(date(2026, 10, 2), date(2026, 10, 1))


def test_percentile_is_postgresqls_percentile_cont() -> None:
    values = list(range(1, 11))
    assert percentile(values, 0.5) == 5.5
    assert percentile(values, 0.9) == pytest.approx(9.1)
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.5) is None


def duration_samples() -> list[int]:
    """Every duration up to a few doublings, both sides of every doubling, and random ones."""
    rng = random.Random(7)
    edges = [(SUB_BUCKETS << k) + delta for k in range(29) for delta in (-1, 0, 1)]
    return [
        *range(0, 40 * SUB_BUCKETS),
        *edges,
        *(rng.randrange(1 << rng.randrange(6, 34)) for _ in range(5000)),
    ]


def test_duration_buckets_hold_their_durations_to_the_stated_precision() -> None:
    previous = -1
    for seconds in sorted(duration_samples()):
        bucket = bucket_of(seconds)
        assert previous <= bucket <= LAST_BUCKET  # ordered like the durations
        previous = bucket
        if bucket == LAST_BUCKET:
            continue
        low, width = bucket_bounds(bucket)
        assert low <= seconds < low + width and bucket_of(low) == bucket == bucket_of(low + width - 1)
        assert abs(bucket_value(bucket) - seconds) <= RELATIVE_PRECISION * seconds
    assert [bucket_of(s) for s in range(2 * SUB_BUCKETS)] == list(range(2 * SUB_BUCKETS))  # exact
    assert bucket_of(10**12) == LAST_BUCKET


def test_histogram_percentiles_are_percentile_cont_to_the_buckets_precision() -> None:
    rng = random.Random(11)
    for size in (1, 2, 3, 10, 11, 99, 1000):
        values = [int(rng.lognormvariate(10, 1.5)) for _ in range(size)]
        counts: dict[int, int] = {}
        for v in values:
            counts[bucket_of(v)] = counts.get(bucket_of(v), 0) + 1
        buckets = sorted(counts)
        documents, got = percentiles(buckets, [counts[b] for b in buckets], (MEDIAN, P90))
        exact = [percentile(values, numerator / denominator) for numerator, denominator in (MEDIAN, P90)]
        assert documents == size and got == pytest.approx(exact, rel=RELATIVE_PRECISION)
    assert percentiles([], [], (MEDIAN,)) == (0, [None])
    assert in_bucket_order([9, 2, 5], [1, 2, 3]) == ([2, 5, 9], [2, 3, 1])
    assert percentiles([bucket_of(3600)], [1], (P90,)) == (1, [bucket_value(bucket_of(3600))])


def test_subtree_follows_parents_and_survives_cycles() -> None:
    parents = {"P": None, "A": "P", "B": "A", "C": "P", "X": "Y", "Y": "X"}
    assert subtree("A", parents) == {"A", "B"}
    assert subtree("P", parents) == {"P", "A", "B", "C"}
    assert subtree("X", parents) == {"X", "Y"}


def test_timeline_merge_is_order_free() -> None:
    deltas = [
        {"agency": "A", "registered_at": 10, "arrived_at": 5},
        {"assigned_at": 40, "unit": "u2", "unit_assigned_at": 40},
        {"assigned_at": 20, "unit": "u1", "unit_assigned_at": 20},
        {"completed_at": 90, "arrived_at": 3},
    ]
    import itertools

    results = set()
    for order in itertools.permutations(deltas):
        merged: dict = {}
        for delta in order:
            merged = DOCUMENTS.merge(merged, delta)
        results.add(tuple(sorted(merged.items())))
    assert len(results) == 1
    (merged,) = [dict(r) for r in results]
    assert (merged["arrived_at"], merged["assigned_at"], merged["unit"], merged["completed_at"]) == (
        3,
        20,
        "u1",
        90,
    )
    assert "ON CONFLICT (document_id)" in merge_sql(DOCUMENTS)


def test_flag_rules_on_their_edges() -> None:
    t = Thresholds()
    assert register_only("A", 10, 0, t) is not None
    assert register_only("A", 9, 0, t) is None  # too few to judge
    assert register_only("A", 100, 6, t) is None  # 6 % routed
    assert scan_and_send("A", 5, 3, t) is not None
    assert scan_and_send("A", 5, 2, t) is None
    assert scan_and_send("A", 4, 4, t) is None
    assert usage_score(registered=10, routed=10, issued=0, with_trail=0, signed=0, users=4, active=2) == 75.0
    assert usage_score(registered=0, routed=0, issued=0, with_trail=0, signed=0, users=0, active=0) == 0.0
