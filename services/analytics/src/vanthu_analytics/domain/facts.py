"""What one event contributes: counted facts, document and draft timeline deltas, directory rows.

Everything here is a plain value. The mapping table (`mapping.py`) turns an event into these;
the ingest pipeline merges a batch of them and writes them in one transaction.

Timeline deltas merge by per-field rules that do not depend on the order events are applied in
(earliest timestamp, any-true flag, the attribute of the earliest assignment …), because a
batch that failed is redelivered after later ones, and a replay after a crash batches the
stream differently: the figures must come out the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

# Asia/Ho_Chi_Minh has been UTC+07:00 without daylight saving since 13 June 1975 (tz database).
# Inside this window the province's day of an instant is integer arithmetic on the epoch, which is
# what ingest does for every fact; outside it (and if the zone data disagree, see below) the zone
# decides. Checked against the zone for every hour of the window's edges and a sample of it in
# tests/test_analytics_domain.py.
PROVINCE_OFFSET_S = 7 * 3600
_FIXED_FROM = int(datetime(1976, 1, 1, tzinfo=UTC).timestamp())
_FIXED_UNTIL = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())
EPOCH_DAY = date(1970, 1, 1)


def _zone_is_fixed() -> bool:
    """The zone data agree with +07:00 on the first of every month of the window (a cheap guard
    against tz data that one day give Vietnam another offset)."""
    return all(
        VIETNAM.utcoffset(datetime(year, month, 1)) == timedelta(seconds=PROVINCE_OFFSET_S)
        for year in range(1976, 2100)
        for month in range(1, 13)
    )


_FIXED = _zone_is_fixed()


def parse_time(value: Any) -> datetime:
    """An aware datetime from an ISO string or datetime (naive values are taken as UTC)."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def local_day(moment: datetime, tz: ZoneInfo = VIETNAM) -> date:
    """The calendar day in the province (Vietnam has no daylight saving, but be exact anyway)."""
    if tz is VIETNAM:
        return day_of_epoch(moment.timestamp())
    return moment.astimezone(tz).date()


