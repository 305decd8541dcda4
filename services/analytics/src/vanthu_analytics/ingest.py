"""The fact pipeline: a batch of events → roll-ups, timelines and directory rows, in one transaction.

Per batch:
1. interpret each event through the mapping table (pure; unknown types, newer versions and
   payloads that do not fit their contract become `Skip`s);
2. in one transaction: claim the event ids in the kit's inbox (ids already applied are dropped, so
   a redelivery or a replay after a crash counts nothing twice), write the directory rows, load
   the facts into a per-connection staging table and fold them into the four roll-ups with one
   `INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE` each, merge the timelines, bring the
   roll-ups derived from the documents' timelines up to date (`derived.py`), count skips.

The staging table keeps the per-event work in the database (PostgreSQL gets it by binary COPY),
which is what lets one Python process keep up with JetStream.
"""

from __future__ import annotations

import gc
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_analytics.derived import derived_sql
from vanthu_analytics.domain.facts import (
    Contribution,
    Fact,
    Merge,
    Skip,
    SkipReason,
    TimelineSpec,
)
from vanthu_analytics.domain.mapping import MAPPINGS, EventView, view_of
from vanthu_analytics.repository import DIRECTORY_TABLES, TIMELINE_TABLES, skipped_events
from vanthu_contracts.envelope import RawEnvelope
from vanthu_runtime.db import dialect_insert
from vanthu_runtime.uow import UnitOfWork

log = logging.getLogger("vanthu.analytics.ingest")

FACT_COLUMNS = Fact._fields  # a Fact is copied into the staging table as it is

_STAGE_DDL = {
    "postgresql": (
        "CREATE TEMP TABLE IF NOT EXISTS stage_events (event_id varchar(36) NOT NULL) ON COMMIT DELETE ROWS",
        "CREATE TEMP TABLE IF NOT EXISTS stage_facts (day date NOT NULL, agency varchar(20) NOT NULL, "
        "unit varchar(64) NOT NULL, person varchar(64) NOT NULL, measure varchar(48) NOT NULL, "
        "value bigint NOT NULL, action int NOT NULL) ON COMMIT DELETE ROWS",
    ),
    "sqlite": (
        "CREATE TEMP TABLE IF NOT EXISTS stage_events (event_id TEXT NOT NULL)",
        "CREATE TEMP TABLE IF NOT EXISTS stage_facts (day TEXT NOT NULL, agency TEXT NOT NULL, "
        "unit TEXT NOT NULL, person TEXT NOT NULL, measure TEXT NOT NULL, value INTEGER NOT NULL, "
        "action INTEGER NOT NULL)",
    ),
}

_STAGED = "vanthu_analytics_staging"

# The month of a staged day, in each dialect (computed by the database, not per fact in Python).
_MONTH = {"postgresql": "CAST(date_trunc('month', day) AS date)", "sqlite": "date(day, 'start of month')"}

# `WHERE true` before ON CONFLICT: SQLite's parser needs it after a SELECT. ORDER BY makes two
# concurrent batches lock rows in the same order (no deadlock on PostgreSQL). `{month}` is _MONTH.
_FOLD = (
    """INSERT INTO unit_daily (day, agency, unit, measure, value)
    SELECT day, agency, unit, measure, SUM(value) FROM stage_facts
    WHERE measure <> ''
    GROUP BY day, agency, unit, measure ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, agency, unit, measure) DO UPDATE SET value = unit_daily.value + excluded.value""",
    """INSERT INTO unit_monthly (month, agency, unit, measure, value)
    SELECT {month}, agency, unit, measure, SUM(value) FROM stage_facts
    WHERE measure <> ''
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (month, agency, unit, measure) DO UPDATE SET value = unit_monthly.value + excluded.value""",
    """INSERT INTO person_daily (day, agency, person, actions)
    SELECT day, agency, person, SUM(action) FROM stage_facts
    WHERE person <> '' AND action = 1
    GROUP BY day, agency, person ORDER BY 1, 2, 3
    ON CONFLICT (day, agency, person) DO UPDATE SET actions = person_daily.actions + excluded.actions""",
    # Per-person measures, and monthly actions as measure '_actions' (active users of a month
    # without scanning days).
    """INSERT INTO person_monthly (month, agency, person, measure, value)
    SELECT {month}, agency, person, measure, SUM(value) FROM stage_facts
    WHERE person <> '' AND measure <> ''
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT {month}, agency, person, '_actions', SUM(action) FROM stage_facts
    WHERE person <> '' AND action = 1
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (month, agency, person, measure) DO UPDATE SET value = person_monthly.value + excluded.value""",
)


