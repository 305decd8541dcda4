"""Load and store the Handling aggregate (a handling row plus its assignment rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.events import routing as c
from vanthu_contracts.events.registry import Channel, OrganRef
from vanthu_contracts.events.routing import AssigneeKind, HandlingRole, SenderStatus
from vanthu_routing.domain.handling import Assignment, AssignmentState, Handling, HandlingState
from vanthu_routing.ids import new_id
from vanthu_routing.repos.sql import update_versioned
from vanthu_routing.repository import assignments, handling_log, handlings, urgings
from vanthu_runtime.errors import AppError


@dataclass
class HandlingRecord:
    """The aggregate plus the facts about the document that the rules do not need."""

    handling: Handling
    channel: Channel
    sender: OrganRef | None
    external_document_id: str | None
    type_name: str
    code_notation: str | None
    incoming_number: int
    secrecy: str
    received_at: datetime
    redacted: bool = False  # a secret document's handling as shown to someone without access


_MUTABLE = (
    "state",
    "is_open",
    "percent",
    "result",
    "reply_draft_id",
    "deadline",
    "closed_at",
    "extension_requested",
    "extension_reason",
)


def _snapshot(h: Handling) -> tuple[Any, ...]:
    return (h.state, frozenset(h.statuses_sent), h.completed_at)


def _assignment(row: Any) -> Assignment:
    return Assignment(
        id=row.id,
        handling_id=row.handling_id,
        parent_id=row.parent_id,
        kind=AssigneeKind(row.kind),
        assignee_id=row.assignee_id,
        role=HandlingRole(row.role),
        assigned_by=row.assigned_by,
        assigned_on_behalf_of=row.assigned_on_behalf_of,
        deadline=row.deadline,
        instruction=row.instruction,
        state=AssignmentState(row.state),
        created_at=row.created_at,
        percent=row.percent,
        result=row.result,
        reply_draft_id=row.reply_draft_id,
        closed_at=row.closed_at,
        extension_requested=row.extension_requested,
        extension_reason=row.extension_reason,
        version=row.version,
    )


def _assignment_values(a: Assignment, urgency: str, agency: str) -> dict[str, Any]:
    return {
        "handling_id": a.handling_id,
        "parent_id": a.parent_id,
        "kind": str(a.kind),
        "assignee_id": a.assignee_id,
        "assignee_key": a.key,
        "role": str(a.role),
        "assigned_by": a.assigned_by,
        "assigned_on_behalf_of": a.assigned_on_behalf_of,
        "deadline": a.deadline,
        "instruction": a.instruction,
        "state": str(a.state),
        "is_open": a.is_open,
        "percent": a.percent,
        "result": a.result,
        "reply_draft_id": a.reply_draft_id,
        "urgency": urgency,
        "created_at": a.created_at,
        "closed_at": a.closed_at,
        "extension_requested": a.extension_requested,
        "extension_reason": a.extension_reason,
    }


# The statements of every action, built once: building and hashing a statement tree per call
# cost more CPU than running it (a handling row, its assignments in columns after it).
_HANDLING_COLUMNS = tuple(col.name for col in handlings.c)
_ASSIGNMENT_COLUMNS = tuple(col.name for col in assignments.c)
_SPLIT = len(_HANDLING_COLUMNS)
_AGGREGATE = (
    select(handlings, assignments)
    .outerjoin(assignments, assignments.c.handling_id == handlings.c.id)
    .order_by(assignments.c.created_at, assignments.c.id)
)
_BY_ID = _AGGREGATE.where(handlings.c.id == bindparam("handling_id"))
_BY_ASSIGNMENT = _AGGREGATE.where(
    handlings.c.id
    == select(assignments.c.handling_id)
    .where(assignments.c.id == bindparam("assignment_id"))
    .scalar_subquery()
)
_LOG = insert(handling_log)


class HandlingRepo:
    def __init__(self, session: AsyncConnection) -> None:
        self.session = session
        self._loaded: set[str] = set()

    async def add(self, record: HandlingRecord) -> None:
        h = record.handling
        await self.session.execute(
            insert(handlings).values(
                id=h.id,
                document_id=h.document_id,
                agency_code=h.agency,
                state=str(h.state),
                channel=str(record.channel),
                sender=record.sender.model_dump() if record.sender else None,
                external_document_id=record.external_document_id,
                type_name=record.type_name,
                code_notation=record.code_notation,
                subject=h.subject,
                incoming_number=record.incoming_number,
                urgency=h.urgency,
                secrecy=record.secrecy,
                received_at=record.received_at,
                default_deadline=h.default_deadline,
                statuses_sent=sorted(str(s) for s in h.statuses_sent),
                created_at=h.created_at,
                completed_at=h.completed_at,
                version=h.version,
            )
        )
        await self._save_assignments(h)

    async def id_for_document(self, document_id: str) -> str | None:
        return (
            await self.session.execute(select(handlings.c.id).where(handlings.c.document_id == document_id))
        ).scalar_one_or_none()

    async def external_document_ids(self, handling_ids: list[str]) -> list[str]:
        """The senders' DocumentIds of these handlings' documents: what a reply answers (edXML ResponseFor)."""
        if not handling_ids:
            return []
        rows = await self.session.execute(
            select(handlings.c.id, handlings.c.external_document_id).where(handlings.c.id.in_(handling_ids))
        )
        found = {row.id: row.external_document_id for row in rows}
        return [found[h] for h in handling_ids if found.get(h)]

    async def handling_of_assignment(self, assignment_id: str) -> str:
        found = (
            await self.session.execute(
                select(assignments.c.handling_id).where(assignments.c.id == assignment_id)
            )
        ).scalar_one_or_none()
        if found is None:
            raise AppError(c.UNKNOWN_ASSIGNMENT, {"assignment_id": assignment_id})
        return found

    async def get_by_assignment(self, assignment_id: str) -> HandlingRecord:
        """The handling that holds `assignment_id`."""
        record = await self._load(_BY_ASSIGNMENT, {"assignment_id": assignment_id})
        if record is None:
            raise AppError(c.UNKNOWN_ASSIGNMENT, {"assignment_id": assignment_id})
        return record

    async def get(self, handling_id: str) -> HandlingRecord:
        record = await self._load(_BY_ID, {"handling_id": handling_id})
        if record is None:
            raise AppError(c.UNKNOWN_HANDLING, {"handling_id": handling_id})
        return record

    async def _load(self, statement: Any, params: dict[str, str]) -> HandlingRecord | None:
        """The handling row and all its assignment rows in one round trip (an outer join)."""
        result = (await self.session.execute(statement, params)).all()
        if not result:
            return None
        row = SimpleNamespace(**dict(zip(_HANDLING_COLUMNS, result[0][:_SPLIT], strict=True)))
        h = Handling(
            id=row.id,
            document_id=row.document_id,
            agency=row.agency_code,
            state=HandlingState(row.state),
            urgency=row.urgency,
            subject=row.subject,
            default_deadline=row.default_deadline,
            created_at=row.created_at,
            assignments=[
                _assignment(SimpleNamespace(**dict(zip(_ASSIGNMENT_COLUMNS, r[_SPLIT:], strict=True))))
                for r in result
                if r[_SPLIT] is not None
            ],
            statuses_sent={SenderStatus(s) for s in row.statuses_sent},
            completed_at=row.completed_at,
            version=row.version,
        )
        self._loaded = {a.id for a in h.assignments}
        self._snapshot = _snapshot(h)
        return HandlingRecord(
            handling=h,
            channel=Channel(row.channel),
            sender=OrganRef.model_validate(row.sender) if row.sender else None,
            external_document_id=row.external_document_id,
            type_name=row.type_name,
            code_notation=row.code_notation,
            incoming_number=row.incoming_number,
            secrecy=row.secrecy,
            received_at=row.received_at,
        )

    async def save(self, record: HandlingRecord) -> None:
        """Store the aggregate.

        Every changed assignment row is updated under its own version. The handling row (and its
        version) changes when the handling's state or sender statuses change, or when assignments
        are added at the top level: that version is what makes two leaders' concurrent "one main
        handler" decisions conflict. Below the top, the parent assignment's version does it."""
        h = record.handling
        top_level_added = any(
            a.dirty and a.parent_id is None and a.id not in self._loaded for a in h.assignments
        )
        if top_level_added or _snapshot(h) != getattr(self, "_snapshot", None):
            await self._bump(h)
        await self._save_assignments(h)
        self._snapshot = _snapshot(h)

    async def _bump(self, h: Handling) -> None:
        h.version = await update_versioned(
            self.session,
            handlings,
            h.id,
            h.version,
            {
                "state": str(h.state),
                "statuses_sent": sorted(str(s) for s in h.statuses_sent),
                "completed_at": h.completed_at,
            },
        )

    async def _save_assignments(self, h: Handling) -> None:
        new_rows = []
        for a in h.assignments:
            if not a.dirty:
                continue
            values = _assignment_values(a, h.urgency, h.agency)
            if a.id in self._loaded:
                # Who, what role, under whom and when it was given never change after insert.
                changes = {k: values[k] for k in _MUTABLE}
                a.version = await update_versioned(self.session, assignments, a.id, a.version, changes)
            else:
                new_rows.append({"id": a.id, **values, "version": a.version})
                self._loaded.add(a.id)
            a.dirty = False
        if new_rows:
            await self.session.execute(insert(assignments), new_rows)

    async def log(
        self,
        handling_id: str,
        action: str,
        actor: str,
        on_behalf_of: str | None,
        at: datetime,
        *,
        assignment_id: str | None = None,
        note: str = "",
        percent: int | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> None:
        await self.session.execute(
            _LOG,
            {
                "id": new_id(),
                "handling_id": handling_id,
                "assignment_id": assignment_id,
                "action": action,
                "actor": actor,
                "on_behalf_of": on_behalf_of,
                "note": note,
                "percent": percent,
                "files": files or [],
                "at": at,
            },
        )

    async def history(self, handling_id: str) -> list[dict[str, Any]]:
        rows = (
            (
                await self.session.execute(
                    select(handling_log)
                    .where(handling_log.c.handling_id == handling_id)
                    .order_by(handling_log.c.at, handling_log.c.id)
                )
            )
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]

    async def add_urging(self, values: dict[str, Any]) -> int:
        """Store one urging; returns how many of this level the handler has now."""
        await self.session.execute(insert(urgings).values(id=new_id(), **values))
        return (
            await self.session.execute(
                select(func.count()).where(
                    urgings.c.agency_code == values["agency_code"],
                    urgings.c.assignee_key == values["assignee_key"],
                    urgings.c.level == values["level"],
                )
            )
        ).scalar_one()

    async def urging_counts(self, agency: str) -> list[dict[str, Any]]:
        rows = (
            await self.session.execute(
                select(urgings.c.assignee_key, urgings.c.level, func.count().label("count"))
                .where(urgings.c.agency_code == agency)
                .group_by(urgings.c.assignee_key, urgings.c.level)
                .order_by(urgings.c.assignee_key, urgings.c.level)
            )
        ).all()
        return [{"assignee_key": r.assignee_key, "level": r.level, "count": r.count} for r in rows]
