"""Pure rules: placement geometry, stamp texts, profile rules, job claims, verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vanthu_contracts.events.signing import CopyType, RevocationStatus, SignatureKind, Verdict
from vanthu_signing.domain import appearance as a
from vanthu_signing.domain import verdict as v
from vanthu_signing.domain.jobs import ClaimDecision, JobState, JobStatus, decide_claim
from vanthu_signing.domain.profiles import (
    KeyKind,
    ProfileRuleBroken,
    Purpose,
    SignerProfile,
    needs_image,
    purpose_for,
)

A4 = a.Box(0, 0, 595, 842)
MOMENT = datetime(2026, 3, 5, 3, 15, 30, 123456, tzinfo=UTC)


def test_vietnam_time_is_iso_8601_with_plus_seven() -> None:
    assert a.vietnam_time(MOMENT) == "2026-03-05T10:15:30+07:00"
    with pytest.raises(ValueError):
        a.vietnam_time(datetime(2026, 1, 1))


def test_seal_covers_the_left_third_of_the_signature() -> None:
    personal = a.Box(300, 200, 420, 260)
    field, seal = a.seal_layout(personal, seal_diameter=100, text_width=80, page=A4)
    assert seal.x2 == pytest.approx(personal.x1 + personal.width / 3)
    assert seal.width == seal.height == 100
    assert seal.center[1] == pytest.approx(personal.center[1])
    assert field.x1 == seal.x1 and field.x2 == seal.x2 + 80


def test_boxes_that_leave_the_page_are_refused() -> None:
    with pytest.raises(a.PlacementError):
        a.personal_signature_box((590, 400), (100, 50), A4)
    with pytest.raises(a.PlacementError):
        a.seal_layout(a.Box(5, 200, 100, 260), 100, 50, A4)


def test_signature_box_is_centred_on_the_anchor_and_keeps_the_aspect_ratio() -> None:
    size = a.fit_image(600, 300, max_width=120, max_height=80)
    assert size == (120, 60)
    box = a.personal_signature_box((400, 300), size, A4)
    assert box.center == (400, 300) and box.width == 120 and box.height == 60


def test_top_right_box_sits_in_the_top_right_corner() -> None:
    box = a.top_right_box(A4, 150, 40, right_margin=42.5, top_margin=17)
    assert box.x2 == pytest.approx(595 - 42.5) and box.y2 == pytest.approx(842 - 17)


def test_stamp_texts() -> None:
    assert (
        a.seal_text(" Ủy ban nhân dân tỉnh Hà Giang ", MOMENT)
        == "Ủy ban nhân dân tỉnh Hà Giang\n2026-03-05T10:15:30+07:00"
    )
    assert a.attachment_text("45/UBND-VP", MOMENT) == "45/UBND-VP\n2026-03-05T10:15:30+07:00"
    assert a.copy_text(CopyType.SAO_Y, "Sở Xây dựng", MOMENT, "12/SY-SXD").split("\n") == [
        "SAO Y",
        "Số: 12/SY-SXD",
        "Sở Xây dựng",
        "2026-03-05T10:15:30+07:00",
    ]


def _profile(**changes: object) -> SignerProfile:
    base: dict[str, object] = {
        "id": "ubnd-seal",
        "agency_code": "000.00.00.H99",
        "purpose": Purpose.AGENCY,
        "key_kind": KeyKind.PKCS11,
        "module_path": "/usr/lib/softhsm/libsofthsm2.so",
        "token_label": "t",
        "key_label": "k",
        "pin_secret": "env:PIN",
    }
    base.update(changes)
    return SignerProfile(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"id": "Bad Id"}, "id_format"),
        ({"purpose": Purpose.PERSONAL}, "personal_needs_user"),
        ({"key_kind": KeyKind.TOKEN_PROXY}, "token_proxy_is_personal"),
        ({"module_path": None}, "pkcs11_needs_module"),
        ({"key_label": None}, "pkcs11_needs_key"),
        ({"pin_secret": "1234"}, "secret_reference"),
        ({"key_kind": KeyKind.PKCS12, "pkcs12_path": None}, "pkcs12_needs_path"),
    ],
)
def test_profile_rules(changes: dict, rule: str) -> None:
    with pytest.raises(ProfileRuleBroken) as caught:
        _profile(**changes).check(production=False)
    assert caught.value.rule == rule


def test_pkcs12_is_refused_in_production_only() -> None:
    dev = _profile(key_kind=KeyKind.PKCS12, pkcs12_path="/keys/dev.p12")
    dev.check(production=False)
    with pytest.raises(ProfileRuleBroken) as caught:
        dev.check(production=True)
    assert caught.value.rule == "pkcs12_in_production"


def test_only_listed_pkcs11_modules_may_be_loaded() -> None:
    listed = frozenset({"/usr/lib/softhsm/libsofthsm2.so"})
    _profile().check(production=True, allowed_modules=listed)
    _profile().check(production=False)  # no list: development accepts any library
    with pytest.raises(ProfileRuleBroken) as caught:
        _profile(module_path="/tmp/evil.so").check(production=False, allowed_modules=listed)
    assert (caught.value.rule, caught.value.field_name) == ("pkcs11_module_not_allowed", "module_path")


def test_kinds_map_to_purposes_and_images() -> None:
    assert purpose_for(SignatureKind.PERSONAL) is Purpose.PERSONAL
    assert {purpose_for(k) for k in (SignatureKind.SEAL, SignatureKind.COPY, SignatureKind.ATTACHMENT)} == {
        Purpose.AGENCY
    }
    assert needs_image(SignatureKind.SEAL) and not needs_image(SignatureKind.COPY)


def test_claims() -> None:
    now = datetime.now(UTC)
    live = now + timedelta(seconds=30)
    dead = now - timedelta(seconds=1)
    assert decide_claim(None, now=now, worker="a") is ClaimDecision.START
    assert (
        decide_claim(JobState(JobStatus.SIGNED, "b", dead), now=now, worker="a")
        is ClaimDecision.ALREADY_SIGNED
    )
    assert (
        decide_claim(JobState(JobStatus.FAILED, "b", dead), now=now, worker="a")
        is ClaimDecision.ALREADY_FAILED
    )
    assert decide_claim(JobState(JobStatus.RUNNING, "b", live), now=now, worker="a") is ClaimDecision.BUSY
    assert decide_claim(JobState(JobStatus.RUNNING, "a", live), now=now, worker="a") is ClaimDecision.BUSY
    assert (
        decide_claim(JobState(JobStatus.RUNNING, "b", dead), now=now, worker="a") is ClaimDecision.TAKE_OVER
    )


def _checks(**changes: object) -> v.Checks:
    base: dict[str, object] = dict(
        intact=True, signature_valid=True, changes_allowed=True, covers_revision=True, trusted_path=True,
        valid_at_signing=True, revocation=RevocationStatus.GOOD, revoked_before_signing=False,
    )  # fmt: skip
    base.update(changes)
    return v.Checks(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "code", "verdict"),
    [
        ({}, None, Verdict.VALID),
        ({"intact": False}, "signing.verify.tampered", Verdict.INVALID),
        ({"trusted_path": False}, "signing.verify.untrusted", Verdict.INDETERMINATE),
        (
            {"revocation": RevocationStatus.REVOKED, "revoked_before_signing": True},
            "signing.verify.revoked",
            Verdict.INVALID,
        ),
        ({"revocation": RevocationStatus.REVOKED}, "signing.verify.revoked_after_signing", Verdict.VALID),
        (
            {"revocation": RevocationStatus.UNKNOWN},
            "signing.verify.revocation_unknown",
            Verdict.INDETERMINATE,
        ),
        ({"valid_at_signing": False}, "signing.verify.expired", Verdict.INDETERMINATE),
    ],
)
def test_verdicts(changes: dict, code: str | None, verdict: Verdict) -> None:
    codes = v.findings_for(_checks(**changes))
    assert codes == ([code] if code else [])
    assert v.verdict_of(codes) is verdict
    for finding in v.as_findings(codes):
        assert finding.message_vi != finding.message_en


def test_overall_verdict() -> None:
    assert v.overall([]) is Verdict.NO_SIGNATURE
    assert v.overall([Verdict.VALID, Verdict.INDETERMINATE]) is Verdict.INDETERMINATE
    assert v.overall([Verdict.VALID, Verdict.INVALID]) is Verdict.INVALID
    assert v.overall([Verdict.VALID]) is Verdict.VALID
