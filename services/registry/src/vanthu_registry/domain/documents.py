"""States of a document in the registry and the moves between them.

Incoming: received → registered (vào sổ, gets its số đến) or returned (to the sender,
with a reason). A paper document is received and registered in one step. Outgoing
documents exist here only once issued: drafting belongs to routing.
"""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class DocState(StrEnum):
    RECEIVED = "received"
    REGISTERED = "registered"
    RETURNED = "returned"
    ISSUED = "issued"


_MOVES: dict[DocState, frozenset[DocState]] = {
    DocState.RECEIVED: frozenset({DocState.REGISTERED, DocState.RETURNED}),
    DocState.REGISTERED: frozenset(),
    DocState.RETURNED: frozenset(),
    DocState.ISSUED: frozenset(),
}


class IllegalTransition(ValueError):
    def __init__(self, current: DocState, wanted: DocState) -> None:
        super().__init__(f"{current} → {wanted}")
        self.current = current
        self.wanted = wanted


def move(current: DocState | str, wanted: DocState) -> DocState:
    current = DocState(current)
    if wanted not in _MOVES[current]:
        raise IllegalTransition(current, wanted)
    return wanted
