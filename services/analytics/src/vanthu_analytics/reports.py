"""Reports read roll-ups and timelines only — never events.

`usage()` is the one report every other is built on: per agency, unit or person for a period,
every measure, active users, documents overdue and processing times (median and p90, to the
precision of `domain.durations`). Whole months are answered from the monthly roll-ups, other
periods from the daily ones and, for processing times, the documents of the period (same figures).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_analytics.derived import STAGE_CODES, STAGE_COLUMNS
from vanthu_analytics.domain.durations import MEDIAN, P90, bucket_sql, in_bucket_order, percentiles
from vanthu_analytics.domain.periods import Period, subtree
from vanthu_analytics.settings import AnalyticsSettings
from vanthu_contracts.events import analytics as codes
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import UnitOfWork

HOUR = 3600.0


class Grouping(StrEnum):
    AGENCY = "agency"
    UNIT = "unit"
    PERSON = "person"


# Stage name → (start column, end column); a document counts in the period its stage ended.
STAGES: dict[str, tuple[str, str]] = {name: STAGE_COLUMNS[code] for name, code in STAGE_CODES.items()}
STAGE_LABELS_VI = {
    "arrival_to_registration": "Đến → vào sổ",
    "registration_to_assignment": "Vào sổ → phân công",
    "assignment_to_completion": "Phân công → hoàn thành",
    "arrival_to_completion": "Đến → hoàn thành",
}


@dataclass(frozen=True)
class Scope:
    """Which agencies (None: all) and, optionally, one unit."""

    agencies: frozenset[str] | None = None
    unit: str | None = None


@dataclass
class StageTime:
    count: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None


@dataclass
class UsageRow:
    agency: str
    unit: str = ""
    person: str = ""
    agency_name: str = ""
    unit_name: str = ""
    person_name: str = ""
    measures: dict[str, int] = field(default_factory=dict)
    actions: int = 0
    active_users: int = 0
    overdue: int = 0
    times: dict[str, StageTime] = field(default_factory=dict)

    def get(self, measure: str) -> int:
        return self.measures.get(measure, 0)

    @property
    def incoming(self) -> int:
        return self.get("received_axis") + self.get("received_internal") + self.get("received_paper")

    @property
    def outgoing(self) -> int:
        return self.get("issued")


def _group(agency: str, key: str) -> str:
    """GROUP BY list: PostgreSQL refuses a constant ('' for "no unit") in it."""
    return agency if key == "''" else f"{agency}, {key}"


def _in(name: str) -> Any:
    return bindparam(name, expanding=True)


class ReportService:
    def __init__(self, uow: UnitOfWork, settings: AnalyticsSettings) -> None:
        self.uow = uow
        self.settings = settings

    # -- directory and scope --------------------------------------------------------------

    async def agency_parents(self, session: AsyncConnection) -> dict[str, str | None]:
        rows = await session.execute(text("SELECT code, parent_code FROM agencies"))
        return {code: parent for code, parent in rows}

    async def scope(self, *, agency: str | None, unit: str | None, within: str | None = None) -> Scope:
        """The agency subtree rooted at `agency` (or at `within`, the caller's own agency).

        `within` limits what a caller may see to their own subtree."""
        async with self.uow.read() as session:
            parents = await self.agency_parents(session)
        root = agency or within
        if root is None:
            return Scope(None, unit)
        if agency is not None and agency not in parents:
            raise AppError(codes.UNKNOWN_AGENCY, {"agency": agency})
        if within is not None and root not in subtree(within, parents) and root != within:
            raise AppError(codes.OUTSIDE_SCOPE, {"agency": root})
        return Scope(frozenset(subtree(root, parents)), unit)

    # -- usage --------------------------------------------------------------------------

    async def usage(self, period: Period, scope: Scope, grouping: Grouping = Grouping.UNIT) -> list[UsageRow]:
        async with self.uow.read() as session:
            rows: dict[tuple[str, str], UsageRow] = {}

            def row(agency: str, key: str) -> UsageRow:
                found = rows.get((agency, key))
                if found is None:
                    found = UsageRow(agency=agency)
                    if grouping is Grouping.UNIT:
                        found.unit = key
                    elif grouping is Grouping.PERSON:
                        found.person = key
                    rows[(agency, key)] = found
                return found

            if grouping is Grouping.PERSON:
                await self._person_measures(session, period, scope, row)
            else:
                await self._unit_measures(session, period, scope, grouping, row)
            await self._activity(session, period, scope, grouping, row)
            if grouping is not Grouping.PERSON:
                await self._overdue(session, period, scope, grouping, row)
                await self._times(session, period, scope, grouping, row)
            await self._names(session, rows.values())
        return sorted(rows.values(), key=lambda r: (r.agency, r.unit, r.person))

    def _agency_filter(self, scope: Scope, column: str) -> tuple[str, dict[str, Any]]:
        if scope.agencies is None:
            return "", {}
        return f" AND {column} IN :agencies", {"agencies": sorted(scope.agencies)}

    async def _unit_measures(
        self, session: AsyncConnection, period: Period, scope: Scope, grouping: Grouping, row
    ) -> None:
        where, params = self._agency_filter(scope, "agency")
        if scope.unit is not None:
            where += " AND unit = :unit"
            params["unit"] = scope.unit
        key = "unit" if grouping is Grouping.UNIT else "''"
        if period.whole_months:
            source, span = "unit_monthly", "month BETWEEN :first AND :last"
            params |= {"first": period.start, "last": period.months()[-1]}
        else:
            source, span = "unit_daily", "day BETWEEN :first AND :last"
            params |= {"first": period.start, "last": period.end}
        sql = text(
            f"SELECT agency, {key} AS k, measure, SUM(value) FROM {source} "
            f"WHERE {span}{where} GROUP BY {_group('agency', key)}, measure"
        )
        if "agencies" in params:
            sql = sql.bindparams(_in("agencies"))
        for agency, k, measure, value in await session.execute(sql, params):
            row(agency, k).measures[measure] = int(value)

    async def _person_measures(self, session: AsyncConnection, period: Period, scope: Scope, row) -> None:
        # Per-person measures have monthly resolution: the months the period touches.
        where, params = self._agency_filter(scope, "p.agency")
        if scope.unit is not None:
            where += " AND u.unit_id = :unit"
            params["unit"] = scope.unit
        params |= {"first": period.months()[0], "last": period.months()[-1]}
        sql = text(
            "SELECT p.agency, p.person, p.measure, SUM(p.value) FROM person_monthly p "
            "LEFT JOIN users u ON u.id = p.person "
            f"WHERE p.month BETWEEN :first AND :last AND p.measure <> '_actions'{where} "
            "GROUP BY p.agency, p.person, p.measure"
        )
        if "agencies" in params:
            sql = sql.bindparams(_in("agencies"))
        for agency, person, measure, value in await session.execute(sql, params):
            row(agency, person).measures[measure] = int(value)

    async def _activity(
        self, session: AsyncConnection, period: Period, scope: Scope, grouping: Grouping, row
    ) -> None:
        """Actions and active users: monthly activity rows for whole months, daily ones otherwise."""
        where, params = self._agency_filter(scope, "p.agency")
        if scope.unit is not None:
            where += " AND COALESCE(u.unit_id, '') = :unit"
            params["unit"] = scope.unit
        if period.whole_months:
            source, span, amount = (
                "person_monthly",
                "p.month BETWEEN :first AND :last AND p.measure = '_actions'",
                "p.value",
            )
            params |= {"first": period.start, "last": period.months()[-1]}
        else:
            source, span, amount = "person_daily", "p.day BETWEEN :first AND :last", "p.actions"
            params |= {"first": period.start, "last": period.end}
        key = {Grouping.AGENCY: "''", Grouping.UNIT: "COALESCE(u.unit_id, '')", Grouping.PERSON: "p.person"}[
            grouping
        ]
        # One month's rows hold each (agency, person) once: counting them needs no DISTINCT (a sort).
        people = (
            "COUNT(*)" if period.whole_months and len(period.months()) == 1 else "COUNT(DISTINCT p.person)"
        )
        sql = text(
            f"SELECT p.agency, {key} AS k, {people}, SUM({amount}) FROM {source} p "
            f"LEFT JOIN users u ON u.id = p.person WHERE {span}{where} GROUP BY {_group('p.agency', key)}"
        )
        if "agencies" in params:
            sql = sql.bindparams(_in("agencies"))
        for agency, k, people, actions in await session.execute(sql, params):
            target = row(agency, k)
            target.active_users = int(people)
            target.actions = int(actions or 0)

    async def _overdue(
        self, session: AsyncConnection, period: Period, scope: Scope, grouping: Grouping, row
    ) -> None:
        """Documents due in the period that were not completed by the end of their deadline day
        (`overdue_daily`, kept up to date by ingest: as the documents stand now)."""
        where, params = self._agency_filter(scope, "agency")
        if scope.unit is not None:
            where += " AND unit = :unit"
            params["unit"] = scope.unit
        params |= {"first": period.start, "last": period.end}
        key = "unit" if grouping is Grouping.UNIT else "''"
        sql = text(
            f"SELECT agency, {key}, SUM(documents) FROM overdue_daily "
            f"WHERE day BETWEEN :first AND :last{where} "
            f"GROUP BY {_group('agency', key)} HAVING SUM(documents) <> 0"
        )
        if "agencies" in params:
            sql = sql.bindparams(_in("agencies"))
        for agency, k, count in await session.execute(sql, params):
            row(agency, k).overdue = int(count)

    async def _times(
        self, session: AsyncConnection, period: Period, scope: Scope, grouping: Grouping, row
    ) -> None:
        """Median and p90 per stage, to the precision of `domain.durations`' buckets.

        Whole months read the monthly histograms; other periods bucket the documents whose stage
        ended in the period (through the stage timestamps' indexes) the same way, so both give
        the same figures. PostgreSQL hands back one row per group and stage, its histogram as two
        arrays; SQLite the histogram's rows. Python finds the percentiles (`domain.durations`)."""
        histogram, params = self._histogram(period, scope, grouping)
        ordered = f"SELECT agency, k, stage, bucket, c FROM ({histogram}) h ORDER BY 1, 2, 3, 4"
        postgres = session.dialect.name == "postgresql"
        if postgres:
            # Walking the primary key gives the rows in this order; with its default cost of a
            # random page (4, for spinning disks) PostgreSQL sorted them instead, three times
            # slower over a province-month (the roll-ups are small and stay in memory).
            await session.execute(text("SET LOCAL random_page_cost = 1.1"))
            # array_agg over a sorted subquery keeps its order in practice, and costs far less than
            # array_agg(… ORDER BY …), which sorts every group apart; the order is checked below.
            ordered = (
                f"SELECT agency, k, stage, array_agg(bucket), array_agg(c) FROM ({ordered}) o "
                "GROUP BY agency, k, stage"
            )
        sql = text(ordered)
        if "agencies" in params:
            sql = sql.bindparams(_in("agencies"))
        groups: list[tuple[str, str, int, list[int], list[int]]] = []
        if postgres:
            for agency, k, stage, buckets, counts in await session.execute(sql, params):
                groups.append((agency, k, stage, *in_bucket_order(buckets, counts)))
        else:
            rows: dict[tuple[str, str, int], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
            for agency, k, stage, bucket, count in await session.execute(sql, params):
                buckets, counts = rows[(agency, k, stage)]
                buckets.append(int(bucket))
                counts.append(int(count))
            groups = [(*key, buckets, counts) for key, (buckets, counts) in rows.items()]
        names = {code: name for name, code in STAGE_CODES.items()}
        for agency, k, stage, buckets, counts in groups:
            documents, (median, p90) = percentiles(buckets, counts, (MEDIAN, P90))
            row(agency, k).times[names[int(stage)]] = StageTime(
                documents, (median or 0) / HOUR, (p90 or 0) / HOUR
            )

    def _histogram(self, period: Period, scope: Scope, grouping: Grouping) -> tuple[str, dict[str, Any]]:
        """SQL of the rows (agency, k, stage, bucket, c > 0) of each group's histograms."""
        where, params = self._agency_filter(scope, "agency")
        if not period.whole_months:
            if scope.unit is not None:
                where += " AND COALESCE(unit, '') = :unit"
                params["unit"] = scope.unit
            key = "COALESCE(unit, '')" if grouping is Grouping.UNIT else "''"
            first, last = period.epoch_bounds()
            params |= {"first": first, "last": last}
            stages = " UNION ALL ".join(
                f"SELECT agency, {key} AS k, {code} AS stage, {bucket_sql(f'{end} - {start}')} AS bucket "
                f"FROM documents WHERE {end} BETWEEN :first AND :last AND {start} IS NOT NULL "
                f"AND {end} >= {start} AND agency IS NOT NULL{where}"
                for code, (start, end) in STAGE_COLUMNS.items()
            )
            return (
                f"SELECT agency, k, stage, bucket, COUNT(*) AS c FROM ({stages}) d GROUP BY 1, 2, 3, 4",
                params,
            )
        if scope.unit is not None:
            where += " AND unit = :unit"
            params["unit"] = scope.unit
        months = period.months()
        params |= {"first": months[0], "last": months[-1]}
        if grouping is Grouping.UNIT and len(months) == 1:
            # The rows as they are: nothing to add up.
            return (
                "SELECT agency, unit AS k, stage, bucket, documents AS c FROM document_times_monthly "
                f"WHERE month = :first AND documents > 0{where}"
            ), params
        key = "unit" if grouping is Grouping.UNIT else "''"
        return (
            f"SELECT agency, {key} AS k, stage, bucket, CAST(SUM(documents) AS bigint) AS c "
            "FROM document_times_monthly "
            f"WHERE month BETWEEN :first AND :last{where} "
            f"GROUP BY {_group('agency', key)}, stage, bucket HAVING SUM(documents) > 0"
        ), params

    async def _names(self, session: AsyncConnection, rows: Any) -> None:
        rows = list(rows)
        agencies = {r.agency for r in rows}
        units = {r.unit for r in rows if r.unit}
        people = {r.person for r in rows if r.person}
        names: dict[str, dict[str, str]] = {"a": {}, "u": {}, "p": {}}
        for label, table, column, name, keys in (
            ("a", "agencies", "code", "name", agencies),
            ("u", "units", "id", "name", units),
            ("p", "users", "id", "full_name", people),
        ):
            ordered = sorted(keys)
            for chunk in (ordered[i : i + 5000] for i in range(0, len(ordered), 5000)):
                sql = text(f"SELECT {column}, {name} FROM {table} WHERE {column} IN :keys").bindparams(
                    _in("keys")
                )
                names[label].update({k: v or "" for k, v in await session.execute(sql, {"keys": chunk})})
        for r in rows:
            r.agency_name = names["a"].get(r.agency, "")
            r.unit_name = names["u"].get(r.unit, "") if r.unit else ""
            r.person_name = names["p"].get(r.person, "") if r.person else ""

    # -- smaller reads ------------------------------------------------------------------

    async def daily_totals(
        self, period: Period, scope: Scope, measures: list[str]
    ) -> dict[date, dict[str, int]]:
        where, params = self._agency_filter(scope, "agency")
        params |= {"first": period.start, "last": period.end, "measures": measures}
        sql = text(
            "SELECT day, measure, SUM(value) FROM unit_daily WHERE day BETWEEN :first AND :last "
            f"AND measure IN :measures{where} GROUP BY day, measure"
        ).bindparams(_in("measures"))
        if "agencies" in params:
            sql = sql.bindparams(_in("agencies"))
        out: dict[date, dict[str, int]] = defaultdict(dict)
        async with self.uow.read() as session:
            for day, measure, value in await session.execute(sql, params):
                out[day if isinstance(day, date) else date.fromisoformat(str(day))][measure] = int(value)
        return dict(out)

    async def skipped(self) -> list[dict[str, Any]]:
        async with self.uow.read() as session:
            rows = await session.execute(
                text("SELECT type, version, reason, count FROM skipped_events ORDER BY type")
            )
            return [{"type": t, "version": v, "reason": r, "count": int(c)} for t, v, r, c in rows]

    async def applied_events(self) -> int:
        async with self.uow.read() as session:
            return int((await session.execute(text("SELECT COUNT(*) FROM inbox"))).scalar_one())
