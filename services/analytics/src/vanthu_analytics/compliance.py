"""Compliance flags and the ranking, over a period and a scope (reads roll-ups and timelines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, text

from vanthu_analytics.domain.flags import (
    Flag,
    FlagKind,
    Thresholds,
    register_only,
    scan_and_send,
    usage_score,
)
from vanthu_analytics.domain.periods import Period
from vanthu_analytics.reports import Grouping, ReportService, Scope, UsageRow


@dataclass
class RankedAgency:
    rank: int
    agency: str
    name: str
    score: float
    registered: int
    routed: int
    issued: int
    with_trail: int
    digitally_signed: int
    users: int
    active_users: int


def thresholds_of(settings: Any, inactive_days: int | None = None) -> Thresholds:
    return Thresholds(
        register_only_min_registered=settings.register_only_min_registered,
        register_only_max_routed_share=settings.register_only_max_routed_share,
        scan_and_send_min_issued=settings.scan_and_send_min_issued,
        scan_and_send_min_share=settings.scan_and_send_min_share,
        inactive_days=inactive_days or settings.inactive_days,
    )


class ComplianceService:
    def __init__(self, reports: ReportService) -> None:
        self.reports = reports
        self.uow = reports.uow

    async def flags(
        self, period: Period, scope: Scope, thresholds: Thresholds, as_of: date | None = None
    ) -> list[Flag]:
        """Every flag for the period; inactivity is judged over the `inactive_days` up to `as_of`
        (the period's last day by default)."""
        as_of = as_of or period.end
        agencies = await self.reports.usage(period, Scope(scope.agencies), Grouping.AGENCY)
        found: list[Flag] = []
        trail = await self._issued_without_trail(period, scope)
        for row in agencies:
            flag = register_only(row.agency, row.get("registered"), row.get("routed"), thresholds)
            if flag:
                found.append(flag)
            issued, without = trail.get(row.agency, (0, 0))
            flag = scan_and_send(row.agency, issued, without, thresholds)
            if flag:
                found.append(flag)
        found += await self._no_drafts(period, scope)
        window = Period(as_of - timedelta(days=thresholds.inactive_days - 1), as_of)
        found += await self._inactive(window, scope, thresholds.inactive_days)
        found += await self._paper_reregistrations(period, scope)
        names = {r.agency: r.agency_name for r in agencies}
        for flag in found:
            flag.name = flag.name or names.get(flag.agency, "")
        return sorted(found, key=lambda f: (f.kind, f.agency, f.unit, f.person))

    def _where(self, scope: Scope, column: str, params: dict[str, Any]) -> str:
        if scope.agencies is None:
            return ""
        params["agencies"] = sorted(scope.agencies)
        return f" AND {column} IN :agencies"

    def _bind(self, sql: str, params: dict[str, Any]) -> Any:
        statement = text(sql)
        for name in ("agencies",):
            if name in params:
                statement = statement.bindparams(bindparam(name, expanding=True))
        return statement

    async def _issued_without_trail(self, period: Period, scope: Scope) -> dict[str, tuple[int, int]]:
        """Issued in the period, and how many had no draft approved in the system behind them."""
        first, last = period.epoch_bounds()
        params: dict[str, Any] = {"first": first, "last": last}
        where = self._where(scope, "i.agency", params)
        sql = self._bind(
            "SELECT i.agency, COUNT(*), "
            "SUM(CASE WHEN i.draft_id IS NULL OR d.approved_at IS NULL THEN 1 ELSE 0 END) "
            "FROM issued_documents i LEFT JOIN drafts d ON d.draft_id = i.draft_id "
            f"WHERE i.issued_at BETWEEN :first AND :last{where} GROUP BY i.agency",
            params,
        )
        async with self.uow.read() as session:
            return {a: (int(n), int(w or 0)) for a, n, w in await session.execute(sql, params)}

    async def _no_drafts(self, period: Period, scope: Scope) -> list[Flag]:
        params: dict[str, Any] = {"first": period.start, "last": period.end}
        where = self._where(scope, "u.agency_code", params)
        sql = self._bind(
            "SELECT u.agency_code, u.id, u.name FROM units u WHERE u.active"
            f"{where} AND NOT EXISTS (SELECT 1 FROM unit_daily f WHERE f.agency = u.agency_code "
            "AND f.unit = u.id AND f.measure = 'drafted' AND f.day BETWEEN :first AND :last)",
            params,
        )
        async with self.uow.read() as session:
            rows = (await session.execute(sql, params)).all()
        return [
            Flag(FlagKind.NO_DRAFTS, a, unit=u, name=n or "", evidence={"drafted": 0}) for a, u, n in rows
        ]

    async def _inactive(self, window: Period, scope: Scope, days: int) -> list[Flag]:
        """Units and people of the directory with no action in the window.

        A unit is active when one of its people acted or a fact was credited to it."""
        params: dict[str, Any] = {"first": window.start, "last": window.end}
        where_users = self._where(scope, "u.agency_code", params)
        active_people = "SELECT DISTINCT p.person FROM person_daily p WHERE p.day BETWEEN :first AND :last"
        people_sql = self._bind(
            f"SELECT u.agency_code, u.id, u.full_name, u.unit_id FROM users u WHERE u.active{where_users} "
            f"AND u.id NOT IN ({active_people})",
            params,
        )
        where_units = self._where(scope, "n.agency_code", params)
        units_sql = self._bind(
            f"SELECT n.agency_code, n.id, n.name FROM units n WHERE n.active{where_units} "
            "AND NOT EXISTS (SELECT 1 FROM unit_daily f WHERE f.unit = n.id AND f.day BETWEEN :first AND :last) "
            "AND NOT EXISTS (SELECT 1 FROM users m JOIN person_daily p ON p.person = m.id "
            "WHERE m.unit_id = n.id AND p.day BETWEEN :first AND :last)",
            params,
        )
        evidence = {"days": days, "since": window.start.isoformat(), "until": window.end.isoformat()}
        async with self.uow.read() as session:
            people = (await session.execute(people_sql, params)).all()
            units = (await session.execute(units_sql, params)).all()
        return [
            Flag(FlagKind.INACTIVE_UNIT, a, unit=u, name=n or "", evidence=evidence) for a, u, n in units
        ] + [
            Flag(FlagKind.INACTIVE_PERSON, a, unit=unit or "", person=p, name=n or "", evidence=evidence)
            for a, p, n, unit in people
        ]

    async def _paper_reregistrations(self, period: Period, scope: Scope) -> list[Flag]:
        """Paper registrations in the period of documents the agency had already received electronically
        (the same issuer, number, notation and date, or the registry's own duplicate link)."""
        first, last = period.epoch_bounds()
        params: dict[str, Any] = {"first": first, "last": last}
        where = self._where(scope, "p.agency", params)
        sql = self._bind(
            "SELECT p.agency, p.document_id, MIN(e.document_id) FROM documents p JOIN documents e "
            "ON e.agency = p.agency AND e.channel IN ('axis', 'internal') AND e.document_id <> p.document_id "
            "AND ((p.natural_key IS NOT NULL AND e.natural_key = p.natural_key) OR e.document_id = p.duplicate_of) "
            f"WHERE p.channel = 'paper' AND p.registered_at BETWEEN :first AND :last{where} "
            "GROUP BY p.agency, p.document_id",
            params,
        )
        async with self.uow.read() as session:
            rows = (await session.execute(sql, params)).all()
        return [
            Flag(FlagKind.PAPER_REREGISTRATION, a, evidence={"document_id": d, "electronic_document_id": e})
            for a, d, e in rows
        ]

    async def ranking(self, period: Period, scope: Scope) -> list[RankedAgency]:
        rows: list[UsageRow] = await self.reports.usage(period, Scope(scope.agencies), Grouping.AGENCY)
        trail = await self._issued_without_trail(period, scope)
        users = await self._users_per_agency(scope)
        ranked = []
        for r in rows:
            issued, without = trail.get(r.agency, (r.get("issued"), r.get("issued_without_draft")))
            with_trail = max(0, issued - without)
            score = usage_score(
                registered=r.get("registered"), routed=r.get("routed"), issued=issued, with_trail=with_trail,
                signed=r.get("issued_digitally_signed"), users=users.get(r.agency, 0), active=r.active_users,
            )  # fmt: skip
            ranked.append(
                RankedAgency(
                    0,
                    r.agency,
                    r.agency_name,
                    score,
                    r.get("registered"),
                    r.get("routed"),
                    issued,
                    with_trail,
                    r.get("issued_digitally_signed"),
                    users.get(r.agency, 0),
                    r.active_users,
                )
            )
        listed = {a.agency for a in ranked}
        for code, name in (await self._agencies(scope)).items():
            if code not in listed:  # nothing at all in the period: last, with a score of 0
                ranked.append(RankedAgency(0, code, name, 0.0, 0, 0, 0, 0, 0, users.get(code, 0), 0))
        ranked.sort(key=lambda a: (-a.score, a.agency))
        for position, agency in enumerate(ranked, start=1):
            agency.rank = position
        return ranked

    async def _agencies(self, scope: Scope) -> dict[str, str]:
        params: dict[str, Any] = {}
        where = self._where(scope, "code", params)
        sql = self._bind(f"SELECT code, name FROM agencies WHERE active{where}", params)
        async with self.uow.read() as session:
            return {code: name or "" for code, name in await session.execute(sql, params)}

    async def _users_per_agency(self, scope: Scope) -> dict[str, int]:
        params: dict[str, Any] = {}
        where = self._where(scope, "agency_code", params)
        sql = self._bind(
            f"SELECT agency_code, COUNT(*) FROM users WHERE active{where} GROUP BY agency_code", params
        )
        async with self.uow.read() as session:
            return {a: int(n) for a, n in await session.execute(sql, params)}
