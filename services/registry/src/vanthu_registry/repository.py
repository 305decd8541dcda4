"""Tables of the registry and the repository that maps them to domain objects."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.events.common import Role
from vanthu_registry.domain.directory import Agency, Unit, User
from vanthu_registry.tables import agencies, inbox, metadata, outbox, units, users

__all__ = ["DirectoryRepository", "inbox", "metadata", "outbox"]

def _now() -> datetime:
    return datetime.now(UTC)


class DirectoryRepository:
    def __init__(self, session: AsyncConnection) -> None:
        self.session = session

    # agencies
    async def get_agency(self, code: str) -> Agency | None:
        row = (await self.session.execute(select(agencies).where(agencies.c.code == code))).mappings().first()
        return _agency(row) if row else None

    async def list_agencies(self) -> list[Agency]:
        rows = (await self.session.execute(select(agencies).order_by(agencies.c.code))).mappings().all()
        return [_agency(r) for r in rows]

    async def agency_parents(self) -> dict[str, str | None]:
        rows = (await self.session.execute(select(agencies.c.code, agencies.c.parent_code))).all()
        return {r.code: r.parent_code for r in rows}

    async def save_agency(self, agency: Agency) -> None:
        values = {
            "name": agency.name,
            "abbreviation": agency.abbreviation,
            "parent_code": agency.parent_code,
            "hosted": agency.hosted,
            "active": agency.active,
            "address": agency.address,
            "email": agency.email,
            "phone": agency.phone,
            "updated_at": _now(),
        }
        if await self.get_agency(agency.code) is None:
            await self.session.execute(agencies.insert().values(code=agency.code, **values))
        else:
            await self.session.execute(agencies.update().where(agencies.c.code == agency.code).values(**values))

    # units
    async def get_unit(self, unit_id: str) -> Unit | None:
        row = (await self.session.execute(select(units).where(units.c.id == unit_id))).mappings().first()
        return _unit(row) if row else None

    async def list_units(self, agency_code: str | None = None) -> list[Unit]:
        query = select(units).order_by(units.c.agency_code, units.c.name)
        if agency_code:
            query = query.where(units.c.agency_code == agency_code)
        return [_unit(r) for r in (await self.session.execute(query)).mappings().all()]

    async def unit_parents(self, agency_code: str) -> dict[str, str | None]:
        rows = (
            await self.session.execute(
                select(units.c.id, units.c.parent_unit_id).where(units.c.agency_code == agency_code)
            )
        ).all()
        return {r.id: r.parent_unit_id for r in rows}

    async def save_unit(self, unit: Unit) -> None:
        values = {
            "agency_code": unit.agency_code,
            "name": unit.name,
            "abbreviation": unit.abbreviation,
            "parent_unit_id": unit.parent_unit_id,
            "active": unit.active,
            "updated_at": _now(),
        }
        if await self.get_unit(unit.id) is None:
            await self.session.execute(units.insert().values(id=unit.id, **values))
        else:
            await self.session.execute(units.update().where(units.c.id == unit.id).values(**values))

    # users
    async def get_user(self, user_id: str) -> User | None:
        row = (await self.session.execute(select(users).where(users.c.id == user_id))).mappings().first()
        return _user(row) if row else None

    async def get_user_by_username(self, username: str) -> tuple[User, str | None] | None:
        row = (
            await self.session.execute(select(users).where(users.c.username == username))
        ).mappings().first()
        return (_user(row), row["password_hash"]) if row else None

    async def list_users(self, agency_code: str | None = None) -> list[User]:
        query = select(users).order_by(users.c.agency_code, users.c.username)
        if agency_code:
            query = query.where(users.c.agency_code == agency_code)
        return [_user(r) for r in (await self.session.execute(query)).mappings().all()]

    async def save_user(self, user: User, password_hash: str | None = None) -> None:
        values = {
            "username": user.username,
            "full_name": user.full_name,
            "agency_code": user.agency_code,
            "unit_id": user.unit_id,
            "position": user.position,
            "email": user.email,
            "roles": [str(r) for r in user.roles],
            "granted_secrecy": list(user.granted_secrecy),
            "active": user.active,
            "updated_at": _now(),
        }
        if password_hash is not None:
            values["password_hash"] = password_hash
        if await self.get_user(user.id) is None:
            await self.session.execute(users.insert().values(id=user.id, **values))
        else:
            await self.session.execute(users.update().where(users.c.id == user.id).values(**values))


def _agency(row: object) -> Agency:
    r = dict(row)  # type: ignore[call-overload]
    return Agency(
        code=r["code"],
        name=r["name"],
        abbreviation=r["abbreviation"],
        parent_code=r["parent_code"],
        hosted=r["hosted"],
        active=r["active"],
        address=r["address"],
        email=r["email"],
        phone=r["phone"],
    )


def _unit(row: object) -> Unit:
    r = dict(row)  # type: ignore[call-overload]
    return Unit(
        id=r["id"],
        agency_code=r["agency_code"],
        name=r["name"],
        abbreviation=r["abbreviation"],
        parent_unit_id=r["parent_unit_id"],
        active=r["active"],
    )


def _user(row: object) -> User:
    r = dict(row)  # type: ignore[call-overload]
    return User(
        id=r["id"],
        username=r["username"],
        full_name=r["full_name"],
        agency_code=r["agency_code"],
        unit_id=r["unit_id"],
        position=r["position"],
        email=r["email"],
        roles=tuple(Role(x) for x in r["roles"]),
        granted_secrecy=tuple(r["granted_secrecy"] or ()),
        active=r["active"],
    )
