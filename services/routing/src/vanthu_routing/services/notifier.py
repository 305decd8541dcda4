"""In-app notifications: stored in the user's list and published, in the action's transaction.

E-mail is a second step: a notification for a user with an address is marked `pending` and the
mailer (`vanthu_routing.mailer`) sends it when SMTP is configured.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events import routing as c
from vanthu_contracts.events.routing import AssigneeKind, NotificationKind
from vanthu_routing.ids import new_id
from vanthu_routing.repos.directory import DirectoryRepo
from vanthu_routing.repository import notifications
from vanthu_runtime.uow import Tx

_INSERT = insert(notifications)  # built once: every routing action stores notifications
Assignee = tuple[str, AssigneeKind, str]  # agency, user or unit, its id


@dataclass(frozen=True)
class Message:
    kind: NotificationKind
    title_vi: str
    title_en: str
    ref_type: str
    ref_id: str


class Notifier:
    def __init__(self, *, email_enabled: bool) -> None:
        self.email_enabled = email_enabled

    async def recipients(self, tx: Tx, agency: str, kind: AssigneeKind, assignee_id: str) -> list[str]:
        """A person is their own recipient; a unit is represented by its heads."""
        if kind is AssigneeKind.USER:
            return [assignee_id]
        return (await self.recipients_of(tx, [(agency, kind, assignee_id)]))[(agency, kind, assignee_id)]

    async def recipients_of(self, tx: Tx, assignees: Iterable[Assignee]) -> dict[Assignee, list[str]]:
        """`recipients` of many (agency, kind, assignee) at once: the units' heads in one query."""
        wanted = set(assignees)
        units = {(agency, who) for agency, kind, who in wanted if kind is not AssigneeKind.USER}
        heads = await DirectoryRepo(tx.session).unit_heads_many(units)
        return {
            (agency, kind, who): [who] if kind is AssigneeKind.USER else heads[(agency, who)]
            for agency, kind, who in wanted
        }

    async def notify(
        self,
        tx: Tx,
        agency: str,
        user_ids: list[str],
        message: Message,
        now: datetime,
        actor: str = "system",
        *,
        events: list[Envelope] | None = None,
    ) -> list[str]:
        return await self.notify_each(tx, agency, [(user_ids, message)], now, actor, events=events)

    async def notify_each(
        self,
        tx: Tx,
        agency: str,
        notices: list[tuple[list[str], Message]],
        now: datetime,
        actor: str = "system",
        *,
        events: list[Envelope] | None = None,
    ) -> list[str]:
        """Several messages (each to its users) stored in one statement, and one event per
        notification queued in one outbox statement after `events` (the action's own): a round
        trip per row was most of an action's cost."""
        ids: list[str] = []
        rows = []
        envelopes = list(events or [])
        for user_ids, message in notices:
            for user_id in dict.fromkeys(user_ids):  # once per user, in order
                notification_id = new_id()
                ids.append(notification_id)
                title_vi, title_en = message.title_vi[:500], message.title_en[:500]
                rows.append(
                    {
                        "id": notification_id,
                        "agency_code": agency,
                        "user_id": user_id,
                        "kind": str(message.kind),
                        "title_vi": title_vi,
                        "title_en": title_en,
                        "ref_type": message.ref_type,
                        "ref_id": message.ref_id,
                        "created_at": now,
                        "read_at": None,
                        "email_state": "pending" if self.email_enabled else "none",
                        "email_attempts": 0,
                    }
                )
                envelopes.append(
                    Envelope(
                        type=c.NOTIFICATION_CREATED.type,
                        source="routing",
                        agency=agency,
                        actor=actor,
                        payload=c.NotificationCreated(
                            notification_id=notification_id,
                            agency_code=agency,
                            user_id=user_id,
                            kind=message.kind,
                            title_vi=title_vi,
                            title_en=title_en,
                            ref_type=message.ref_type,
                            ref_id=message.ref_id,
                            created_at=now,
                        ),
                    )
                )
        await tx.publish_many(envelopes)
        if rows:
            await tx.session.execute(_INSERT, rows)
        return ids
