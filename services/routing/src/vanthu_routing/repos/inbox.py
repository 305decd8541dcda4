"""Inbox queries: one user's open items per box, with counts and filters.

Assignments given to a unit appear in the inboxes of the unit's heads. Every query is driven
by the index (assignee_key, role, is_open, deadline), so a user with ten thousand items still
answers in milliseconds. A secret document's item is redacted for whoever has no access to it
(domain/secrecy.py): whether they have is one EXISTS per item of the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.events.common import Secrecy
from vanthu_routing.domain.secrecy import SECRET_SUBJECT
from vanthu_routing.repository import (
    assignments,
    drafts,
    handlings,
    opinion_requests,
    opinion_rounds,
    secret_readers,
)


class Box(StrEnum):
    MAIN = "main"  # xử lý chính
    SUPPORT = "support"  # phối hợp
    INFO = "info"  # để biết
    WAITING = "waiting"  # chờ phân công (leaders)
    OPINION = "opinion"  # chờ cho ý kiến
    DRAFTS = "drafts"  # dự thảo của tôi
    REVIEW = "review"  # chờ duyệt


ASSIGNMENT_BOXES = (Box.MAIN, Box.SUPPORT, Box.INFO)


@dataclass(frozen=True)
class InboxFilter:
    overdue: bool = False
    due_soon: bool = False
    urgency: tuple[str, ...] = ()
    include_closed: bool = False
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class Who:
    user_id: str
    agency: str
    keys: tuple[str, ...]  # "u:<user>" and "o:<unit>" for units the user heads
    is_leader: bool
    person: str = ""  # who is at the keyboard: the delegate under a delegation, else user_id


@dataclass
class BoxCount:
    total: int = 0
    overdue: int = 0
    due_soon: int = 0


@dataclass
class InboxPage:
    box: Box
    items: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


class InboxRepo:
    def __init__(self, session: AsyncConnection) -> None:
        self.session = session

    async def counts(self, who: Who, today: date, soon: date) -> dict[Box, BoxCount]:
        """Every box's counts in one statement (one round trip)."""
        row = [int(v or 0) for v in (await self.session.execute(counts_statement(who, today, soon))).one()]
        out = {box: BoxCount() for box in Box}
        for i, box in enumerate((*ASSIGNMENT_BOXES, Box.WAITING, Box.OPINION)):
            out[box] = BoxCount(*row[3 * i : 3 * i + 3])
        out[Box.DRAFTS].total, out[Box.REVIEW].total = row[-2], row[-1]
        return out

    async def page(self, who: Who, box: Box, flt: InboxFilter, today: date, soon: date) -> InboxPage:
        if box in ASSIGNMENT_BOXES:
            return await self._assignments(who, box, flt, today, soon)
        if box is Box.WAITING:
            return await self._waiting(who, flt, today, soon)
        if box is Box.OPINION:
            return await self._opinions(who, flt, today, soon)
        return await self._drafts(who, box, flt)

    async def _assignments(self, who: Who, box: Box, flt: InboxFilter, today: date, soon: date) -> InboxPage:
        a, h = assignments, handlings
        conditions = [a.c.assignee_key.in_(who.keys), a.c.role == str(box)]
        if not flt.include_closed:
            conditions.append(a.c.is_open.is_(True))
        conditions += _deadline_filters(a.c.deadline, flt, today, soon)
        if flt.urgency:
            conditions.append(a.c.urgency.in_(flt.urgency))
        # Page the assignments first (the index narrows them to this user's box), then join
        # only that page to the handlings: joining first would sort the whole box. The box's
        # total rides along as a window count, so a page is one round trip.
        order = (a.c.deadline.asc().nulls_last(), a.c.created_at.desc(), a.c.id)
        page = (
            select(
                a.c.id.label("assignment_id"),
                a.c.handling_id,
                a.c.role,
                a.c.state,
                a.c.deadline,
                a.c.urgency,
                a.c.percent,
                a.c.instruction,
                a.c.assigned_by,
                a.c.created_at,
                a.c.version,
                a.c.kind,
                a.c.assignee_id,
                func.count().over().label("box_total"),
            )
            .where(*conditions)
            .order_by(*order)
            .limit(flt.limit)
            .offset(flt.offset)
            .subquery()
        )
        rows = (
            await self.session.execute(
                select(
                    page,
                    h.c.document_id,
                    h.c.subject,
                    h.c.code_notation,
                    h.c.incoming_number,
                    h.c.type_name,
                    h.c.secrecy,
                    readable(who).label("readable"),
                )
                .join(h, h.c.id == page.c.handling_id)
                .order_by(page.c.deadline.asc().nulls_last(), page.c.created_at.desc(), page.c.assignment_id)
            )
        ).mappings().all()
        items = [dict(r) for r in rows]
        if items:
            total = items[0]["box_total"]
        else:  # past the end (or empty): the window had nothing to count
            total = (await self.session.execute(select(func.count()).select_from(a).where(*conditions))).scalar_one()
        for item in items:
            item.pop("box_total")
        return InboxPage(box, [_with_flags(_shown(r), today, soon) for r in items], total)

    async def _waiting(self, who: Who, flt: InboxFilter, today: date, soon: date) -> InboxPage:
        if not who.is_leader:
            return InboxPage(Box.WAITING)
        h = handlings
        conditions = [h.c.agency_code == who.agency, h.c.state == "waiting"]
        conditions += _deadline_filters(h.c.default_deadline, flt, today, soon)
        if flt.urgency:
            conditions.append(h.c.urgency.in_(flt.urgency))
        total = (await self.session.execute(select(func.count()).select_from(h).where(*conditions))).scalar_one()
        rows = (
            await self.session.execute(
                select(
                    h.c.id.label("handling_id"),
                    h.c.document_id,
                    h.c.subject,
                    h.c.code_notation,
                    h.c.incoming_number,
                    h.c.type_name,
                    h.c.urgency,
                    h.c.default_deadline.label("deadline"),
                    h.c.created_at,
                    h.c.version,
                    h.c.secrecy,
                    readable(who).label("readable"),
                )
                .where(*conditions)
                .order_by(h.c.default_deadline, h.c.created_at)
                .limit(flt.limit)
                .offset(flt.offset)
            )
        ).mappings().all()
        return InboxPage(Box.WAITING, [_with_flags(_shown(dict(r)), today, soon) for r in rows], total)

    async def _opinions(self, who: Who, flt: InboxFilter, today: date, soon: date) -> InboxPage:
        q, r = opinion_requests, opinion_rounds
        conditions = [q.c.participant_key.in_(who.keys)]
        if not flt.include_closed:
            conditions.append(q.c.answered_at.is_(None))
        conditions += _deadline_filters(q.c.due_date, flt, today, soon)
        total = (await self.session.execute(select(func.count()).select_from(q).where(*conditions))).scalar_one()
        rows = (
            await self.session.execute(
                select(
                    q.c.id.label("request_id"),
                    q.c.round_id,
                    r.c.draft_id,
                    r.c.question,
                    q.c.due_date.label("deadline"),
                    q.c.answered_at,
                    drafts.c.subject,
                    drafts.c.urgency,
                )
                .join(r, r.c.id == q.c.round_id)
                .join(drafts, drafts.c.id == r.c.draft_id)
                .where(*conditions)
                .order_by(q.c.due_date)
                .limit(flt.limit)
                .offset(flt.offset)
            )
        ).mappings().all()
        return InboxPage(Box.OPINION, [_with_flags(dict(x), today, soon) for x in rows], total)

    async def _drafts(self, who: Who, box: Box, flt: InboxFilter) -> InboxPage:
        if box is Box.DRAFTS:
            conditions = [drafts.c.creator_id == who.user_id]
            if not flt.include_closed:
                conditions.append(drafts.c.state.in_(("drafting", "returned")))
        else:
            conditions = [drafts.c.current_reviewer_id == who.user_id, drafts.c.state == "in_review"]
        if flt.urgency:
            conditions.append(drafts.c.urgency.in_(flt.urgency))
        total = (await self.session.execute(select(func.count()).select_from(drafts).where(*conditions))).scalar_one()
        rows = (
            await self.session.execute(
                select(
                    drafts.c.id.label("draft_id"),
                    drafts.c.subject,
                    drafts.c.type_name,
                    drafts.c.urgency,
                    drafts.c.state,
                    drafts.c.current_step,
                    drafts.c.updated_at,
                    drafts.c.version,
                    literal(None).label("deadline"),
                )
                .where(*conditions)
                .order_by(drafts.c.updated_at.desc())
                .limit(flt.limit)
                .offset(flt.offset)
            )
        ).mappings().all()
        return InboxPage(box, [dict(x) for x in rows], total)


