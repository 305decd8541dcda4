"""Per-recipient tracking of our outgoing documents: what the sender sees for each recipient. Pure.

Statuses can arrive late or twice (the axis re-sends; replicas race). The progress shown only
moves forward: 01 đã đến < 03 đã tiếp nhận < 04 phân công < 05 đang xử lý < 06 hoàn thành;
02 từ chối ends it; the answers to a recall or update (15 đồng ý, 16 từ chối) come after all.
Every report is kept in the history, in arrival order, with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vanthu_contracts.events.interop import STATUS_LABELS_VI, StatusCode

SENT = "sent"  # not an edXML code: we sent it, nothing came back yet
_RANK = {
    StatusCode.ARRIVED: 1,
    StatusCode.ACCEPTED: 2,
    StatusCode.ASSIGNED: 3,
    StatusCode.PROCESSING: 4,
    StatusCode.DONE: 5,
    StatusCode.REFUSED: 6,
    StatusCode.CHANGE_ACCEPTED: 7,
    StatusCode.CHANGE_REFUSED: 7,
}


# What the sender sees before any status came back: where our own send to that recipient is.
DELIVERY_LABELS_VI = {"sent": "Đã gửi", "failed": "Gửi không thành công"}
SENDING_LABEL_VI = "Đang gửi"  # planned or being sent (retried after a failure)


@dataclass(frozen=True)
class Tracking:
    code: str | None
    description: str
    history: list[dict[str, Any]]
    delivery: str | None = None  # our send: pending | sending | sent | failed (None: not known)

    @property
    def label_vi(self) -> str:
        if self.code is None:
            if self.delivery is None:
                return DELIVERY_LABELS_VI["sent"]
            return DELIVERY_LABELS_VI.get(self.delivery, SENDING_LABEL_VI)
        return STATUS_LABELS_VI.get(StatusCode(self.code), self.code)


def rank(code: str | None) -> int:
    if code is None:
        return 0
    try:
        return _RANK.get(StatusCode(code), 0)
    except ValueError:
        return 0


def apply(current: Tracking, code: str, description: str, at: str) -> Tracking:
    """Record a report; the shown status changes only when it does not go backwards."""
    history = [*current.history, {"code": code, "description": description, "at": at}]
    if rank(code) >= rank(current.code) and rank(code) > 0:
        return Tracking(code=code, description=description, history=history)
    return Tracking(code=current.code, description=current.description, history=history)
