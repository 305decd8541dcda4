"""The draft's review chain and signing states, without any infrastructure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vanthu_contracts.events import routing as c
from vanthu_contracts.events.routing import ReviewDecision
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.drafts import Draft, DraftState, build_chain
from vanthu_routing.domain.rules import RuleBroken

AGENCY = "000.00.12.H99"
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
USERS = {"cv", "tp", "pgd", "gd", "tpb"}


def who(user: str) -> Actor:
    return Actor(user, AGENCY, None, frozenset())


def draft(has_file: bool = True) -> Draft:
    return Draft(id="d1", agency=AGENCY, creator_id="cv", state=DraftState.DRAFTING, has_main_file=has_file)


def chain() -> list:
    return build_chain([("tp", "Trưởng phòng"), ("pgd", "Phó Giám đốc"), ("gd", "Giám đốc")], "cv", USERS)


def broken(code, fn, *args) -> None:
    with pytest.raises(RuleBroken) as info:
        fn(*args)
    assert info.value.code is code, info.value.code.code


@pytest.mark.parametrize(
    ("reviewers", "code"),
    [
        ([], c.CHAIN_REQUIRED),
        ([("tp", ""), ("tp", "")], c.CHAIN_INVALID),
        ([("cv", "")], c.CHAIN_INVALID),
        ([("stranger", "")], c.CHAIN_INVALID),
    ],
)
def test_bad_chains(reviewers, code) -> None:
    broken(code, build_chain, reviewers, "cv", USERS)


def test_the_last_reviewer_signs() -> None:
    steps = chain()
    assert [s.signer for s in steps] == [False, False, True] and [s.order for s in steps] == [1, 2, 3]


def test_submit_rules() -> None:
    broken(c.FILE_REQUIRED, draft(has_file=False).submit, who("cv"), chain())
    broken(c.NOT_YOURS, draft().submit, who("tp"), chain())
    d = draft()
    d.submit(who("cv"), chain())
    assert d.state is DraftState.IN_REVIEW and d.current.reviewer_id == "tp"
    broken(c.ALREADY_SUBMITTED, d.submit, who("cv"), chain())


def test_review_walks_the_chain_with_forward_and_return() -> None:
    d = draft()
    d.submit(who("cv"), chain())
    broken(c.NOT_YOUR_TURN, d.review, who("pgd"), ReviewDecision.APPROVE, "", NOW)
    d.review(who("tp"), ReviewDecision.APPROVE, "Đồng ý", NOW)
    broken(c.CHAIN_INVALID, d.review, who("pgd"), ReviewDecision.FORWARD, "", NOW, "gd", "", USERS)  # already later
    d.review(who("pgd"), ReviewDecision.FORWARD, "Xin ý kiến phòng B", NOW, "tpb", "Trưởng phòng B", USERS)
    assert [s.reviewer_id for s in d.chain] == ["tp", "pgd", "tpb", "gd"] and d.current.reviewer_id == "tpb"
    broken(c.REASON_REQUIRED, d.review, who("tpb"), ReviewDecision.RETURN, " ", NOW)
    d.review(who("tpb"), ReviewDecision.RETURN, "Bổ sung số liệu", NOW)
    assert d.state is DraftState.RETURNED and d.current is None
    d.check_edit(who("cv"))  # back with the drafter
    d.submit(who("cv"), build_chain([("tp", ""), ("gd", "")], "cv", USERS))
    d.check_edit(who("tp"))  # the reviewer in turn may edit
    broken(c.DRAFT_NOT_EDITABLE, d.check_edit, who("cv"))
    d.review(who("tp"), ReviewDecision.APPROVE, "", NOW)
    broken(c.TRANSITION_NOT_ALLOWED, d.review, who("gd"), ReviewDecision.FORWARD, "", NOW, "tpb", "", USERS)
    step = d.review(who("gd"), ReviewDecision.APPROVE, "", NOW)
    assert step.signer and d.state is DraftState.APPROVED
    broken(c.TRANSITION_NOT_ALLOWED, d.review, who("gd"), ReviewDecision.APPROVE, "", NOW)


def test_signatures_then_issue_each_apply_once() -> None:
    d = draft()
    d.submit(who("cv"), build_chain([("gd", "")], "cv", USERS))
    assert not d.sealed()  # the seal never comes before the signer's signature
    broken(c.TRANSITION_NOT_ALLOWED, d.issued)
    d.review(who("gd"), ReviewDecision.APPROVE, "", NOW)
    assert d.personal_signed() and not d.personal_signed()
    assert d.sealed() and not d.sealed()
    assert d.issued() and not d.issued()
    assert d.state is DraftState.ISSUED
