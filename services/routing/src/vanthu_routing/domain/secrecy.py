"""Who sees a secret document's handling, and what everyone else sees of it. Pure.

A secret document (mật, tối mật, tuyệt mật) is read only by those the registry lets read it:
whoever registered it (the agency's văn thư for one that arrived electronically) and whoever
was given it (`registry.document.secret_granted`). In routing, the people in its handling tree
are added: the leader who assigned it (which needs a grant, see `may_assign`), the handlers
and whoever they passed it on to, because handling a document means reading it.

Everyone else who may open the handling — the agency's other leaders, its văn thư and
administrators, who see every handling of the agency — sees it **redacted**, not hidden: the
number in the secret register, urgency, secrecy, state and deadlines stay (a leader must
know a secret document is waiting, and the inbox counts must stay true), while the subject,
the số/ký hiệu, the sender and every instruction, result and note are withheld. Hiding it
altogether would make a secret document silently vanish from the waiting box of the
leaders who have to make sure it is assigned.

A delegation does not pass on access: the registry checks the person, so routing does too
(the delegate needs a grant of their own).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from vanthu_contracts.events.common import Secrecy
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.handling import Handling

# What stands for the subject wherever a secret document's subject may not go.
SECRET_SUBJECT = "Văn bản mật — trích yếu chỉ hiển thị cho người được cấp quyền"


def is_secret(secrecy: str | None) -> bool:
    return Secrecy(secrecy or Secrecy.NORMAL) is not Secrecy.NORMAL


def in_tree(h: Handling, actor: Actor) -> bool:
    """The actor handles it, or assigned it (at any level)."""
    return any(h.acts_as_assignee(actor, a) or a.assigned_by == actor.user_id for a in h.assignments)


def sees_details(h: Handling, secrecy: str, actor: Actor, readers: Collection[str]) -> bool:
    """Whether `actor` may see the subject and the details of this handling."""
    if not is_secret(secrecy):
        return True
    if actor.person in readers:
        return True
    return actor.on_behalf_of is None and in_tree(h, actor)


def may_assign(secrecy: str, actor: Actor, readers: Collection[str]) -> bool:
    """Assigning a secret document at the top needs a grant: the assigner would read it."""
    return not is_secret(secrecy) or actor.person in readers


def notice_label(code_notation: str | None, subject: str, secrecy: str, incoming_number: int) -> str:
    """How notifications and e-mails name a document: a secret one by its number only (a
    notification is stored for its recipient and may be mailed out of the system)."""
    if is_secret(secrecy):
        return f"văn bản mật, số đến {incoming_number}"
    return f"{code_notation or ''} {subject}".strip()[:300]


def redacted_handling(h: Handling) -> Handling:
    """The same handling without its subject, instructions and results."""
    return replace(
        h,
        subject=SECRET_SUBJECT,
        assignments=[replace(a, instruction="", result="") for a in h.assignments],
    )


def redacted_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who did what and when, without the notes and files."""
    return [{**entry, "note": "", "files": []} for entry in history]
