"""Compliance rules (pure): given a period's figures, which agencies, units and people to flag.

The provincial IT departments used to find these by hand:

- register_only: an agency registers incoming documents but (almost) never routes them in the
  system — it handles them on paper;
- scan_and_send: an agency issues outgoing documents without a draft and approval trail in the
  system — drafted and signed on paper, scanned, then sent;
- no_drafts: a unit (or agency) with no outgoing draft in the period;
- inactive_unit / inactive_person: no activity for N days;
- paper_reregistration: a document that came in electronically was registered again from paper;
- ranking: agencies ordered by a usage score (see `usage_score`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FlagKind(StrEnum):
    REGISTER_ONLY = "register_only"
    SCAN_AND_SEND = "scan_and_send"
    NO_DRAFTS = "no_drafts"
    INACTIVE_UNIT = "inactive_unit"
    INACTIVE_PERSON = "inactive_person"
    PAPER_REREGISTRATION = "paper_reregistration"


FLAG_LABELS_VI = {
    FlagKind.REGISTER_ONLY: "Chỉ vào sổ văn bản đến, không chuyển xử lý trên hệ thống",
    FlagKind.SCAN_AND_SEND: "Phát hành văn bản đi không có dự thảo, duyệt trên hệ thống (scan rồi gửi)",
    FlagKind.NO_DRAFTS: "Không có dự thảo văn bản đi trong kỳ",
    FlagKind.INACTIVE_UNIT: "Đơn vị không hoạt động trên hệ thống",
    FlagKind.INACTIVE_PERSON: "Cán bộ không hoạt động trên hệ thống",
    FlagKind.PAPER_REREGISTRATION: "Văn bản đã nhận điện tử lại được vào sổ từ bản giấy",
}


@dataclass(frozen=True)
class Thresholds:
    register_only_min_registered: int = 10
    register_only_max_routed_share: float = 0.05
    scan_and_send_min_issued: int = 5
    scan_and_send_min_share: float = 0.5
    inactive_days: int = 30


@dataclass
class Flag:
    kind: FlagKind
    agency: str
    unit: str = ""
    person: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    name: str = ""

    @property
    def label_vi(self) -> str:
        return FLAG_LABELS_VI[self.kind]


def register_only(agency: str, registered: int, routed: int, t: Thresholds) -> Flag | None:
    if registered < t.register_only_min_registered:
        return None
    share = routed / registered
    if share > t.register_only_max_routed_share:
        return None
    return Flag(
        FlagKind.REGISTER_ONLY,
        agency,
        evidence={"registered": registered, "routed": routed, "routed_share": round(share, 4)},
    )


def scan_and_send(agency: str, issued: int, without_trail: int, t: Thresholds) -> Flag | None:
    if issued < t.scan_and_send_min_issued:
        return None
    share = without_trail / issued
    if share < t.scan_and_send_min_share:
        return None
    return Flag(
        FlagKind.SCAN_AND_SEND,
        agency,
        evidence={"issued": issued, "without_trail": without_trail, "share": round(share, 4)},
    )


def usage_score(
    *, registered: int, routed: int, issued: int, with_trail: int, signed: int, users: int, active: int
) -> float:
    """0–100: the mean of four shares — incoming routed in the system, outgoing drafted and approved
    in the system, outgoing digitally signed, and people active. A share with nothing to measure
    (no documents, no users) is left out rather than counted as full or empty."""
    shares = [
        routed / registered if registered else None,
        with_trail / issued if issued else None,
        signed / issued if issued else None,
        active / users if users else None,
    ]
    known = [min(1.0, s) for s in shares if s is not None]
    return round(100.0 * sum(known) / len(known), 2) if known else 0.0
