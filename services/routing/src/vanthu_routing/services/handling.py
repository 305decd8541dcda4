"""Use cases of handling incoming documents: open from the registry, assign, act, extend, urge."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.envelope import RawEnvelope
from vanthu_contracts.events import registry as reg
from vanthu_contracts.events import routing as c
from vanthu_contracts.events.common import Role, Urgency
from vanthu_contracts.events.registry import FileRef
from vanthu_contracts.events.routing import DelegationScope, NotificationKind, UrgingLevel
from vanthu_routing.clock import VIETNAM
from vanthu_routing.domain import handling as d
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.handling import Handling, HandlingState, NewAssignee
from vanthu_routing.domain.rules import RuleBroken
from vanthu_routing.domain.secrecy import (
    SECRET_SUBJECT,
    is_secret,
    may_assign,
    notice_label,
    redacted_handling,
    redacted_history,
    sees_details,
)
from vanthu_routing.ids import new_id
from vanthu_routing.repos.directory import DirectoryRepo
from vanthu_routing.repos.drafts import DraftRepo
from vanthu_routing.repos.handlings import HandlingRecord, HandlingRepo
from vanthu_routing.repos.secret_readers import SecretReaderRepo
from vanthu_routing.repos.sql import check_expected
from vanthu_routing.services.actors import resolve_actor
from vanthu_routing.services.context import RoutingContext, envelope, rules
from vanthu_routing.services.notifier import Message
from vanthu_runtime.auth import Principal
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import Tx

DOCUMENTS_CONSUMER = c.DOCUMENTS_CONSUMER.durable
log = logging.getLogger("vanthu.routing.handling")


def _ref(rec: HandlingRecord, status: c.SenderStatus | None) -> dict[str, Any]:
    h = rec.handling
    return {
        "handling_id": h.id,
        "document_id": h.document_id,
        "agency_code": h.agency,
        "channel": rec.channel,
        "sender": rec.sender,
        "external_document_id": rec.external_document_id,
        "status_code": status,
    }


def _assignment_ref(
    rec: HandlingRecord, a: d.Assignment, status: c.SenderStatus | None, at: datetime
) -> dict:
    return {
        **_ref(rec, status),
        "assignment_id": a.id,
        "kind": a.kind,
        "assignee_id": a.assignee_id,
        "role": a.role,
        "at": at,
    }


def _label(rec: HandlingRecord) -> str:
    return notice_label(rec.code_notation, rec.handling.subject, rec.secrecy, rec.incoming_number)


def _redacted(rec: HandlingRecord) -> HandlingRecord:
    """What someone without access sees of a secret document's handling (domain/secrecy.py)."""
    return replace(
        rec,
        handling=redacted_handling(rec.handling),
        sender=None,
        external_document_id=None,
        code_notation=None,
        redacted=True,
    )


