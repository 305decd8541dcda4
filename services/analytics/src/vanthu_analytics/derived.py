"""Roll-ups derived from the documents' timelines: processing-time histograms and overdue counts.

A document's contribution depends on its whole merged timeline (a stage's duration needs both of
its ends, overdue needs the deadline and the completion), and events may come in any order. So
after a batch merged its timeline deltas, each merged document takes back what its previous
values contributed (the `prev_…` columns the merge statement set) and adds what its values
contribute now. The roll-ups therefore always equal the contribution of the documents as they
stand, whatever the batching, redeliveries or replays (rows that went back to zero stay, at zero).
`derived_sql(changed_only=False)` counts every document once, into empty roll-ups.

Everything is one `INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE` per table, in integer
arithmetic that SQLite and PostgreSQL evaluate alike.
"""

from __future__ import annotations

from functools import cache

from vanthu_analytics.domain.durations import bucket_sql
from vanthu_analytics.domain.facts import DOCUMENTS, EPOCH_DAY, PROVINCE_OFFSET_S

# The processing stages the reports show, by the code document_times_monthly.stage stores.
STAGE_CODES: dict[str, int] = {
    "arrival_to_registration": 1,
    "registration_to_assignment": 2,
    "assignment_to_completion": 3,
    "arrival_to_completion": 4,
}
# Stage code → (start column, end column). A document counts in the month its stage ended (the
# province's calendar).
STAGE_COLUMNS: dict[int, tuple[str, str]] = {
    1: ("arrived_at", "registered_at"),
    2: ("registered_at", "assigned_at"),
    3: ("assigned_at", "completed_at"),
    4: ("arrived_at", "completed_at"),
}

_FIELDS = DOCUMENTS.previous  # what a document's contribution depends on
_OFFSET = PROVINCE_OFFSET_S  # UTC+7 without daylight saving (domain.facts checks the zone data agree)
_ORDINAL_1970 = EPOCH_DAY.toordinal()

# The province's month of an epoch second, and the date of a proleptic ordinal, in each dialect.
_MONTH_OF_EPOCH = {
    "postgresql": (
        "CAST(date_trunc('month', CAST(DATE '1970-01-01' + CAST(({t} + {offset}) / 86400 AS integer) "
        "AS timestamp)) AS date)"
    ),
    "sqlite": "date({t} + {offset}, 'unixepoch', 'start of month')",
}
_DATE_OF_ORDINAL = {
    "postgresql": "(DATE '0001-01-01' + ({d} - 1))",
    "sqlite": "date({d} + 1721424.5)",  # the Julian day of 0001-01-01 is 1721425.5
}


def _local_ordinal(epoch: str) -> str:
    """The ordinal of the province's day of an epoch second (integer division)."""
    return f"(({epoch} + {_OFFSET}) / 86400 + {_ORDINAL_1970})"


def _merged(changed_only: bool) -> str:
    """`WITH t AS (…)`: the documents the batch merged whose counted fields changed (or all)."""
    if not changed_only:
        return "WITH t AS (SELECT * FROM documents) "
    changed = " OR ".join(f"d.{f} IS DISTINCT FROM d.prev_{f}" for f in _FIELDS)
    return (
        "WITH t AS (SELECT d.* FROM documents d JOIN stage_documents x ON x.document_id = d.document_id "
        f"WHERE {changed}) "
    )


def _sides(changed_only: bool) -> str:
    """Rows (…fields, n) of `t`: each document as it is now (+1) and as it was (−1)."""
    now = ", ".join(f"{f} AS {f}" for f in _FIELDS)
    if not changed_only:
        return f"SELECT {now}, 1 AS n FROM t"
    before = ", ".join(f"prev_{f} AS {f}" for f in _FIELDS)
    return f"SELECT {now}, 1 AS n FROM t UNION ALL SELECT {before}, -1 AS n FROM t"


@cache
def times_sql(dialect: str, changed_only: bool = True) -> str:
    start = " ".join(f"WHEN {code} THEN v.{s}" for code, (s, _) in STAGE_COLUMNS.items())
    end = " ".join(f"WHEN {code} THEN v.{e}" for code, (_, e) in STAGE_COLUMNS.items())
    stages = " UNION ALL ".join(f"SELECT {code} AS stage" for code in STAGE_COLUMNS)
    month = _MONTH_OF_EPOCH[dialect].format(t="e", offset=_OFFSET)
    # ORDER BY: concurrent batches lock the rows they update in the same order (no deadlock).
    return (
        f"{_merged(changed_only)}"
        "INSERT INTO document_times_monthly (month, agency, unit, stage, bucket, documents) "
        f"SELECT {month}, agency, unit, stage, {bucket_sql('(e - s)')}, SUM(n) FROM ("
        f"SELECT v.agency AS agency, COALESCE(v.unit, '') AS unit, k.stage AS stage, "
        f"CASE k.stage {start} END AS s, CASE k.stage {end} END AS e, v.n AS n "
        f"FROM ({_sides(changed_only)}) v CROSS JOIN ({stages}) k) w "
        "WHERE agency IS NOT NULL AND s IS NOT NULL AND e IS NOT NULL AND e >= s "
        "GROUP BY 1, 2, 3, 4, 5 HAVING SUM(n) <> 0 ORDER BY 1, 2, 3, 4, 5 "
        "ON CONFLICT (month, agency, unit, stage, bucket) "
        "DO UPDATE SET documents = document_times_monthly.documents + excluded.documents"
    )


@cache
def overdue_sql(dialect: str, changed_only: bool = True) -> str:
    """Overdue: due, and not completed by the end of the deadline day (or not completed at all)."""
    day = _DATE_OF_ORDINAL[dialect].format(d="deadline")
    late = f"completed_at IS NULL OR {_local_ordinal('completed_at')} > deadline"
    return (
        f"{_merged(changed_only)}"
        "INSERT INTO overdue_daily (day, agency, unit, documents) "
        f"SELECT {day}, agency, COALESCE(unit, ''), SUM(n) FROM ({_sides(changed_only)}) v "
        f"WHERE agency IS NOT NULL AND deadline IS NOT NULL AND ({late}) "
        "GROUP BY 1, 2, 3 HAVING SUM(n) <> 0 ORDER BY 1, 2, 3 "
        "ON CONFLICT (day, agency, unit) DO UPDATE SET documents = overdue_daily.documents + excluded.documents"
    )


def derived_sql(dialect: str, *, changed_only: bool = True) -> tuple[str, str]:
    """The statements that bring both roll-ups up to date: for the documents of the batch
    (`stage_documents`) or, with `changed_only=False`, for every document (an empty roll-up)."""
    return times_sql(dialect, changed_only), overdue_sql(dialect, changed_only)
