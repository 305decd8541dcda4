"""A synthetic province-year of events, for benchmarks and demos (`vanthu analytics generate`).

The province: one People's Committee and about one agency per ten units, each with a Văn phòng
(the văn thư and the leaders) and specialist units. Over the year, on working days, documents
arrive (about 70 % electronically over the axis or from agencies in the province, 30 % on paper)
and go through registration, assignment and completion; outgoing documents are drafted,
approved, signed (personal, then seal), issued, sent and acknowledged. A few agencies behave
the way the compliance flags look for: some only register, some scan and send without drafts,
some stop using the system half way through the year, and some register on paper what already
came in electronically. Event times follow office hours in Vietnam, and the stream is in time order.

Everything is built with the real contract models (`events.py`); the stream is bounded by `events`.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from vanthu_analytics import events as ev
from vanthu_analytics.domain.facts import VIETNAM
from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events.common import Role
from vanthu_contracts.events.interop import StatusCode
from vanthu_contracts.events.registry import Channel
from vanthu_contracts.events.signing import SignatureKind

PROVINCE = "000.00.00.H99"
LIMITS = {"units": (1, 100_000), "users": (1, 1_000_000), "events": (1, 100_000_000)}

# Average events per document chain, used to size the daily volume to the event budget.
EVENTS_PER_INCOMING = 3.35
EVENTS_PER_OUTGOING = 8.4
OUTGOING_SHARE = 0.35  # of documents


class Behaviour(StrEnum):
    NORMAL = "normal"
    REGISTER_ONLY = "register_only"  # registers incoming documents, never routes them
    SCAN_AND_SEND = "scan_and_send"  # issues outgoing documents without drafts in the system
    GOES_QUIET = "goes_quiet"  # stops using the system in the middle of the year
    DOUBLE_REGISTERS = "double_registers"  # registers paper copies of electronic documents again


@dataclass
class Unit:
    id: str
    agency: str
    name: str
    abbreviation: str
    staff: list[str] = field(default_factory=list)


@dataclass
class Agency:
    code: str
    name: str
    abbreviation: str
    parent: str | None
    behaviour: Behaviour
    office: Unit
    units: list[Unit] = field(default_factory=list)
    incoming_number: int = 0
    outgoing_number: int = 0

    @property
    def clerk(self) -> str:
        return self.office.staff[0]

    @property
    def leader(self) -> str:
        return self.office.staff[min(1, len(self.office.staff) - 1)]


def check_bounds(units: int, users: int, events: int) -> list[str]:
    """Names of the arguments outside LIMITS (the CLI turns them into analytics.generate_bounds)."""
    given = {"units": units, "users": users, "events": events}
    return [name for name, (low, high) in LIMITS.items() if not low <= given[name] <= high]


def _agency_code(i: int) -> str:
    return PROVINCE if i == 0 else f"000.{i // 100:02d}.{i % 100:02d}.H99"


def build_province(units: int, users: int, rng: random.Random) -> list[Agency]:
    n_agencies = max(1, units // 10)
    behaviours = [Behaviour.NORMAL] * n_agencies
    special = [b for b in Behaviour if b is not Behaviour.NORMAL]
    for i in range(1, n_agencies):  # the People's Committee itself behaves
        if rng.random() < 0.16:
            behaviours[i] = special[rng.randrange(len(special))]
    agencies: list[Agency] = []
    unit_count = 0
    for i in range(n_agencies):
        code = _agency_code(i)
        abbreviation = "UBND" if i == 0 else f"CQ{i}"
        office = Unit(f"{code}:vp", code, "Văn phòng", "VP")
        agency = Agency(
            code=code,
            name="Ủy ban nhân dân tỉnh" if i == 0 else f"Cơ quan số {i}",
            abbreviation=abbreviation,
            parent=None if i == 0 else PROVINCE,
            behaviour=behaviours[i],
            office=office,
            units=[office],
        )
        unit_count += 1
        agencies.append(agency)
    # The remaining units are spread over the agencies as specialist units (phòng).
    for k in range(max(0, units - unit_count)):
        agency = agencies[k % n_agencies]
        number = len(agency.units)
        agency.units.append(
            Unit(f"{agency.code}:p{number}", agency.code, f"Phòng chuyên môn {number}", f"P{number}")
        )
    all_units = [u for a in agencies for u in a.units]
    for n in range(max(users, 2 * n_agencies)):
        # Two people per Văn phòng first (văn thư, lãnh đạo), then round-robin over every unit.
        unit = (
            agencies[n].office
            if n < n_agencies
            else agencies[n - n_agencies].office
            if n < 2 * n_agencies
            else all_units[n % len(all_units)]
        )
        unit.staff.append(f"u{n}")
    for unit in all_units:
        if not unit.staff:
            unit.staff.append(unit.id.replace(":", "-") + "-staff")
    return agencies


def directory_events(agencies: list[Agency], at: datetime) -> Iterator[Envelope[Any]]:
    for a in agencies:
        yield ev.agency(a.code, a.name, a.abbreviation, a.parent, at=at)
    for a in agencies:
        for u in a.units:
            yield ev.unit(u.id, a.code, u.name, u.abbreviation, at=at)
    for a in agencies:
        for u in a.units:
            for k, person in enumerate(u.staff):
                role = (
                    Role.CLERK
                    if person == a.clerk
                    else Role.HEAD
                    if person == a.leader
                    else Role.SPECIALIST
                    if k
                    else Role.UNIT_HEAD
                )
                yield ev.user(person, a.code, u.id, f"Cán bộ {person}", role, at=at)


# A scheduled event: (when, sequence number, how to build it). The sequence number orders events
# of the same instant and keeps the builders from being compared (plain tuples: a dataclass's
# generated __lt__ cost a tenth of the generator's time).
_Pending = tuple[datetime, int, Callable[[], Envelope[Any]]]


class _Year:
    """Schedules the events of each document chain and releases them in time order."""

    def __init__(self, agencies: list[Agency], year: int, rng: random.Random) -> None:
        self.agencies = agencies
        self.year = year
        self.rng = rng
        self.heap: list[_Pending] = []
        self.seq = 0

    def later(self, at: datetime, build: Callable[[], Envelope[Any]]) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, build))

    def office_time(self, day: date) -> datetime:
        minutes = self.rng.randint(7 * 60 + 30, 17 * 60)
        return datetime.combine(day, time(minutes // 60, minutes % 60), VIETNAM).astimezone(UTC)

    def working_days_after(self, start: datetime, days: int) -> datetime:
        moment = start + timedelta(days=days, minutes=self.rng.randint(5, 240))
        while moment.astimezone(VIETNAM).weekday() >= 5:
            moment += timedelta(days=1)
        return moment

    def incoming(self, a: Agency, day: date) -> None:
        rng = self.rng
        a.incoming_number += 1
        number = a.incoming_number
        doc = f"{a.code}:in:{number}"
        draw = rng.random()
        channel = Channel.AXIS if draw < 0.5 else Channel.INTERNAL if draw < 0.7 else Channel.PAPER
        arrived = self.office_time(day)
        registered = arrived + timedelta(minutes=rng.randint(10, 600))
        deadline = (registered + timedelta(days=rng.choice((5, 7, 10, 15)))).astimezone(VIETNAM).date()
        issuer, code_number = (
            f"000.00.{rng.randint(1, 99):02d}.G{rng.randint(1, 30):02d}",
            str(rng.randint(1, 3000)),
        )
        if channel is not Channel.PAPER:
            self.later(
                arrived,
                lambda: ev.arrived(
                    doc,
                    a.code,
                    channel=channel,
                    at=arrived,
                    issuer=issuer,
                    code_number=code_number,
                    issued_date=day,
                ),
            )
        self.later(
            registered,
            lambda: ev.registered(
                doc, a.code, channel=channel, received_at=arrived, registered_at=registered, clerk=a.clerk,
                number=number, issuer=issuer, code_number=code_number, issued_date=day, due_date=deadline,
            ),
        )  # fmt: skip
        if a.behaviour is Behaviour.DOUBLE_REGISTERS and channel is not Channel.PAPER and rng.random() < 0.3:
            a.incoming_number += 1
            copy, copy_number, copy_at = (
                f"{a.code}:in:{a.incoming_number}",
                a.incoming_number,
                registered + timedelta(days=2),
            )
            self.later(
                copy_at,
                lambda: ev.registered(
                    copy, a.code, channel=Channel.PAPER, received_at=copy_at, registered_at=copy_at, clerk=a.clerk,
                    number=copy_number, issuer=issuer, code_number=code_number, issued_date=day,
                ),
            )  # fmt: skip
        if a.behaviour is Behaviour.REGISTER_ONLY or rng.random() < 0.1:
            return
        unit = a.units[rng.randrange(len(a.units))]
        assigned = registered + timedelta(minutes=rng.randint(30, 2 * 24 * 60))
        self.later(
            assigned,
            lambda: ev.assigned(
                doc, a.code, unit_id=unit.id, leader=a.leader, at=assigned, channel=channel, deadline=deadline
            ),
        )
        if rng.random() < 0.1:
            return  # still in progress at the end of the story
        done = self.working_days_after(assigned, rng.choice((1, 2, 3, 5, 8, 13)))
        on_time = done.astimezone(VIETNAM).date() <= deadline
        handler = unit.staff[rng.randrange(len(unit.staff))]
        self.later(
            done,
            lambda: ev.completed(
                doc, a.code, unit_id=unit.id, by=handler, at=done, on_time=on_time, channel=channel
            ),
        )

    def outgoing(self, a: Agency, day: date) -> None:
        rng = self.rng
        a.outgoing_number += 1
        number = a.outgoing_number
        doc, draft = f"{a.code}:out:{number}", f"{a.code}:dr:{number}"
        unit = a.units[rng.randrange(len(a.units))]
        creator = unit.staff[rng.randrange(len(unit.staff))]
        created = self.office_time(day)
        without_trail = a.behaviour is Behaviour.SCAN_AND_SEND and rng.random() < 0.8
        if without_trail:
            issued_at = created + timedelta(hours=1)
        else:
            approved = self.working_days_after(created, rng.choice((0, 1, 2)))
            signed_at = approved + timedelta(minutes=rng.randint(5, 120))
            sealed_at = signed_at + timedelta(minutes=rng.randint(5, 120))
            issued_at = sealed_at + timedelta(minutes=rng.randint(1, 30))
            self.later(
                created, lambda: ev.draft_created(draft, a.code, unit_id=unit.id, creator=creator, at=created)
            )
            self.later(
                approved,
                lambda: ev.draft_approved(
                    draft, a.code, unit_id=unit.id, creator=creator, signer=a.leader, at=approved
                ),
            )
            self.later(
                signed_at,
                lambda: ev.signed(
                    a.code, kind=SignatureKind.PERSONAL, at=signed_at, by=a.leader, draft_id=draft
                ),
            )
            self.later(
                sealed_at,
                lambda: ev.signed(a.code, kind=SignatureKind.SEAL, at=sealed_at, by=a.clerk, draft_id=draft),
            )
        axis, internal = rng.choice((0, 1, 1, 2)), rng.choice((0, 1, 2))
        self.later(
            issued_at,
            lambda: ev.issued(
                doc, a.code, at=issued_at, clerk=a.clerk, number=number, draft_id=None if without_trail else draft,
                digitally_signed=not without_trail, axis_recipients=axis, internal_recipients=internal,
            ),
        )  # fmt: skip
        for k in range(axis + internal):
            channel = Channel.AXIS if k < axis else Channel.INTERNAL
            recipient = f"000.00.{k:02d}.{'G99' if k < axis else 'H99'}"
            sent_at = issued_at + timedelta(minutes=rng.randint(1, 30))
            self.later(
                sent_at,
                lambda r=recipient, c=channel, t=sent_at: ev.sent(doc, a.code, channel=c, at=t, recipient=r),
            )
            if rng.random() < 0.7:
                ack = sent_at + timedelta(hours=rng.randint(1, 30))
                self.later(
                    ack,
                    lambda r=recipient, t=ack: ev.status_received(
                        doc, a.code, at=t, code=StatusCode.ACCEPTED, recipient=r
                    ),
                )


def province_year(
    *, units: int, users: int, events: int, year: int = 2026, seed: int = 2026
) -> Iterator[Envelope[Any]]:
    """Yield at most `events` envelopes, in time order: the directory, then a year of documents."""
    rng = random.Random(seed)
    agencies = build_province(units, users, rng)
    start = datetime(year, 1, 1, 0, 30, tzinfo=VIETNAM).astimezone(UTC)
    emitted = 0
    for envelope in directory_events(agencies, start):
        if emitted >= events:
            return
        emitted += 1
        yield envelope
    remaining = events - emitted
    if remaining <= 0:
        return
    working_days = sum(1 for d in range(365) if (date(year, 1, 1) + timedelta(days=d)).weekday() < 5)
    per_document = OUTGOING_SHARE * EVENTS_PER_OUTGOING + (1 - OUTGOING_SHARE) * EVENTS_PER_INCOMING
    # A little more than the budget needs, so it runs out in late December rather than short of it.
    documents_per_day = 1.03 * remaining / per_document / working_days
    weights = [3.0 if a.code == PROVINCE else 1.0 for a in agencies]
    total_weight = sum(weights)
    plan = _Year(agencies, year, rng)
    day = date(year, 1, 1)
    midyear = date(year, 7, 1)
    while emitted < events and day.year == year:
        if day.weekday() < 5:
            for a, w in zip(agencies, weights, strict=True):
                if a.behaviour is Behaviour.GOES_QUIET and day >= midyear:
                    continue
                expected = documents_per_day * w / total_weight
                count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
                for _ in range(count):
                    if rng.random() < OUTGOING_SHARE:
                        plan.outgoing(a, day)
                    else:
                        plan.incoming(a, day)
        day += timedelta(days=1)
        horizon = datetime.combine(day, time(0, 0), VIETNAM).astimezone(UTC)
        while plan.heap and plan.heap[0][0] < horizon and emitted < events:
            emitted += 1
            yield heapq.heappop(plan.heap)[2]()
    while plan.heap and emitted < events:  # chains that run into the next year
        emitted += 1
        yield heapq.heappop(plan.heap)[2]()