class HandlingService:
    def __init__(self, ctx: RoutingContext) -> None:
        self.ctx = ctx

    # -- from the registry ------------------------------------------------------------------

    async def on_registered(self, tx: Tx, raw: RawEnvelope) -> bool:
        """Open the handling of a registered document (03). False when already applied."""
        if not await tx.claim(DOCUMENTS_CONSUMER, raw.id):
            return False
        facts = reg.IncomingRegistered.model_validate(raw.payload)
        repo = HandlingRepo(tx.session)
        if await repo.id_for_document(facts.document_id) is not None:
            return False  # the same document announced again under another event id
        now = self.ctx.clock.now()
        received = facts.received_at
        received_day = _vn_date(received) if received.tzinfo else received.date()
        deadline = self.ctx.deadlines.default_deadline(
            self.ctx.calendar, facts.agency_code, facts.urgency, received_day, facts.due_date
        )
        h = Handling(
            id=new_id(),
            document_id=facts.document_id,
            agency=facts.agency_code,
            state=HandlingState.WAITING,
            urgency=str(facts.urgency),
            subject=facts.subject,
            default_deadline=deadline,
            created_at=now,
        )
        status = h.accept()
        rec = HandlingRecord(
            handling=h,
            channel=facts.channel,
            sender=facts.sender,
            external_document_id=facts.external_document_id,
            type_name=facts.type_name,
            code_notation=_notation(facts),
            incoming_number=facts.incoming_number,
            secrecy=str(facts.secrecy),
            received_at=received,
        )
        await repo.add(rec)
        await repo.log(h.id, "accepted", raw.actor, None, now)
        if is_secret(rec.secrecy) and facts.registered_by:
            # The văn thư who registered it holds it (the registry's grant, announced too).
            await SecretReaderRepo(tx.session).add(h.document_id, facts.registered_by, "registration", now)
        await tx.publish(
            envelope(
                c.HANDLING_ACCEPTED.type,
                c.HandlingAccepted(
                    **_ref(rec, status),
                    # Events are kept for ever and read by every service: never a secret subject.
                    subject=SECRET_SUBJECT if is_secret(rec.secrecy) else h.subject,
                    urgency=facts.urgency,
                    secrecy=facts.secrecy,
                    incoming_number=facts.incoming_number,
                    deadline=deadline,
                    accepted_at=now,
                ),
                h.agency,
                raw.actor,
                raw.correlation_id,
            )
        )
        directory = DirectoryRepo(tx.session)
        forwarded = False
        if facts.proposed_unit_id and facts.agency_code in self.ctx.direct_forward_agencies:
            # The agency's rules let the văn thư forward straight to the unit (Decree 30 Art. 23).
            clerk = Actor(raw.actor, h.agency, None, frozenset({str(Role.HEAD)}), acted_by=raw.actor)
            tree = await directory.tree(h.agency, [])
            today = self.ctx.clock.today()
            try:
                effect = h.assign(
                    clerk,
                    [
                        NewAssignee(
                            c.AssigneeKind.UNIT,
                            facts.proposed_unit_id,
                            c.HandlingRole.MAIN,
                            _not_before(deadline, today),
                        )
                    ],
                    ids=[new_id()],
                    instruction="Văn thư chuyển theo đề xuất",
                    today=today,
                    now=now,
                    tree=tree,
                )
            except RuleBroken as exc:
                # An unknown (or not yet projected) unit: the leaders decide instead.
                log.warning(
                    "document %s: cannot forward to %s (%s)",
                    h.document_id,
                    facts.proposed_unit_id,
                    exc.code.code,
                )
            else:
                await repo.save(rec)
                await self._publish(tx, rec, clerk, effect, now)
                forwarded = True
        if not forwarded:
            leaders = await directory.leaders(h.agency)
            await self.ctx.notifier.notify(
                tx,
                h.agency,
                leaders,
                Message(
                    NotificationKind.WAITING_ASSIGNMENT,
                    f"Văn bản đến chờ phân công: {_label(rec)}",
                    f"Incoming document waiting for assignment: {_label(rec)}",
                    "handling",
                    h.id,
                ),
                now,
            )
        return True

    async def on_returned(self, tx: Tx, raw: RawEnvelope) -> bool:
        """The văn thư returned the document to its sender: the handling is refused (02)."""
        if not await tx.claim(DOCUMENTS_CONSUMER, raw.id):
            return False
        facts = reg.IncomingReturned.model_validate(raw.payload)
        repo = HandlingRepo(tx.session)
        now = self.ctx.clock.now()
        handling_id = await repo.id_for_document(facts.document_id)
        if handling_id is None:
            # Returned before it was ever registered: keep a closed handling so 02 is sent once.
            h = Handling(
                id=new_id(),
                document_id=facts.document_id,
                agency=facts.agency_code,
                state=HandlingState.WAITING,
                urgency=str(Urgency.NORMAL),
                subject="",
                default_deadline=None,
                created_at=now,
            )
            rec = HandlingRecord(
                handling=h,
                channel=facts.channel,
                sender=facts.sender,
                external_document_id=facts.external_document_id,
                type_name="",
                code_notation=None,
                incoming_number=0,
                secrecy="thuong",
                received_at=facts.returned_at,
            )
            effect = h.refuse(facts.reason, now)
            await repo.add(rec)
        else:
            rec = await repo.get(handling_id)
            effect = rec.handling.refuse(facts.reason, now)
            if effect is None:
                return False
            await repo.save(rec)
        assert effect is not None
        await repo.log(rec.handling.id, "refused", raw.actor, None, now, note=facts.reason)
        await tx.publish(
            envelope(
                c.HANDLING_REFUSED.type,
                c.HandlingRefused(**_ref(rec, effect.status), reason=facts.reason, refused_at=now),
                rec.handling.agency,
                raw.actor,
                raw.correlation_id,
            )
        )
        await self._publish_withdrawn(tx, rec, raw.actor, list(effect.closed), now)
        return True

    async def on_secret_granted(self, tx: Tx, raw: RawEnvelope) -> bool:
        """The registry let someone read a secret document: they see its handling in full."""
        if not await tx.claim(DOCUMENTS_CONSUMER, raw.id):
            return False
        grant = reg.SecretAccessGranted.model_validate(raw.payload)
        return await SecretReaderRepo(tx.session).add(
            grant.document_id, grant.user_id, grant.source[:20], grant.granted_at
        )

    # -- actions by people --------------------------------------------------------------------

    async def assign(
        self,
        principal: Principal,
        handling_id: str,
        assignees: list[NewAssignee],
        instruction: str,
        *,
        parent_id: str | None = None,
        expected_version: int | None = None,
        on_behalf_of: str | None = None,
    ) -> HandlingRecord:
        now = self.ctx.clock.now()
        async with self.ctx.uow.begin() as tx:
            actor = await resolve_actor(tx.session, principal, on_behalf_of, DelegationScope.HANDLING, now)
            repo = HandlingRepo(tx.session)
            rec = await repo.get(handling_id)
            self._same_agency(actor, rec)
            await self._may_assign(tx.session, actor, rec, parent_id)
            if parent_id is None:
                check_expected(expected_version, rec.handling.version, rec.handling.id)
            else:
                with rules():
                    parent = rec.handling.get(parent_id)
                check_expected(expected_version, parent.version, parent.id)
            people = [a.assignee_id for a in assignees if a.kind is c.AssigneeKind.USER]
            if parent_id is not None and parent.kind is c.AssigneeKind.USER:
                people.append(parent.assignee_id)
            # The units given the document are notified through their heads: read them with the tree.
            units = [a.assignee_id for a in assignees if a.kind is c.AssigneeKind.UNIT]
            tree, heads = await DirectoryRepo(tx.session).tree_and_heads(rec.handling.agency, people, units)
            today = self.ctx.clock.today()
            if parent_id is None:
                # At the top, a handler without a date gets the document's handling deadline;
                # nhận để biết has nothing to do by a date.
                assignees = [
                    a
                    if a.deadline is not None or a.role is c.HandlingRole.INFO
                    else NewAssignee(
                        a.kind, a.assignee_id, a.role, _not_before(rec.handling.default_deadline, today)
                    )
                    for a in assignees
                ]
            with rules():
                effect = rec.handling.assign(
                    actor,
                    assignees,
                    ids=[new_id() for _ in assignees],
                    instruction=instruction,
                    today=self.ctx.clock.today(),
                    now=now,
                    tree=tree,
                    parent_id=parent_id,
                )
            await repo.save(rec)
            await self._publish(tx, rec, actor, effect, now, heads=heads)
            shown, _ = await self._as_seen_by(tx.session, actor, rec)
        return shown

    async def act(
        self,
        principal: Principal,
        assignment_id: str,
        action: str,
        *,
        expected_version: int | None = None,
        on_behalf_of: str | None = None,
        note: str = "",
        percent: int = 0,
        files: list[FileRef] | None = None,
        reply_draft_id: str | None = None,
        new_deadline: date | None = None,
        approve: bool = True,
        level: UrgingLevel | None = None,
    ) -> HandlingRecord:
        """One action on one assignment: acknowledge, progress, complete, return, withdraw,
        request_extension, decide_extension, urge."""
        now = self.ctx.clock.now()
        today = self.ctx.clock.today()
        async with self.ctx.uow.begin() as tx:
            actor = await resolve_actor(tx.session, principal, on_behalf_of, DelegationScope.HANDLING, now)
            repo = HandlingRepo(tx.session)
            rec = await repo.get_by_assignment(assignment_id)
            self._same_agency(actor, rec)
            h = rec.handling
            with rules():
                target = h.get(assignment_id)
            check_expected(expected_version, target.version, target.id)
            if action == "complete" and reply_draft_id is not None:
                await DraftRepo(tx.session).get(reply_draft_id, h.agency)  # routing.draft_not_found
            calls: dict[str, Callable[[], Any]] = {
                "acknowledge": lambda: h.acknowledge(actor, assignment_id, now),
                "progress": lambda: h.progress(actor, assignment_id, note, percent, now),
                "complete": lambda: h.complete(actor, assignment_id, note, reply_draft_id, today, now),
                "return": lambda: h.return_(actor, assignment_id, note, now),
                "withdraw": lambda: h.withdraw(actor, assignment_id, now),
                "request_extension": lambda: h.request_extension(
                    actor, assignment_id, _required(new_deadline), note, today
                ),
                "decide_extension": lambda: h.decide_extension(actor, assignment_id, approve, note, now),
                "urge": lambda: h.check_urge(actor, assignment_id),
            }
            with rules():
                effect = calls[action]()
            if action == "urge":
                await self._urge(tx, rec, actor, target, level or UrgingLevel.REMIND, note, now)
                # Urging changes nothing in the tree, but it is an action on the document:
                # bump the version so a client holding an older view learns about it.
                target.dirty = True
            await repo.save(rec)
            await repo.log(
                h.id,
                action,
                actor.person,
                actor.on_behalf_of,
                now,
                assignment_id=assignment_id,
                note=note,
                percent=percent if action == "progress" else None,
                files=[f.model_dump() for f in files or []],
            )
            if action != "urge":
                await self._publish(tx, rec, actor, effect, now, files=files or [])
            shown, _ = await self._as_seen_by(tx.session, actor, rec)
        return shown

    async def get(
        self, principal: Principal, handling_id: str, on_behalf_of: str | None = None
    ) -> tuple[HandlingRecord, list[dict[str, Any]]]:
        async with self.ctx.uow.read() as session:
            actor = await resolve_actor(session, principal, on_behalf_of, None, self.ctx.clock.now())
            repo = HandlingRepo(session)
            rec = await repo.get(handling_id)
            self._readable(actor, rec)
            return await self._as_seen_by(session, actor, rec, await repo.history(handling_id))

    async def by_document(
        self, principal: Principal, document_id: str, on_behalf_of: str | None = None
    ) -> HandlingRecord:
        async with self.ctx.uow.read() as session:
            actor = await resolve_actor(session, principal, on_behalf_of, None, self.ctx.clock.now())
            repo = HandlingRepo(session)
            handling_id = await repo.id_for_document(document_id)
            if handling_id is None:
                raise AppError(c.UNKNOWN_HANDLING, {"document_id": document_id})
            rec = await repo.get(handling_id)
            self._readable(actor, rec)
            shown, _ = await self._as_seen_by(session, actor, rec)
        return shown

    @staticmethod
    async def _as_seen_by(
        session: AsyncConnection,
        actor: Actor,
        rec: HandlingRecord,
        history: list[dict[str, Any]] | None = None,
    ) -> tuple[HandlingRecord, list[dict[str, Any]]]:
        """The handling (and its history) as `actor` may see it: redacted for a secret document
        they have no access to."""
        history = history or []
        if not is_secret(rec.secrecy):
            return rec, history
        readers = await SecretReaderRepo(session).of(rec.handling.document_id)
        if sees_details(rec.handling, rec.secrecy, actor, readers):
            return rec, history
        return _redacted(rec), redacted_history(history)

    @staticmethod
    async def _may_assign(
        session: AsyncConnection, actor: Actor, rec: HandlingRecord, parent_id: str | None
    ) -> None:
        """A secret document is assigned only by someone who may read it (the assigner reads it)."""
        if not is_secret(rec.secrecy):
            return
        readers = await SecretReaderRepo(session).of(rec.handling.document_id)
        allowed = (
            may_assign(rec.secrecy, actor, readers)
            if parent_id is None
            else sees_details(rec.handling, rec.secrecy, actor, readers)
        )
        if not allowed:
            raise AppError(c.SECRET_NOT_GRANTED, {"handling_id": rec.handling.id})

    @staticmethod
    def _readable(actor: Actor, rec: HandlingRecord) -> None:
        if rec.handling.agency != actor.agency:
            raise AppError(c.UNKNOWN_HANDLING, {"handling_id": rec.handling.id})
        if not rec.handling.may_read(actor):
            raise AppError(c.NOT_YOURS, {"handling_id": rec.handling.id})

    async def urging_counts(self, principal: Principal) -> list[dict[str, Any]]:
        async with self.ctx.uow.read() as session:
            return await HandlingRepo(session).urging_counts(principal.agency)

    # -- helpers --------------------------------------------------------------------------------

    @staticmethod
    def _same_agency(actor: Actor, rec: HandlingRecord) -> None:
        if actor.agency != rec.handling.agency:
            # Another agency's document is simply not there for this user.
            raise AppError(c.UNKNOWN_HANDLING, {"handling_id": rec.handling.id})

    async def _urge(
        self,
        tx: Tx,
        rec: HandlingRecord,
        actor: Actor,
        a: d.Assignment,
        level: UrgingLevel,
        note: str,
        now: datetime,
    ) -> None:
        count = await HandlingRepo(tx.session).add_urging(
            {
                "agency_code": rec.handling.agency,
                "handling_id": rec.handling.id,
                "assignment_id": a.id,
                "assignee_key": a.key,
                "level": str(level),
                "message": note,
                "urged_by": actor.person,
                "on_behalf_of": actor.on_behalf_of,
                "at": now,
            }
        )
        await tx.publish(
            envelope(
                c.HANDLING_URGED.type,
                c.HandlingUrged(
                    **_assignment_ref(rec, a, None, now),
                    level=level,
                    message=note,
                    urged_by=actor.user_id,
                    count_for_handler=count,
                ),
                rec.handling.agency,
                actor,
            )
        )
        labels = {
            UrgingLevel.REMIND: ("Nhắc nhở", "Reminder"),
            UrgingLevel.CRITICISE: ("Phê bình", "Criticism"),
            UrgingLevel.REVIEW: ("Yêu cầu kiểm điểm", "Review required"),
        }
        vi, en = labels[level]
        recipients = await self.ctx.notifier.recipients(tx, rec.handling.agency, a.kind, a.assignee_id)
        await self.ctx.notifier.notify(
            tx,
            rec.handling.agency,
            recipients,
            Message(
                NotificationKind.URGED, f"{vi}: {_label(rec)}", f"{en}: {_label(rec)}", "assignment", a.id
            ),
            now,
            actor.person,
        )

    async def _publish(
        self,
        tx: Tx,
        rec: HandlingRecord,
        actor: Actor,
        effect: d.Effect | d.Assignment,
        now: datetime,
        files: list[FileRef] | None = None,
        heads: dict[str, list[str]] | None = None,
    ) -> None:
        """The effect's event, history and notifications. `heads`: the heads of units already
        read (unit id → user ids), so notifying them costs no query."""
        agency = rec.handling.agency
        notify = self.ctx.notifier
        label = _label(rec)
        if isinstance(effect, d.Assigned):
            assigned = envelope(
                c.HANDLING_ASSIGNED.type,
                c.HandlingAssigned(
                    **_ref(rec, effect.status),
                    assigned_by=actor.user_id,
                    parent_assignment_id=effect.parent_id,
                    assignees=[
                        c.AssigneeOut(
                            assignment_id=a.id,
                            kind=a.kind,
                            assignee_id=a.assignee_id,
                            role=a.role,
                            deadline=a.deadline,
                        )
                        for a in effect.assignments
                    ],
                    instruction=effect.instruction[:2000],
                    assigned_at=now,
                ),
                agency,
                actor,
            )
            await HandlingRepo(tx.session).log(
                rec.handling.id,
                "assigned",
                actor.person,
                actor.on_behalf_of,
                now,
                assignment_id=effect.parent_id,
                note=effect.instruction,
            )
            notices = []
            for a in effect.assignments:
                role_vi = {"main": "xử lý chính", "support": "phối hợp", "info": "để biết"}[str(a.role)]
                known = (
                    heads.get(a.assignee_id) if heads is not None and a.kind is c.AssigneeKind.UNIT else None
                )
                recipients = (
                    known if known is not None else await notify.recipients(tx, agency, a.kind, a.assignee_id)
                )
                notices.append(
                    (
                        recipients,
                        Message(
                            NotificationKind.ASSIGNED,
                            f"Văn bản giao {role_vi}: {label}",
                            f"Document assigned ({a.role}): {label}",
                            "assignment",
                            a.id,
                        ),
                    )
                )
            await notify.notify_each(tx, agency, notices, now, actor.person, events=[assigned])
        elif isinstance(effect, d.Acknowledged):
            await tx.publish(
                envelope(
                    c.HANDLING_ACKNOWLEDGED.type,
                    c.HandlingAcknowledged(**_assignment_ref(rec, effect.assignment, effect.status, now)),
                    agency,
                    actor,
                )
            )
        elif isinstance(effect, d.Progressed):
            await tx.publish(
                envelope(
                    c.HANDLING_PROGRESSED.type,
                    c.HandlingProgressed(
                        **_assignment_ref(rec, effect.assignment, effect.status, now),
                        note=effect.note[:2000],
                        percent=effect.percent,
                        files=files or [],
                    ),
                    agency,
                    actor,
                )
            )
        elif isinstance(effect, d.Completed):
            a = effect.assignment
            event = envelope(
                c.HANDLING_COMPLETED.type,
                c.HandlingCompleted(
                    **_assignment_ref(rec, a, effect.status, now),
                    result=a.result[:4000],
                    reply_draft_id=a.reply_draft_id,
                    document_completed=effect.document_completed,
                    on_time=effect.on_time,
                ),
                agency,
                actor,
            )
            await notify.notify(
                tx,
                agency,
                [a.assigned_by],
                Message(
                    NotificationKind.COMPLETED,
                    f"Đã xử lý xong: {label}",
                    f"Handling completed: {label}",
                    "assignment",
                    a.id,
                ),
                now,
                actor.person,
                events=[event],
            )
        elif isinstance(effect, d.Returned):
            a = effect.assignment
            event = envelope(
                c.HANDLING_RETURNED.type,
                c.HandlingReturned(
                    **_assignment_ref(rec, a, effect.status, now),
                    reason=effect.reason[:2000],
                    returned_to=effect.returned_to,
                ),
                agency,
                actor,
            )
            recipients = [effect.returned_to]
            if a.parent_id is None:
                recipients += await DirectoryRepo(tx.session).leaders(agency)
            await notify.notify(
                tx,
                agency,
                recipients,
                Message(
                    NotificationKind.RETURNED,
                    f"Văn bản bị trả lại: {label} — {effect.reason}",
                    f"Assignment returned: {label} — {effect.reason}",
                    "assignment",
                    a.id,
                ),
                now,
                actor.person,
                events=[event],
            )
        elif isinstance(effect, d.Withdrawn):
            await self._publish_withdrawn(tx, rec, actor, list(effect.withdrawn), now)
        elif isinstance(effect, d.Extended):
            a = effect.assignment
            event = envelope(
                c.HANDLING_EXTENDED.type,
                c.HandlingExtended(
                    **_assignment_ref(rec, a, None, now),
                    old_deadline=effect.old_deadline,
                    new_deadline=effect.new_deadline,
                    approved_by=actor.user_id,
                ),
                agency,
                actor,
            )
            await notify.notify(
                tx,
                agency,
                await notify.recipients(tx, agency, a.kind, a.assignee_id),
                Message(
                    NotificationKind.EXTENSION_DECIDED,
                    f"Đồng ý gia hạn đến {effect.new_deadline:%d/%m/%Y}: {label}",
                    f"Extension approved until {effect.new_deadline.isoformat()}: {label}",
                    "assignment",
                    a.id,
                ),
                now,
                actor.person,
                events=[event],
            )
        elif isinstance(effect, d.ExtensionRejected):
            a = effect.assignment
            await notify.notify(
                tx,
                agency,
                await notify.recipients(tx, agency, a.kind, a.assignee_id),
                Message(
                    NotificationKind.EXTENSION_DECIDED,
                    f"Không đồng ý gia hạn: {label}",
                    f"Extension refused: {label}",
                    "assignment",
                    a.id,
                ),
                now,
                actor.person,
            )
        elif isinstance(effect, d.ExtensionRequested):
            a = effect.assignment
            await notify.notify(
                tx,
                agency,
                [a.assigned_by],
                Message(
                    NotificationKind.EXTENSION_REQUESTED,
                    f"Đề nghị gia hạn đến {effect.new_deadline:%d/%m/%Y}: {label}",
                    f"Extension requested until {effect.new_deadline.isoformat()}: {label}",
                    "assignment",
                    a.id,
                ),
                now,
                actor.person,
            )

    async def _publish_withdrawn(
        self, tx: Tx, rec: HandlingRecord, actor: Actor | str, withdrawn: list[d.Assignment], now: datetime
    ) -> None:
        if not withdrawn:
            return
        first = withdrawn[0]
        event = envelope(
            c.HANDLING_WITHDRAWN.type,
            c.HandlingWithdrawn(
                **_assignment_ref(rec, first, None, now),
                withdrawn_assignment_ids=[a.id for a in withdrawn],
            ),
            rec.handling.agency,
            actor,
        )
        recipients: list[str] = []
        for a in withdrawn:
            recipients += await self.ctx.notifier.recipients(tx, rec.handling.agency, a.kind, a.assignee_id)
        await self.ctx.notifier.notify(
            tx,
            rec.handling.agency,
            recipients,
            Message(
                NotificationKind.WITHDRAWN,
                f"Văn bản đã bị thu hồi: {_label(rec)}",
                f"Assignment withdrawn: {_label(rec)}",
                "handling",
                rec.handling.id,
            ),
            now,
            actor.person if isinstance(actor, Actor) else actor,
            events=[event],
        )


def _not_before(day: date | None, today: date) -> date | None:
    return None if day is None else max(day, today)


def _required(value: date | None) -> date:
    if value is None:
        raise AppError(c.EXTENSION_NOT_LATER, {"field": "new_deadline"})
    return value


def _notation(facts: reg.IncomingRegistered) -> str | None:
    if facts.code_number and facts.code_notation:
        return f"{facts.code_number}/{facts.code_notation}"
    return facts.code_notation or facts.code_number


def _vn_date(at: datetime) -> date:
    return at.astimezone(VIETNAM).date()
