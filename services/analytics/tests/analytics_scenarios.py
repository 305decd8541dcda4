"""A small province in October 2026 where each compliance flag fires once and stays quiet once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from vanthu_analytics import events as ev
from vanthu_contracts.envelope import RawEnvelope
from vanthu_contracts.events.common import Role
from vanthu_contracts.events.registry import Channel
from vanthu_contracts.events.signing import SignatureKind

PROVINCE = "000.00.00.H99"
GOOD = "000.00.11.H99"  # uses the system fully
GOOD_CHILD = "000.01.11.H99"  # under GOOD: subtree filters
REG_ONLY = "000.00.12.H99"  # registers, never routes; also registers a paper copy again
SCANNER = "000.00.13.H99"  # issues without drafts
QUIET = "000.00.14.H99"  # stopped using the system in August

OCT = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)  # 08:00 on Monday 5 October in Hà Nội


def raw(envelope) -> RawEnvelope:
    return RawEnvelope.model_validate_json(envelope.model_dump_json())


def directory(at: datetime) -> list:
    out = [ev.agency(PROVINCE, "UBND tỉnh", "UBND", None, at=at)]
    for code, name, parent in (
        (GOOD, "Sở Nội vụ", PROVINCE),
        (GOOD_CHILD, "Trung tâm trực thuộc Sở Nội vụ", GOOD),
        (REG_ONLY, "Sở Xây dựng", PROVINCE),
        (SCANNER, "Sở Tài chính", PROVINCE),
        (QUIET, "Sở Y tế", PROVINCE),
    ):
        out.append(ev.agency(code, name, "S", parent, at=at))
        out.append(ev.unit(f"{code}:vp", code, "Văn phòng", "VP", at=at))
        out.append(ev.unit(f"{code}:p1", code, "Phòng chuyên môn", "P1", at=at))
        out.append(ev.user(f"{code}:clerk", code, f"{code}:vp", "Văn thư", Role.CLERK, at=at))
        out.append(ev.user(f"{code}:leader", code, f"{code}:vp", "Lãnh đạo", Role.HEAD, at=at))
        out.append(ev.user(f"{code}:spec", code, f"{code}:p1", "Chuyên viên", Role.SPECIALIST, at=at))
    return out


def incoming(code: str, n: int, *, route: bool, start: datetime, paper_key: str | None = None) -> list:
    """`n` documents registered i hours after arrival (i = 1..n), routed and completed if `route`."""
    out = []
    for i in range(1, n + 1):
        doc = f"{code}:in:{i}"
        arrived = start + timedelta(days=i % 5)
        deadline = (arrived + timedelta(days=3)).date()
        out.append(
            ev.registered(
                doc, code, channel=Channel.AXIS, received_at=arrived, registered_at=arrived + timedelta(hours=i),
                clerk=f"{code}:clerk", number=i, code_number=str(100 + i), due_date=deadline,
            )
        )  # fmt: skip
        if route:
            assigned = arrived + timedelta(hours=i + 2)
            out.append(
                ev.assigned(
                    doc, code, unit_id=f"{code}:p1", leader=f"{code}:leader", at=assigned, deadline=deadline
                )
            )
            late = i > 8  # two of ten finish after their deadline
            done = assigned + timedelta(days=5 if late else 1)
            out.append(
                ev.completed(doc, code, unit_id=f"{code}:p1", by=f"{code}:spec", at=done, on_time=not late)
            )
    if paper_key is not None:  # the first one again, from its paper original, two days later
        first = start + timedelta(days=1)
        out.append(
            ev.registered(
                f"{code}:in:paper", code, channel=Channel.PAPER, received_at=first + timedelta(days=2),
                registered_at=first + timedelta(days=2), clerk=f"{code}:clerk", number=n + 1, code_number="101",
                issued_date=first.date(),
            )
        )  # fmt: skip
    return out


def outgoing(code: str, n: int, *, trail: bool, start: datetime) -> list:
    out = []
    for i in range(1, n + 1):
        at = start + timedelta(days=i)
        draft = f"{code}:dr:{i}" if trail else None
        if trail:
            out.append(ev.draft_created(draft, code, unit_id=f"{code}:p1", creator=f"{code}:spec", at=at))
            out.append(
                ev.draft_approved(
                    draft,
                    code,
                    unit_id=f"{code}:p1",
                    creator=f"{code}:spec",
                    signer=f"{code}:leader",
                    at=at + timedelta(hours=2),
                )
            )
            out.append(
                ev.signed(
                    code,
                    kind=SignatureKind.PERSONAL,
                    at=at + timedelta(hours=3),
                    by=f"{code}:leader",
                    draft_id=draft,
                )
            )
            out.append(
                ev.signed(
                    code,
                    kind=SignatureKind.SEAL,
                    at=at + timedelta(hours=4),
                    by=f"{code}:clerk",
                    draft_id=draft,
                )
            )
        out.append(
            ev.issued(
                f"{code}:out:{i}", code, at=at + timedelta(hours=5), clerk=f"{code}:clerk", number=i, draft_id=draft,
                digitally_signed=trail, axis_recipients=1 if i % 2 else 0, internal_recipients=1,
            )
        )  # fmt: skip
    return out


def october_province() -> list[RawEnvelope]:
    """Every event of the scenario, in time order."""
    events = directory(datetime(2026, 1, 2, 1, 0, tzinfo=UTC))
    # QUIET acted last on 20 August: more than 30 days before 31 October.
    events.append(ev.registered(f"{QUIET}:in:1", QUIET, channel=Channel.PAPER, received_at=datetime(2026, 8, 20, 2, tzinfo=UTC),
                                registered_at=datetime(2026, 8, 20, 3, tzinfo=UTC), clerk=f"{QUIET}:clerk"))  # fmt: skip
    events += incoming(GOOD, 10, route=True, start=OCT)
    events += incoming(REG_ONLY, 10, route=False, start=OCT, paper_key="101")
    # A paper document in GOOD that never came in electronically: no re-registration flag.
    events.append(ev.registered(f"{GOOD}:in:paper", GOOD, channel=Channel.PAPER, received_at=OCT, registered_at=OCT,
                                clerk=f"{GOOD}:clerk", number=99, code_number="999"))  # fmt: skip
    events += outgoing(GOOD, 5, trail=True, start=OCT)
    events += outgoing(SCANNER, 5, trail=False, start=OCT)
    events.append(ev.registered(f"{GOOD_CHILD}:in:1", GOOD_CHILD, channel=Channel.INTERNAL, received_at=OCT,
                                registered_at=OCT + timedelta(hours=1), clerk=f"{GOOD_CHILD}:clerk"))  # fmt: skip
    events.append(
        ev.draft_created(
            f"{GOOD_CHILD}:dr:1", GOOD_CHILD, unit_id=f"{GOOD_CHILD}:p1", creator=f"{GOOD_CHILD}:spec", at=OCT
        )
    )
    # SCANNER's and REG_ONLY's specialists and GOOD_CHILD's leader act so only QUIET is inactive.
    for code in (SCANNER, REG_ONLY, GOOD_CHILD):
        events.append(
            ev.draft_created(
                f"{code}:dr:x",
                code,
                unit_id=f"{code}:vp",
                creator=f"{code}:spec",
                at=OCT + timedelta(days=20),
            )
        )
        events.append(
            ev.draft_approved(
                f"{code}:dr:x",
                code,
                unit_id=f"{code}:vp",
                creator=f"{code}:spec",
                signer=f"{code}:leader",
                at=OCT + timedelta(days=20),
            )
        )
    events.sort(key=lambda e: e.occurred_at)
    return [raw(e) for e in events]


OCTOBER = date(2026, 10, 1)
