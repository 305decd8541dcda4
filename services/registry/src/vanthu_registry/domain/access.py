"""Who may see a document (Decree 30 §5.1 roles; Phụ lục VI "per-document access rights").

- Only the agency that holds a document sees it; to anyone else it does not exist (404).
- Secret documents (mật, tối mật, tuyệt mật): only users explicitly granted.
- Otherwise văn thư and leaders see everything; unit heads see what is assigned to
  them or their unit; everyone else what is assigned or given to them personally.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vanthu_contracts.events.common import Role, Secrecy

SEE_ALL_ROLES = frozenset({Role.CLERK, Role.HEAD, Role.DEPUTY_HEAD})
UNIT_HEAD_ROLES = frozenset({Role.UNIT_HEAD, Role.DEPUTY_UNIT_HEAD})


class GrantKind:
    ASSIGNED = "assigned"  # from routing: handling assigned
    GIVEN = "given"  # shared by someone allowed to
    SECRET = "secret"  # explicit clearance for one secret document


@dataclass(frozen=True)
class Viewer:
    user_id: str
    agency: str
    unit: str | None
    roles: frozenset[str]


@dataclass(frozen=True)
class Grant:
    principal_type: str  # "user" | "unit"
    principal_id: str
    kind: str


def sees_everything_public(viewer: Viewer) -> bool:
    return any(str(role) in viewer.roles for role in SEE_ALL_ROLES)


def is_unit_head(viewer: Viewer) -> bool:
    return any(str(role) in viewer.roles for role in UNIT_HEAD_ROLES)


def matches(viewer: Viewer, grant: Grant) -> bool:
    if grant.principal_type == "user":
        return grant.principal_id == viewer.user_id
    return grant.principal_type == "unit" and viewer.unit == grant.principal_id and is_unit_head(viewer)


def can_see(viewer: Viewer, agency: str, secrecy: Secrecy | str, grants: Iterable[Grant]) -> bool:
    if viewer.agency != agency:
        return False
    grants = list(grants)
    if Secrecy(secrecy) is not Secrecy.NORMAL:
        return any(g.kind == GrantKind.SECRET and g.principal_type == "user" and matches(viewer, g) for g in grants)
    if sees_everything_public(viewer):
        return True
    return any(g.kind in (GrantKind.ASSIGNED, GrantKind.GIVEN) and matches(viewer, g) for g in grants)
