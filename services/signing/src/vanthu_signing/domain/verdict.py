"""From the checks on one signature to a verdict and findings in Vietnamese and English.

After ETSI EN 319 102-1: a broken digest or signature, a later change the signature does
not allow, or a certificate revoked before the signing time make a signature INVALID; a
missing trust path, an expired certificate or an unknown revocation status leave it
INDETERMINATE (TT 15/2025: warn when the status cannot be checked); otherwise VALID.
"""

from __future__ import annotations

from dataclasses import dataclass

from vanthu_contracts.events.signing import Finding, RevocationStatus, Verdict

FINDINGS: dict[str, tuple[Verdict, str, str]] = {
    "signing.verify.tampered": (
        Verdict.INVALID,
        "Nội dung văn bản đã bị thay đổi sau khi ký (mã băm không khớp).",
        "The document was changed after signing (digest mismatch).",
    ),
    "signing.verify.bad_signature": (
        Verdict.INVALID,
        "Chữ ký không khớp với khóa công khai của chứng thư số.",
        "The signature does not match the certificate's public key.",
    ),
    "signing.verify.disallowed_changes": (
        Verdict.INVALID,
        "Văn bản có thay đổi sau khi ký mà chữ ký không cho phép.",
        "The document has changes after signing that the signature does not allow.",
    ),
    "signing.verify.revoked": (
        Verdict.INVALID,
        "Chứng thư số đã bị thu hồi trước thời điểm ký.",
        "The certificate was revoked before the signing time.",
    ),
    "signing.verify.untrusted": (
        Verdict.INDETERMINATE,
        "Không xây dựng được đường dẫn tin cậy tới chứng thư gốc được cấu hình.",
        "No trust path leads to a configured trust anchor.",
    ),
    "signing.verify.expired": (
        Verdict.INDETERMINATE,
        "Chứng thư số không còn hiệu lực tại thời điểm ký.",
        "The certificate was not valid at the signing time.",
    ),
    "signing.verify.revocation_unknown": (
        Verdict.INDETERMINATE,
        "Không kiểm tra được tình trạng thu hồi của chứng thư số (OCSP/CRL).",
        "The certificate's revocation status could not be checked (OCSP/CRL).",
    ),
    "signing.verify.revoked_after_signing": (
        Verdict.VALID,
        "Chứng thư số bị thu hồi sau thời điểm ký có dấu thời gian; chữ ký vẫn có giá trị.",
        "The certificate was revoked after the timestamped signing time; the signature stands.",
    ),
    "signing.verify.partial_coverage": (
        Verdict.INVALID,
        "Chữ ký không bao trùm toàn bộ phiên bản văn bản đã ký.",
        "The signature does not cover the whole signed revision.",
    ),
}


@dataclass(frozen=True)
class Checks:
    intact: bool
    signature_valid: bool
    changes_allowed: bool
    covers_revision: bool
    trusted_path: bool
    valid_at_signing: bool
    revocation: RevocationStatus
    revoked_before_signing: bool


def findings_for(checks: Checks) -> list[str]:
    codes: list[str] = []
    if not checks.intact:
        codes.append("signing.verify.tampered")
    if not checks.signature_valid:
        codes.append("signing.verify.bad_signature")
    if not checks.covers_revision:
        codes.append("signing.verify.partial_coverage")
    if not checks.changes_allowed:
        codes.append("signing.verify.disallowed_changes")
    if checks.revocation is RevocationStatus.REVOKED:
        codes.append(
            "signing.verify.revoked"
            if checks.revoked_before_signing
            else "signing.verify.revoked_after_signing"
        )
    if not checks.trusted_path:
        codes.append("signing.verify.untrusted")
    if not checks.valid_at_signing:
        codes.append("signing.verify.expired")
    if checks.revocation is RevocationStatus.UNKNOWN and checks.trusted_path:
        codes.append("signing.verify.revocation_unknown")
    return codes


def verdict_of(codes: list[str]) -> Verdict:
    verdicts = {FINDINGS[c][0] for c in codes}
    if Verdict.INVALID in verdicts:
        return Verdict.INVALID
    if Verdict.INDETERMINATE in verdicts:
        return Verdict.INDETERMINATE
    return Verdict.VALID


def as_findings(codes: list[str]) -> list[Finding]:
    return [Finding(code=c, message_vi=FINDINGS[c][1], message_en=FINDINGS[c][2]) for c in codes]


def overall(verdicts: list[Verdict]) -> Verdict:
    if not verdicts:
        return Verdict.NO_SIGNATURE
    if Verdict.INVALID in verdicts:
        return Verdict.INVALID
    if Verdict.INDETERMINATE in verdicts:
        return Verdict.INDETERMINATE
    return Verdict.VALID


VERDICT_TEXT = {
    Verdict.VALID: ("Hợp lệ", "Valid"),
    Verdict.INVALID: ("Không hợp lệ", "Invalid"),
    Verdict.INDETERMINATE: ("Chưa xác định được (cần kiểm tra thêm)", "Indeterminate (needs attention)"),
    Verdict.NO_SIGNATURE: ("Văn bản không có chữ ký số", "The document carries no digital signature"),
}


def summary(verdict: Verdict, count: int) -> tuple[str, str]:
    vi, en = VERDICT_TEXT[verdict]
    return f"{vi}: {count} chữ ký số.", f"{en}: {count} signature(s)."
