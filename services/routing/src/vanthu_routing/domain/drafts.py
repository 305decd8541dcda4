"""Outgoing drafts: editing, the review chain, signatures and issue (Decree 30 Art. 10-18).

A specialist drafts; the draft goes up a chain of reviewers (e.g. trưởng phòng → phó lãnh đạo →
lãnh đạo), the last of whom signs. Each reviewer approves (next step), forwards to someone else
(a step inserted after theirs) or returns it with comments (back to the drafter, who resubmits
from the first step). The signer's approval asks signing for the personal signature, then the
agency seal; the registry then numbers and issues it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from vanthu_contracts.events import routing as c
from vanthu_contracts.events.routing import ReviewDecision
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.rules import RuleBroken


class DraftState(StrEnum):
    DRAFTING = "drafting"  # dự thảo
    IN_REVIEW = "in_review"  # đang trình duyệt
    RETURNED = "returned"  # bị trả lại
    APPROVED = "approved"  # đã duyệt, chờ ký (personal signature requested)
    SIGNED = "signed"  # đã ký (agency seal requested)
    SEALED = "sealed"  # đã đóng dấu số (waiting for the number)
    ISSUED = "issued"  # đã phát hành


EDITABLE = frozenset({DraftState.DRAFTING, DraftState.RETURNED})


@dataclass
class ReviewStep:
    order: int
    reviewer_id: str
    label: str = ""
    signer: bool = False
    decision: ReviewDecision | None = None
    comment: str = ""
    decided_at: datetime | None = None
    acted_by: str | None = None

    def to_dict(self) -> dict:
        return {
            "order": self.order,
            "reviewer_id": self.reviewer_id,
            "label": self.label,
            "signer": self.signer,
            "decision": str(self.decision) if self.decision else None,
            "comment": self.comment,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "acted_by": self.acted_by,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ReviewStep:
        return cls(
            order=d["order"],
            reviewer_id=d["reviewer_id"],
            label=d.get("label", ""),
            signer=d.get("signer", False),
            decision=ReviewDecision(d["decision"]) if d.get("decision") else None,
            comment=d.get("comment", ""),
            decided_at=datetime.fromisoformat(d["decided_at"]) if d.get("decided_at") else None,
            acted_by=d.get("acted_by"),
        )


def build_chain(reviewers: list[tuple[str, str]], creator_id: str, agency_users: set[str]) -> list[ReviewStep]:
    """Steps from (reviewer id, label) pairs; the last reviewer signs."""
    if not reviewers:
        raise RuleBroken(c.CHAIN_REQUIRED)
    ids = [r for r, _ in reviewers]
    if len(set(ids)) != len(ids) or creator_id in ids or any(r not in agency_users for r in ids):
        raise RuleBroken(c.CHAIN_INVALID, {"reviewers": ids})
    return [
        ReviewStep(order=i + 1, reviewer_id=rid, label=label, signer=i == len(reviewers) - 1)
        for i, (rid, label) in enumerate(reviewers)
    ]


@dataclass
class Draft:
    id: str
    agency: str
    creator_id: str
    state: DraftState
    chain: list[ReviewStep] = field(default_factory=list)
    current_step: int | None = None  # index into chain
    has_main_file: bool = False
    version: int = 1

    @property
    def current(self) -> ReviewStep | None:
        if self.state is not DraftState.IN_REVIEW or self.current_step is None:
            return None
        return self.chain[self.current_step]

    @property
    def signer(self) -> ReviewStep | None:
        return next((s for s in self.chain if s.signer), None)

    def _require_creator(self, actor: Actor) -> None:
        if actor.user_id != self.creator_id or actor.agency != self.agency:
            raise RuleBroken(c.NOT_YOURS, {"draft_id": self.id})

    def check_edit(self, actor: Actor) -> None:
        """The drafter edits while drafting or returned; the reviewer in turn may edit too."""
        current = self.current
        if current is not None and current.reviewer_id == actor.user_id:
            return
        self._require_creator(actor)
        if self.state not in EDITABLE:
            raise RuleBroken(c.DRAFT_NOT_EDITABLE, {"state": str(self.state)})

    def submit(self, actor: Actor, chain: list[ReviewStep]) -> None:
        self._require_creator(actor)
        if self.state not in EDITABLE:
            raise RuleBroken(c.ALREADY_SUBMITTED, {"state": str(self.state)})
        if not self.has_main_file:
            raise RuleBroken(c.FILE_REQUIRED)
        self.chain = chain
        self.current_step = 0
        self.state = DraftState.IN_REVIEW

    def review(
        self,
        actor: Actor,
        decision: ReviewDecision,
        comment: str,
        now: datetime,
        forward_to: str | None = None,
        forward_label: str = "",
        agency_users: set[str] | None = None,
    ) -> ReviewStep:
        """Apply one reviewer's decision; returns the step that was decided."""
        step = self.current
        if step is None:
            raise RuleBroken(c.TRANSITION_NOT_ALLOWED, {"state": str(self.state)}, state=str(self.state))
        if step.reviewer_id != actor.user_id or actor.agency != self.agency:
            raise RuleBroken(c.NOT_YOUR_TURN, {"draft_id": self.id})
        assert self.current_step is not None
        if decision is ReviewDecision.RETURN:
            if not comment.strip():
                raise RuleBroken(c.REASON_REQUIRED)
            self.state = DraftState.RETURNED
            self.current_step = None
        elif decision is ReviewDecision.FORWARD:
            if step.signer:
                # The signer does not hand the signature to someone else here; that is delegation.
                raise RuleBroken(c.TRANSITION_NOT_ALLOWED, {"state": "signer"}, state="signer")
            known = agency_users or set()
            in_chain = {s.reviewer_id for s in self.chain[self.current_step :]}
            if not forward_to or forward_to not in known or forward_to in in_chain or forward_to == self.creator_id:
                raise RuleBroken(c.CHAIN_INVALID, {"forward_to": forward_to})
            self.chain.insert(self.current_step + 1, ReviewStep(order=0, reviewer_id=forward_to, label=forward_label))
            self.current_step += 1
        elif step.signer:
            self.state = DraftState.APPROVED
            self.current_step = None
        else:
            self.current_step += 1
        step.decision = decision
        step.comment = comment
        step.decided_at = now
        step.acted_by = actor.person
        for i, s in enumerate(self.chain):
            s.order = i + 1
        return step

    def personal_signed(self) -> bool:
        """False when the outcome was already applied (a redelivered event)."""
        if self.state is not DraftState.APPROVED:
            return False
        self.state = DraftState.SIGNED
        return True

    def sealed(self) -> bool:
        if self.state is not DraftState.SIGNED:
            return False
        self.state = DraftState.SEALED
        return True

    def issued(self) -> bool:
        if self.state is DraftState.ISSUED:
            return False
        if self.state is not DraftState.SEALED:
            raise RuleBroken(c.TRANSITION_NOT_ALLOWED, {"state": str(self.state)}, state=str(self.state))
        self.state = DraftState.ISSUED
        return True
