"""Report periods and scopes (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from vanthu_analytics.domain.facts import VIETNAM

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """The period is malformed (`kind` says which contract error it maps to)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Period:
    """Whole days in the province's calendar, both ends included."""

    start: date
    end: date

    @classmethod
    def of_month(cls, text: str) -> Period:
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise PeriodError("month")
        first = date(int(match.group(1)), int(match.group(2)), 1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def between(cls, start: date, end: date, max_days: int = 3660) -> Period:
        if end < start or (end - start).days + 1 > max_days:
            raise PeriodError("period")
        return cls(start, end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def months(self) -> list[date]:
        """First days of every month the period touches."""
        out, cursor = [], self.start.replace(day=1)
        while cursor <= self.end:
            out.append(cursor)
            cursor = (cursor + timedelta(days=32)).replace(day=1)
        return out

    @property
    def whole_months(self) -> bool:
        """True when the period is exactly a run of calendar months (monthly roll-ups answer it)."""
        return self.start.day == 1 and (self.end + timedelta(days=1)).day == 1

    def epoch_bounds(self) -> tuple[int, int]:
        """[first second, last second] of the period in the province's time zone, as epoch seconds."""
        first = datetime.combine(self.start, time(0, 0), VIETNAM).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(days=1), time(0, 0), VIETNAM).astimezone(UTC)
        return int(first.timestamp()), int(after.timestamp()) - 1

    def label_vi(self) -> str:
        if self.whole_months and len(self.months()) == 1:
            return f"tháng {self.start.month:02d}/{self.start.year}"
        return f"từ {self.start:%d/%m/%Y} đến {self.end:%d/%m/%Y}"


def subtree(root: str, parents: Mapping[str, str | None]) -> set[str]:
    """`root` and every agency under it, from a child → parent map (cycles cannot loop)."""
    children: dict[str, list[str]] = {}
    for child, parent in parents.items():
        if parent:
            children.setdefault(parent, []).append(child)
    found, queue = {root}, [root]
    while queue:
        for child in children.get(queue.pop(), ()):
            if child not in found:
                found.add(child)
                queue.append(child)
    return found


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """Continuous percentile with linear interpolation (PostgreSQL's percentile_cont)."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
