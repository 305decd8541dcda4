"""The local directory projection: agencies, units and users as the registry announced them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_routing.domain.actors import LEADER_ROLES, UNIT_HEAD_ROLES
from vanthu_routing.domain.handling import UnitTree
from vanthu_routing.repos.sql import upsert
from vanthu_routing.repository import dir_agencies, dir_units, dir_users


@dataclass(frozen=True)
class DirUser:
    id: str
    agency_code: str
    unit_id: str | None
    full_name: str
    position: str
    roles: frozenset[str]
    email: str
    active: bool


def _user(row: Any) -> DirUser:
    return DirUser(
        id=row.id,
        agency_code=row.agency_code,
        unit_id=row.unit_id,
        full_name=row.full_name,
        position=row.position,
        roles=frozenset(row.roles or ()),
        email=row.email or "",
        active=row.active,
    )


# Built once (an assignment runs it every time): the agency's active units, and its active
# users who are either named or in one of the units whose heads are wanted.
_TREE_AND_HEADS = union_all(
    select(
        literal("user").label("what"), dir_users.c.id, dir_users.c.unit_id.label("parent"), dir_users.c.roles
    ).where(
        dir_users.c.agency_code == bindparam("agency"),
        dir_users.c.active.is_(True),
        or_(
            dir_users.c.id.in_(bindparam("user_ids", expanding=True)),
            dir_users.c.unit_id.in_(bindparam("head_units", expanding=True)),
        ),
    ),
    select(literal("unit"), dir_units.c.id, dir_units.c.parent_unit_id, null()).where(
        dir_units.c.agency_code == bindparam("agency"), dir_units.c.active.is_(True)
    ),
)


class DirectoryRepo:
    def __init__(self, session: AsyncConnection) -> None:
        self.session = session

    async def save_agency(self, values: dict[str, Any]) -> None:
        await upsert(self.session, dir_agencies, values, ["code"])

    async def save_unit(self, values: dict[str, Any]) -> None:
        await upsert(self.session, dir_units, values, ["id"])

    async def save_user(self, values: dict[str, Any]) -> None:
        await upsert(self.session, dir_users, values, ["id"])

    async def user(self, user_id: str) -> DirUser | None:
        row = (await self.session.execute(select(dir_users).where(dir_users.c.id == user_id))).first()
        return _user(row) if row else None

    async def users(self, user_ids: list[str]) -> dict[str, DirUser]:
        if not user_ids:
            return {}
        rows = (await self.session.execute(select(dir_users).where(dir_users.c.id.in_(user_ids)))).all()
        return {r.id: _user(r) for r in rows}

    async def unit_abbreviation(self, unit_id: str | None) -> str | None:
        """The drafting unit's abbreviation (VP): the registry puts the agency's before it (UBND-VP)."""
        if unit_id is None:
            return None
        return (
            await self.session.execute(select(dir_units.c.abbreviation).where(dir_units.c.id == unit_id))
        ).scalar_one_or_none() or None

    async def tree(self, agency: str, user_ids: Iterable[str] | None = None) -> UnitTree:
        """All units of the agency, and its users (only `user_ids` when given: agencies are big,
        a rule needs a handful of people)."""
        units = (
            await self.session.execute(
                select(dir_units.c.id, dir_units.c.parent_unit_id).where(
                    dir_units.c.agency_code == agency, dir_units.c.active.is_(True)
                )
            )
        ).all()
        query = select(dir_users.c.id, dir_users.c.unit_id).where(
            dir_users.c.agency_code == agency, dir_users.c.active.is_(True)
        )
        wanted = None if user_ids is None else list(user_ids)
        if wanted is not None:
            query = query.where(dir_users.c.id.in_(wanted))
        users = (await self.session.execute(query)).all() if wanted != [] else []
        return UnitTree(
            agency=agency,
            unit_parent={u.id: u.parent_unit_id for u in units},
            user_unit={u.id: u.unit_id for u in users},
        )

    async def tree_and_heads(
        self, agency: str, user_ids: list[str], head_units: list[str]
    ) -> tuple[UnitTree, dict[str, list[str]]]:
        """`tree(agency, user_ids)` and the heads of each of `head_units`, in one round trip:
        what an assignment checks, and whom it notifies."""
        rows = (
            await self.session.execute(
                _TREE_AND_HEADS, {"agency": agency, "user_ids": user_ids, "head_units": head_units}
            )
        ).all()
        wanted_users, wanted_units = set(user_ids), set(head_units)
        head_roles = {str(r) for r in UNIT_HEAD_ROLES}
        heads: dict[str, list[str]] = {unit: [] for unit in head_units}
        user_unit: dict[str, str | None] = {}
        for r in rows:
            if r.what == "unit":
                continue
            if r.id in wanted_users:
                user_unit[r.id] = r.parent
            if r.parent in wanted_units and head_roles & set(r.roles or ()):
                heads[r.parent].append(r.id)
        tree = UnitTree(
            agency=agency,
            unit_parent={r.id: r.parent for r in rows if r.what == "unit"},
            user_unit=user_unit,
        )
        return tree, heads

    async def leaders(self, agency: str) -> list[str]:
        """Lãnh đạo and phó lãnh đạo: who receives documents waiting for assignment."""
        query = select(dir_users.c.id, dir_users.c.roles).where(
            dir_users.c.agency_code == agency, dir_users.c.active.is_(True)
        )
        wanted = {str(r) for r in LEADER_ROLES}
        return [r.id for r in (await self.session.execute(query)).all() if wanted & set(r.roles or ())]

    async def unit_heads_many(self, units: set[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
        """Trưởng and phó phòng of each (agency, unit), who act for an assignment given to the
        unit, in one query; a unit without heads maps to []."""
        heads: dict[tuple[str, str], list[str]] = {unit: [] for unit in units}
        if not units:
            return heads
        wanted = {str(r) for r in UNIT_HEAD_ROLES}
        rows = await self.session.execute(
            select(dir_users.c.id, dir_users.c.agency_code, dir_users.c.unit_id, dir_users.c.roles).where(
                dir_users.c.unit_id.in_({unit for _, unit in units}), dir_users.c.active.is_(True)
            )
        )
        for r in rows.all():
            key = (r.agency_code, r.unit_id)
            if key in heads and wanted & set(r.roles or ()):
                heads[key].append(r.id)
        return heads