def counts_statement(who: Who, today: date, soon: date) -> Any:
    """Conditional sums over the user's open assignments (one index range), and one scalar
    subquery per other box."""

    def triple(deadline: Any, where: Any, table: Any) -> list[Any]:
        return [
            select(func.count()).select_from(table).where(*where).scalar_subquery(),
            select(func.coalesce(func.sum(case((deadline < today, 1), else_=0)), 0))
            .select_from(table)
            .where(*where)
            .scalar_subquery(),
            select(func.coalesce(func.sum(case((deadline.between(today, soon), 1), else_=0)), 0))
            .select_from(table)
            .where(*where)
            .scalar_subquery(),
        ]

    a = assignments
    mine = (a.c.assignee_key.in_(who.keys), a.c.is_open.is_(True))
    columns: list[Any] = []
    for box in ASSIGNMENT_BOXES:
        role = a.c.role == str(box)
        columns += [
            func.coalesce(func.sum(case((role, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(role, a.c.deadline < today), 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(role, a.c.deadline.between(today, soon)), 1), else_=0)), 0),
        ]
    waiting = (handlings.c.agency_code == who.agency, handlings.c.state == "waiting")
    columns += triple(handlings.c.default_deadline, waiting, handlings) if who.is_leader else [literal(0)] * 3
    opinions = (opinion_requests.c.participant_key.in_(who.keys), opinion_requests.c.answered_at.is_(None))
    columns += triple(opinion_requests.c.due_date, opinions, opinion_requests)
    columns.append(
        select(func.count())
        .where(drafts.c.creator_id == who.user_id, drafts.c.state.in_(("drafting", "returned")))
        .scalar_subquery()
    )
    columns.append(
        select(func.count())
        .where(drafts.c.current_reviewer_id == who.user_id, drafts.c.state == "in_review")
        .scalar_subquery()
    )
    return select(*columns).where(*mine)


