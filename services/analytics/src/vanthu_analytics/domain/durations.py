"""Processing-time distributions as fixed buckets with exact counts (pure).

A report's median and p90 processing times come from per-month histograms that ingest keeps up
to date, not from the documents themselves, so the report's cost does not grow with the number of
documents. The buckets are log-linear (as in HdrHistogram): durations below 2·SUB_BUCKETS seconds
have a bucket each, and every doubling above is cut into SUB_BUCKETS equal buckets. A bucket
stands for its middle, which is within 1/(2·SUB_BUCKETS) of every duration in it (under 1.6 %:
a median of 24 h is reported between 23.6 h and 24.4 h); a percentile interpolates between the
buckets of the two order statistics it falls between, the way PostgreSQL's percentile_cont
interpolates between the values, so it keeps the same bound.

`bucket_sql` writes the same function as an SQL expression (integer arithmetic only, the same on
SQLite and PostgreSQL), for ingest and the reports; tests check that the two agree. Counts are
exact: only the durations are rounded to their bucket.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

SUB_BUCKETS = 32  # per doubling: the precision (see above)
_DOUBLINGS = 27  # the last bucket ends at 2**28 · SUB_BUCKETS s, far beyond any document's life
LAST_BUCKET = (_DOUBLINGS + 2) * SUB_BUCKETS - 1
RELATIVE_PRECISION = 1 / (2 * SUB_BUCKETS)

# Percentiles as exact fractions (numerator, denominator): order statistics in integers.
MEDIAN = (1, 2)
P90 = (9, 10)


def bucket_of(seconds: int) -> int:
    """The bucket of a duration (negative durations are not counted: callers leave them out)."""
    if seconds < 2 * SUB_BUCKETS:
        return max(0, seconds)
    doubling = (seconds // SUB_BUCKETS).bit_length() - 1  # 2**d · S <= seconds < 2**(d+1) · S
    if doubling > _DOUBLINGS:
        return LAST_BUCKET
    return (doubling + 1) * SUB_BUCKETS + (seconds - (SUB_BUCKETS << doubling)) // (1 << doubling)


def bucket_bounds(bucket: int) -> tuple[int, int]:
    """(first second, width in seconds) of a bucket."""
    if bucket < 2 * SUB_BUCKETS:
        return bucket, 1
    doubling = bucket // SUB_BUCKETS - 1
    return (SUB_BUCKETS << doubling) + (bucket % SUB_BUCKETS << doubling), 1 << doubling


def bucket_value(bucket: int) -> float:
    """The duration a bucket stands for: the middle of the whole seconds it holds."""
    low, width = bucket_bounds(bucket)
    return low + (width - 1) / 2


def percentiles(
    buckets: Sequence[int], counts: Sequence[int], fractions: Sequence[tuple[int, int]]
) -> tuple[int, list[float | None]]:
    """(documents, each percentile in seconds) of a histogram given as buckets in increasing order
    and their counts. percentile_cont's rule on the buckets: the order statistics around
    fraction · (documents − 1), interpolated (a few thousand histograms per report: bisect, in C)."""
    cumulative = list(accumulate(counts))
    total = cumulative[-1] if cumulative else 0
    if total <= 0:
        return 0, [None for _ in fractions]
    out: list[float | None] = []
    for numerator, denominator in fractions:
        low, rest = divmod(numerator * (total - 1), denominator)  # exact: no float rounding
        value = bucket_value(buckets[bisect_right(cumulative, low)])
        if rest:  # between the order statistics low and low + 1 (< total)
            upper = bucket_value(buckets[bisect_right(cumulative, low + 1)])
            value += (upper - value) * rest / denominator
        out.append(value)
    return total, out


def in_bucket_order(buckets: list[int], counts: list[int]) -> tuple[list[int], list[int]]:
    """A histogram's buckets (distinct) and counts in increasing bucket order, as `percentiles`
    wants them; the lists themselves when they are already (sorting sorted ints is a quick pass)."""
    if buckets == sorted(buckets):
        return buckets, counts
    pairs = sorted(zip(buckets, counts, strict=True))
    return [b for b, _ in pairs], [c for _, c in pairs]


def bucket_sql(seconds: str) -> str:
    """`bucket_of(seconds)` as an SQL expression over an integer expression `seconds` (>= 0)."""
    s = SUB_BUCKETS
    branches = [f"WHEN {seconds} < {2 * s} THEN {seconds}"]
    for doubling in range(1, _DOUBLINGS + 1):
        low, width = s << doubling, 1 << doubling
        first = (doubling + 1) * s
        branches.append(f"WHEN {seconds} < {2 * low} THEN {first} + ({seconds} - {low}) / {width}")
    return f"(CASE {' '.join(branches)} ELSE {LAST_BUCKET} END)"
