"""A validation report as text for people: each line in Vietnamese, then English."""

from __future__ import annotations

from vanthu_contracts.events.signing import SignatureReport, ValidationReport
from vanthu_signing.domain.appearance import vietnam_time
from vanthu_signing.domain.verdict import VERDICT_TEXT

_REVOCATION = {
    "good": ("còn hiệu lực", "good"),
    "revoked": ("đã bị thu hồi", "revoked"),
    "unknown": ("không kiểm tra được", "unknown"),
}
_COVERAGE = {
    "entire_file": ("toàn bộ tệp", "the whole file"),
    "entire_revision": (
        "toàn bộ phiên bản đã ký (có cập nhật sau)",
        "the whole signed revision (updated later)",
    ),
}


def _yes(value: bool | None) -> str:
    return "có / yes" if value else "không / no"


def _signature(i: int, s: SignatureReport) -> list[str]:
    vi, en = VERDICT_TEXT[s.verdict]
    rev_vi, rev_en = _REVOCATION[s.revocation.value]
    cov_vi, cov_en = _COVERAGE.get(s.coverage, (s.coverage, s.coverage))
    lines = [
        f"Chữ ký {i} / Signature {i}: {s.field_name} — {vi} / {en}",
        f"  Người ký / Signer: {s.signer.common_name or s.signer.subject}",
        f"  Cơ quan cấp chứng thư / Issuer: {s.signer.issuer}",
        f"  Hiệu lực chứng thư / Validity: {vietnam_time(s.signer.not_before)} → {vietnam_time(s.signer.not_after)}"
        f" (tại thời điểm ký / at signing: {_yes(s.signer.valid_at_signing)})",
        f"  Thời gian ký (tự khai) / Claimed signing time: {vietnam_time(s.signing_time) if s.signing_time else '-'}",
        f"  Dấu thời gian / Timestamp: {vietnam_time(s.timestamp_time) if s.timestamp_time else '-'}",
        f"  Tin cậy / Trusted: {_yes(s.trusted)}; chứng thư gốc / anchor: {s.trust_anchor or '-'}",
        f"  Tình trạng thu hồi / Revocation: {rev_vi} / {rev_en}",
        f"  Toàn vẹn / Integrity: {_yes(s.intact and s.signature_valid)}",
        f"  Phạm vi ký / Coverage: {cov_vi} / {cov_en}; thay đổi sau khi ký / later changes: {s.modification_level}",
        f"  Mức PAdES / PAdES level: {s.pades_level}",
    ]
    lines += [f"  ! {f.message_vi} / {f.message_en}" for f in s.findings]
    return lines


def render(report: ValidationReport) -> str:
    vi, en = VERDICT_TEXT[report.verdict]
    lines = [
        f"Tệp / File: {report.file_name or '-'} (SHA-256 {report.file_sha256})",
        f"Kết luận / Verdict: {vi} / {en}",
        f"{report.summary_vi} / {report.summary_en}",
    ]
    for i, signature in enumerate(report.signatures, 1):
        lines += _signature(i, signature)
    return "\n".join(lines)
