"""Working days in Vietnam: weekends, public holidays, Tết, compensatory days, swapped Saturdays.

The base is the `holidays` package (Vietnam: Tết and the other days of the Labour Code, plus the
yearly swaps the Government announces, e.g. 2025-05-02 off in exchange for working Saturday
2025-04-26). Each year's announcement can differ from what the package knows, so a data file
(TOML) may add days off, add working days, remove days off or replace a year entirely:

    [years.2027]
    replace = false                      # true: ignore the package for 2027
    days_off = ["2027-02-03"]            # extra days off (nghỉ bù, nghỉ thêm)
    working_days = ["2027-02-20"]        # weekend days worked in exchange (làm bù)
    not_days_off = ["2027-11-24"]        # package holidays that are working days after all
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from vanthu_contracts.events import routing as c
from vanthu_routing.domain.rules import RuleBroken

SATURDAY, SUNDAY = 5, 6


@dataclass(frozen=True)
class YearOverride:
    replace: bool = False
    days_off: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()
    not_days_off: frozenset[date] = frozenset()


def parse_overrides(text: str) -> dict[int, YearOverride]:
    """Read the TOML override file; raises RuleBroken(calendar_invalid) with what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleBroken(c.CALENDAR_INVALID, {"error": str(exc)}) from exc
    years = data.get("years", {})
    if not isinstance(years, dict):
        raise RuleBroken(c.CALENDAR_INVALID, {"error": "[years] must be a table"})
    out: dict[int, YearOverride] = {}
    for key, entry in years.items():
        try:
            year = int(key)
        except ValueError:
            raise RuleBroken(c.CALENDAR_INVALID, {"error": f"year {key!r} is not a number"}) from None
        if not isinstance(entry, dict):
            raise RuleBroken(c.CALENDAR_INVALID, {"error": f"years.{key} must be a table"})
        unknown = set(entry) - {"replace", "days_off", "working_days", "not_days_off"}
        if unknown:
            raise RuleBroken(c.CALENDAR_INVALID, {"error": f"years.{key}: unknown keys {sorted(unknown)}"})
        out[year] = YearOverride(
            replace=bool(entry.get("replace", False)),
            days_off=_dates(year, key, "days_off", entry.get("days_off", [])),
            working_days=_dates(year, key, "working_days", entry.get("working_days", [])),
            not_days_off=_dates(year, key, "not_days_off", entry.get("not_days_off", [])),
        )
    return out


def _dates(year: int, key: str, name: str, values: Any) -> frozenset[date]:
    if not isinstance(values, list):
        raise RuleBroken(c.CALENDAR_INVALID, {"error": f"years.{key}.{name} must be a list of dates"})
    out = set()
    for value in values:
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            raise RuleBroken(c.CALENDAR_INVALID, {"error": f"years.{key}.{name}: {value!r} is not a date"}) from None
        if day.year != year:
            raise RuleBroken(c.CALENDAR_INVALID, {"error": f"years.{key}.{name}: {day} is not in {year}"})
        out.add(day)
    return frozenset(out)


@lru_cache(maxsize=64)
def _package_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, weekend days that are working days) the holidays package knows for `year`."""
    import holidays

    vn = holidays.country_holidays("VN", years=year)
    days_off = frozenset(d for d in vn if d.year == year)
    swapped = frozenset(d for d in getattr(vn, "weekend_workdays", ()) if d.year == year)
    return days_off, swapped


@dataclass
class WorkingCalendar:
    overrides: dict[int, YearOverride] = field(default_factory=dict)
    use_package: bool = True
    _years: dict[int, tuple[frozenset[date], frozenset[date]]] = field(default_factory=dict, repr=False)

    def _year(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        override = self.overrides.get(year, YearOverride())
        days_off: set[date] = set()
        working: set[date] = set()
        if self.use_package and not override.replace:
            base_off, base_working = _package_year(year)
            days_off |= base_off
            working |= base_working
        days_off = (days_off | override.days_off) - override.not_days_off - override.working_days
        working |= override.working_days
        result = (frozenset(days_off), frozenset(working))
        self._years[year] = result
        return result

    def days_off(self, year: int) -> frozenset[date]:
        return self._year(year)[0]

    def is_working_day(self, day: date) -> bool:
        days_off, working = self._year(day.year)
        if day in working:
            return True
        if day.weekday() in (SATURDAY, SUNDAY):
            return False
        return day not in days_off

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (0: `start` itself, or the next working day).

        A document received on a day off is counted from the next working day."""
        if days < 0:
            raise ValueError("days must be >= 0")
        current = start
        while not self.is_working_day(current):
            current += timedelta(days=1)
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative when end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def working_days(self, start: date, end: date) -> Iterable[date]:
        current = start
        while current <= end:
            if self.is_working_day(current):
                yield current
            current += timedelta(days=1)