@dataclass
class BatchOutcome:
    applied: int = 0
    duplicates: int = 0
    skipped: Counter[tuple[str, int, str]] = field(default_factory=Counter)


def tune_garbage_collector() -> None:
    """Collect less often, and never scan what start-up built (call once the process is set up).

    Ingest allocates a few hundred thousand short-lived objects a second (payload dicts, facts)
    and keeps a batch of them alive at a time, so with the default gen-0 threshold (700) the cyclic
    collector ran constantly and promoted them into scans of the whole long-lived heap (SQLAlchemy,
    pydantic, the contracts): about a fifth of ingest's CPU. Refcounting still frees everything at
    once; the collector is only for cycles, which ingest does not make."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


class FactPipeline:
    """Applies batches of events; one instance per process, shared by the consumer's fetch loops."""

    def __init__(self, uow: UnitOfWork, *, consumer: str = "analytics_facts", validate: bool = False) -> None:
        self.uow = uow
        self.consumer = consumer
        self.validate = validate  # the mappings check the fields they read; this checks all of them
        self._contracts: dict[str, Any] | None = None

    # -- interpretation (pure) -----------------------------------------------------------

    def interpret(self, event: EventView) -> Contribution | Skip:
        mapping = MAPPINGS.get(event.type)
        if mapping is None:
            return Skip(event.type, event.version, SkipReason.UNKNOWN_TYPE)
        if event.version > mapping.max_version:
            return Skip(event.type, event.version, SkipReason.NEWER_VERSION)
        try:
            if self.validate:
                self._check_contract(event.type, event.payload)
            return mapping.apply(event, event.payload)
        except (ValidationError, KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("skipping invalid %s v%d %s: %s", event.type, event.version, event.id, exc)
            return Skip(event.type, event.version, SkipReason.INVALID)

    def _check_contract(self, event_type: str, payload: dict[str, Any]) -> None:
        if self._contracts is None:
            from vanthu_contracts.spec import events

            self._contracts = {name: spec.payload for name, spec in events().items()}
        model: type[BaseModel] | None = self._contracts.get(event_type)
        if model is not None:
            model.model_validate(payload)

    # -- application ---------------------------------------------------------------------

    async def apply(self, events: Sequence[EventView | RawEnvelope]) -> BatchOutcome:
        """Apply a batch: `EventView`s as `wire.decode` reads them off JetStream, or envelopes."""
        views = [e if type(e) is EventView else view_of(e) for e in events]  # type: ignore[arg-type]
        ids = [v.id for v in views]
        interpreted = [self.interpret(v) for v in views]
        outcome = BatchOutcome()
        async with self.uow.begin() as tx:
            session = tx.session
            stage = await _Stage.open(session)
            claimed = await stage.claim(self.consumer, set(ids))
            seen: set[str] = set()
            contributions: list[Contribution] = []
            for event_id, result in zip(ids, interpreted, strict=True):
                if event_id not in claimed or event_id in seen:
                    outcome.duplicates += 1
                    continue
                seen.add(event_id)
                if type(result) is Contribution:
                    contributions.append(result)
                    outcome.applied += 1
                else:
                    assert isinstance(result, Skip)
                    outcome.skipped[(result.type, result.version, str(result.reason))] += 1
            await _write_directory(session, contributions)
            facts = [f for c in contributions for f in c.facts]
            if facts:
                await stage.load_facts(facts)
                for statement in _FOLD:
                    await session.execute(text(statement.format(month=_MONTH[stage.dialect])))
            merged = await _merge_timelines(stage, contributions)
            if "documents" in merged:
                for statement in derived_sql(stage.dialect):
                    await session.execute(text(statement))
            await _count_skips(session, outcome.skipped)
            await stage.clear()
        stage.committed()
        return outcome


class _Stage:
    """The per-connection staging tables (temporary: each connection has its own)."""

    def __init__(self, session: AsyncConnection, dialect: str) -> None:
        self.session = session
        self.dialect = dialect
        # The pooled connection's info, kept: `committed` runs once the transaction's connection
        # has been handed back, and the mark must stay with the pooled connection.
        self.connection_info: dict[Any, Any] = session.info

    @classmethod
    async def open(cls, session: AsyncConnection) -> _Stage:
        stage = cls(session, "postgresql" if session.dialect.name == "postgresql" else "sqlite")
        if not session.info.get(_STAGED):
            # Temporary tables live as long as the connection; created in a transaction that rolls
            # back they vanish again, so the mark is set only once a batch has committed.
            for ddl in _STAGE_DDL[stage.dialect]:
                await session.execute(text(ddl))
            for name in TIMELINE_TABLES:
                await stage.timeline_table(name)
        else:
            await session.execute(text("SELECT 1"))  # opens the transaction the COPYs join
        return stage

    def committed(self) -> None:
        self.connection_info[_STAGED] = True

    async def clear(self) -> None:
        """SQLite has no ON COMMIT DELETE ROWS: empty the staging tables before the commit."""
        if self.dialect == "sqlite":
            for name in ("stage_events", "stage_facts", *(f"stage_{t}" for t in TIMELINE_TABLES)):
                await self.session.execute(text(f"DELETE FROM {name}"))

    async def timeline_table(self, name: str) -> None:
        """A staging copy of a timeline table's columns."""
        if self.dialect == "postgresql":
            ddl = f"CREATE TEMP TABLE IF NOT EXISTS stage_{name} (LIKE {name}) ON COMMIT DELETE ROWS"
        else:
            ddl = f"CREATE TEMP TABLE IF NOT EXISTS stage_{name} AS SELECT * FROM {name} WHERE 0"
        await self.session.execute(text(ddl))

    async def _driver(self) -> Any:
        raw = await self.session.get_raw_connection()
        return raw.driver_connection

    async def _load(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.dialect == "postgresql":
            # The SQLAlchemy statements above already opened the transaction on this connection,
            # so the COPY is part of it.
            driver = await self._driver()
            await driver.copy_records_to_table(table, records=rows, columns=list(columns))
            return
        placeholders = ", ".join(f":{c}" for c in columns)
        await self.session.execute(
            text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"),
            [dict(zip(columns, row, strict=True)) for row in rows],
        )

    async def claim(self, consumer: str, event_ids: Iterable[str]) -> set[str]:
        """Insert the ids into the inbox; return the ones this batch applies for the first time."""
        await self._load("stage_events", ("event_id",), [(i,) for i in event_ids])
        result = await self.session.execute(
            text(
                "INSERT INTO inbox (consumer, event_id, applied_at) "
                "SELECT DISTINCT CAST(:consumer AS VARCHAR(100)), event_id, CURRENT_TIMESTAMP "
                "FROM stage_events WHERE true "
                "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
            ),
            {"consumer": consumer},
        )
        return {str(row[0]) for row in result}

    async def load_facts(self, facts: list[Fact]) -> None:
        if self.dialect == "postgresql":
            await self._load("stage_facts", FACT_COLUMNS, facts)  # binary COPY takes the tuples as they are
        else:
            await self._load("stage_facts", FACT_COLUMNS, [(f.day.isoformat(), *f[1:]) for f in facts])


async def _write_directory(session: AsyncConnection, contributions: list[Contribution]) -> None:
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for c in contributions:
        for row in c.directory:
            key = (str(row.kind), row.key)
            if key not in latest or row.values["changed_at"] >= latest[key]["changed_at"]:
                latest[key] = row.values
    insert = dialect_insert(session)
    for kind, table in DIRECTORY_TABLES.items():
        key_column = table.primary_key.columns.values()[0].name
        rows = [{key_column: key, **values} for (k, key), values in sorted(latest.items()) if k == kind]
        if not rows:
            continue
        statement = insert(table)
        update = {c.name: statement.excluded[c.name] for c in table.columns if c.name != key_column}
        # The newest description wins whatever order the events are applied in (redeliveries,
        # concurrent batches): the event's time, then its id, orders them.
        newer = statement.excluded["changed_at"] >= table.c["changed_at"]
        await session.execute(
            statement.on_conflict_do_update(index_elements=[key_column], set_=update, where=newer), rows
        )


def merge_sql(spec: TimelineSpec) -> str:
    """`INSERT … SELECT … ON CONFLICT DO UPDATE` applying `spec`'s rules (the same as `spec.merge`).

    Every SET expression sees the row as it was, so a clock and the value ordered by it can be
    updated together."""
    table = spec.table

    def rule(name: str, how: Merge) -> str:
        old, new = f"{table}.{name}", f"excluded.{name}"
        if how is Merge.KEEP:
            return f"COALESCE({old}, {new})"
        if how in (Merge.MIN, Merge.MAX):
            better = "<" if how is Merge.MIN else ">"
            return (
                f"CASE WHEN {old} IS NULL THEN {new} WHEN {new} IS NULL THEN {old} "
                f"WHEN {new} {better} {old} THEN {new} ELSE {old} END"
            )
        clock = spec.ordered_by[name]
        old_at, new_at = f"{table}.{clock}", f"excluded.{clock}"
        return (
            f"CASE WHEN {new} IS NULL OR {new_at} IS NULL THEN {old} WHEN {old_at} IS NULL THEN {new} "
            f"WHEN {new_at} < {old_at} OR ({new_at} = {old_at} AND {new} < {old}) THEN {new} ELSE {old} END"
        )

    columns = [spec.key, *spec.fields]
    updates = ", ".join(
        [f"prev_{name} = {table}.{name}" for name in spec.previous]
        + [f"{name} = {rule(name, how)}" for name, how in spec.fields.items()]
    )
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM stage_{table} "
        f"WHERE true ORDER BY {spec.key} ON CONFLICT ({spec.key}) DO UPDATE SET {updates}"
    )


async def _merge_timelines(stage: _Stage, contributions: list[Contribution]) -> set[str]:
    """Merge the batch's timeline deltas; the names of the tables merged into."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    specs: dict[str, TimelineSpec] = {}
    for c in contributions:
        for delta in c.timelines:
            specs[delta.spec.table] = delta.spec
            key = (delta.spec.table, delta.key)
            merged[key] = delta.spec.merge(merged[key], delta.values) if key in merged else dict(delta.values)
    for name, spec in specs.items():
        columns = [spec.key, *spec.fields]
        rows = [
            (key, *(values.get(f) for f in spec.fields)) for (t, key), values in merged.items() if t == name
        ]
        await stage._load(f"stage_{name}", columns, rows)
        await stage.session.execute(text(merge_sql(spec)))
    return set(specs)


async def _count_skips(session: AsyncConnection, skipped: Counter[tuple[str, int, str]]) -> None:
    if not skipped:
        return
    insert = dialect_insert(session)
    statement = insert(skipped_events)
    statement = statement.on_conflict_do_update(
        index_elements=["type", "version", "reason"],
        set_={"count": skipped_events.c["count"] + statement.excluded["count"]},
    )
    rows = [{"type": t, "version": v, "reason": r, "count": n} for (t, v, r), n in sorted(skipped.items())]
    await session.execute(statement, rows)