def readable(who: Who) -> Any:
    """Whether `who` sees a handling's subject (SQL, per row of `handlings`): it is not secret,
    or they hold the registry's grant, or — acting for themselves — they are in its tree."""
    h, a = handlings, assignments
    person = who.person or who.user_id
    granted = exists().where(secret_readers.c.document_id == h.c.document_id, secret_readers.c.user_id == person)
    if person != who.user_id:  # under a delegation only the delegate's own grant counts
        return or_(h.c.secrecy == Secrecy.NORMAL.value, granted)
    involved = exists().where(
        a.c.handling_id == h.c.id, or_(a.c.assigned_by == who.user_id, a.c.assignee_key.in_(who.keys))
    )
    return or_(h.c.secrecy == Secrecy.NORMAL.value, granted, involved)


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    """A secret document's item as someone without access sees it (domain/secrecy.py)."""
    item["redacted"] = not item.pop("readable")
    if item["redacted"]:
        item.update(subject=SECRET_SUBJECT, code_notation=None)
        if "instruction" in item:
            item["instruction"] = ""
    return item


def _deadline_filters(column: Any, flt: InboxFilter, today: date, soon: date) -> list[Any]:
    out = []
    if flt.overdue and flt.due_soon:
        out.append(or_(column < today, column.between(today, soon)))
    elif flt.overdue:
        out.append(column < today)
    elif flt.due_soon:
        out.append(column.between(today, soon))
    return out


def _with_flags(row: dict[str, Any], today: date, soon: date) -> dict[str, Any]:
    deadline = row.get("deadline")
    row["overdue"] = deadline is not None and deadline < today
    row["due_soon"] = deadline is not None and today <= deadline <= soon
    return row