def day_of_epoch(seconds: float) -> date:
    """The province's calendar day of a Unix time."""
    if _FIXED and _FIXED_FROM <= seconds < _FIXED_UNTIL:
        return _nth_day(int((seconds + PROVINCE_OFFSET_S) // 86400))
    return datetime.fromtimestamp(seconds, VIETNAM).date()


@lru_cache(maxsize=4096)
def _nth_day(days_since_epoch: int) -> date:
    return EPOCH_DAY + timedelta(days=days_since_epoch)


@lru_cache(maxsize=4096)
def month_of(day: date) -> date:
    return day.replace(day=1)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class Fact(NamedTuple):
    """`value` of `measure` on `day`, credited to an agency, a unit and (if a person acted) a person.

    `unit` is the unit the payload names (the assignee unit, the drafting unit); empty means the
    agency as a whole. It is never looked up in the directory while ingesting: what a batch sees
    of the directory depends on batching, and the figures must not.
    `action` (1 or 0) marks the one fact per event that counts as an action of `person` (active
    users). A plain tuple in the staging table's column order, so ingest copies it as it is.
    """

    day: date
    agency: str
    unit: str
    person: str
    measure: str
    value: int = 1
    action: int = 0


class Merge(StrEnum):
    """How a timeline field combines an existing value with a new one."""

    MIN = "min"  # earliest timestamp
    MAX = "max"  # latest timestamp, or any-true for 0/1 flags
    KEEP = "keep"  # an attribute that never changes (agency, channel): first non-empty wins
    BY_EARLIEST = "by_earliest"  # the value belonging to the earliest `<field>_at` (see ORDERED_BY)


@dataclass(frozen=True)
class TimelineSpec:
    """The fields of one timeline table and how each merges; `key` names the primary key."""

    table: str
    key: str
    fields: dict[str, Merge]
    ordered_by: dict[str, str] = field(default_factory=dict)  # BY_EARLIEST field -> its timestamp
    # Fields whose value before each merge the row keeps as `prev_<field>`, for roll-ups derived
    # from the row (ingest updates them by the difference between the two).
    previous: tuple[str, ...] = ()

    def merge(self, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        """The same rule the database applies on conflict (kept in one place, tested both ways)."""
        out = dict(old)
        for name, rule in self.fields.items():
            a, b = old.get(name), new.get(name)
            if b is None:
                continue
            if a is None:
                if rule is Merge.BY_EARLIEST:
                    out[name] = b if self._earlier(new, old, name) else a
                else:
                    out[name] = b
                continue
            if rule is Merge.MIN:
                out[name] = min(a, b)
            elif rule is Merge.MAX:
                out[name] = max(a, b)
            elif rule is Merge.BY_EARLIEST:
                out[name] = b if self._earlier(new, old, name) else a
        return out

    def _earlier(self, new: dict[str, Any], old: dict[str, Any], name: str) -> bool:
        clock = self.ordered_by[name]
        t_new, t_old = new.get(clock), old.get(clock)
        if t_new is None:
            return False
        if t_old is None:
            return True
        return (t_new, str(new.get(name))) < (t_old, str(old.get(name)))


# Incoming documents: arrival → registration → assignment → completion (epoch seconds).
DOCUMENTS = TimelineSpec(
    table="documents",
    key="document_id",
    fields={
        "agency": Merge.KEEP,
        "channel": Merge.KEEP,
        "natural_key": Merge.KEEP,
        "external_id": Merge.KEEP,
        "duplicate_of": Merge.KEEP,
        "arrived_at": Merge.MIN,
        "registered_at": Merge.MIN,
        "assigned_at": Merge.MIN,
        "completed_at": Merge.MIN,
        "deadline": Merge.MIN,
        "unit": Merge.BY_EARLIEST,
        "unit_assigned_at": Merge.MIN,
    },
    ordered_by={"unit": "unit_assigned_at"},
    previous=("agency", "unit", "arrived_at", "registered_at", "assigned_at", "completed_at", "deadline"),
)

# Outgoing documents as issued, and the drafts behind them.
ISSUED = TimelineSpec(
    table="issued_documents",
    key="document_id",
    fields={
        "agency": Merge.KEEP,
        "draft_id": Merge.KEEP,
        "issued_at": Merge.MIN,
        "digitally_signed": Merge.MAX,
        "to_axis": Merge.MAX,
        "to_internal": Merge.MAX,
    },
)

DRAFTS = TimelineSpec(
    table="drafts",
    key="draft_id",
    fields={
        "agency": Merge.KEEP,
        "unit": Merge.KEEP,
        "creator": Merge.KEEP,
        "created_at": Merge.MIN,
        "approved_at": Merge.MIN,
        "signed_at": Merge.MIN,
        "issued_at": Merge.MIN,
    },
)

TIMELINES: tuple[TimelineSpec, ...] = (DOCUMENTS, ISSUED, DRAFTS)


class TimelineDelta(NamedTuple):
    spec: TimelineSpec
    key: str
    values: dict[str, Any]


class DirectoryKind(StrEnum):
    AGENCY = "agency"
    UNIT = "unit"
    USER = "user"


@dataclass(frozen=True)
class DirectoryRow:
    """The latest state of an agency, unit or user (upserts are whole-row and idempotent)."""

    kind: DirectoryKind
    key: str
    values: dict[str, Any]


class Contribution(NamedTuple):
    """Everything one event adds (tuples: one is made for every event)."""

    facts: Sequence[Fact] = ()
    timelines: Sequence[TimelineDelta] = ()
    directory: Sequence[DirectoryRow] = ()


class SkipReason(StrEnum):
    UNKNOWN_TYPE = "unknown_type"  # no mapping for this event type
    NEWER_VERSION = "newer_version"  # a version newer than the mapping understands
    INVALID = "invalid"  # a known type whose payload does not fit its contract


@dataclass(frozen=True)
class Skip:
    type: str
    version: int
    reason: SkipReason
