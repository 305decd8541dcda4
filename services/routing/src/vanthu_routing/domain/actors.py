"""Who acts: the identity a rule checks (after delegation is resolved)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vanthu_contracts.events.common import Role

LEADER_ROLES = frozenset({Role.HEAD, Role.DEPUTY_HEAD})
UNIT_HEAD_ROLES = frozenset({Role.UNIT_HEAD, Role.DEPUTY_UNIT_HEAD})


@dataclass(frozen=True)
class Actor:
    """The user whose authority is used (the delegator when acting on someone's behalf).

    `acted_by` is the person at the keyboard; it differs from `user_id` under a delegation.
    """

    user_id: str
    agency: str
    unit_id: str | None
    roles: frozenset[str] = field(default_factory=frozenset)
    acted_by: str | None = None

    @property
    def on_behalf_of(self) -> str | None:
        return self.user_id if self.acted_by and self.acted_by != self.user_id else None

    @property
    def person(self) -> str:
        return self.acted_by or self.user_id

    @property
    def is_leader(self) -> bool:
        return bool(self.roles & {str(r) for r in LEADER_ROLES})

    @property
    def is_head(self) -> bool:
        return str(Role.HEAD) in self.roles

    @property
    def is_unit_head(self) -> bool:
        return bool(self.roles & {str(r) for r in UNIT_HEAD_ROLES})

    def heads_unit(self, unit_id: str) -> bool:
        """True when the actor leads `unit_id` (trưởng/phó phòng of exactly that unit)."""
        return self.is_unit_head and self.unit_id == unit_id
