"""Use cases of the registry."""

from __future__ import annotations

from uuid import uuid4

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.errors import FORBIDDEN, NOT_FOUND
from vanthu_contracts.events import registry as contract
from vanthu_contracts.events.common import Role
from vanthu_registry.domain.directory import (
    Agency,
    DirectoryRuleBroken,
    Unit,
    User,
    would_create_cycle,
)
from vanthu_registry.passwords import hash_password, verify_password
from vanthu_registry.repository import DirectoryRepository
from vanthu_runtime.auth import Principal
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import Tx, UnitOfWork

_RULE_CODES = {
    "agency_code_format": contract.AGENCY_CODE_INVALID,
    "agency_code_length": contract.AGENCY_CODE_INVALID,
    "agency_name_length": contract.NAME_LENGTH,
    "unit_name_length": contract.NAME_LENGTH,
    "full_name_length": contract.NAME_LENGTH,
    "position_length": contract.NAME_LENGTH,
    "abbreviation_format": contract.ABBREVIATION_INVALID,
    "agency_parent_self": contract.TREE_CYCLE,
    "unit_parent_self": contract.TREE_CYCLE,
    "username_format": contract.USERNAME_INVALID,
    "roles_required": contract.ROLES_REQUIRED,
}


def rule_error(exc: DirectoryRuleBroken) -> AppError:
    return AppError(_RULE_CODES[exc.rule], {"field": exc.field_name})


def _event(type_: str, payload: object, actor: str, agency: str | None) -> Envelope:
    return Envelope(type=type_, source="registry", agency=agency, actor=actor, payload=payload)


class DirectoryService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    # -- access ------------------------------------------------------------------------

    @staticmethod
    def _in_subtree(code: str, root: str, parents: dict[str, str | None]) -> bool:
        current: str | None = code
        seen: set[str] = set()
        while current is not None and current not in seen:
            if current == root:
                return True
            seen.add(current)
            current = parents.get(current)
        return False

    async def _require_admin_of(self, repo: DirectoryRepository, actor: Principal, agency_code: str) -> None:
        """Administrators manage their own agency and every agency below it."""
        if not actor.has_role(Role.ADMIN):
            raise AppError(FORBIDDEN)
        parents = await repo.agency_parents()
        if not self._in_subtree(agency_code, actor.agency, parents):
            raise AppError(FORBIDDEN)

    # -- agencies ----------------------------------------------------------------------

    async def upsert_agency(self, actor: Principal | None, agency_data: dict) -> Agency:
        try:
            agency = Agency(**agency_data)
        except DirectoryRuleBroken as exc:
            raise rule_error(exc) from exc
        async with self.uow.begin() as tx:
            repo = DirectoryRepository(tx.session)
            if actor is not None:
                await self._require_admin_of(repo, actor, agency.parent_code or agency.code)
                existing = await repo.get_agency(agency.code)
                if existing is not None:
                    # Re-parenting another agency under one's own would hand over its administration.
                    await self._require_admin_of(repo, actor, existing.parent_code or existing.code)
            parents = await repo.agency_parents()
            if agency.parent_code is not None and agency.parent_code not in parents:
                raise AppError(contract.UNKNOWN_PARENT, {"field": "parent_code"})
            if would_create_cycle(agency.code, agency.parent_code, parents):
                raise AppError(contract.TREE_CYCLE, {"field": "parent_code"})
            await repo.save_agency(agency)
            await self._publish_agency(tx, agency, actor)
        return agency

    async def _publish_agency(self, tx: Tx, agency: Agency, actor: Principal | None) -> None:
        await tx.publish(
            _event(
                contract.AGENCY_UPSERTED.type,
                contract.AgencyUpserted(
                    code=agency.code,
                    name=agency.name,
                    abbreviation=agency.abbreviation,
                    parent_code=agency.parent_code,
                    hosted=agency.hosted,
                    active=agency.active,
                ),
                actor.user_id if actor else "system",
                agency.code,
            )
        )

    async def list_agencies(self) -> list[Agency]:
        async with self.uow.read() as session:
            return await DirectoryRepository(session).list_agencies()

    async def get_agency(self, code: str) -> Agency:
        async with self.uow.read() as session:
            agency = await DirectoryRepository(session).get_agency(code)
        if agency is None:
            raise AppError(NOT_FOUND, {"agency": code})
        return agency

    # -- units -------------------------------------------------------------------------

    async def upsert_unit(self, actor: Principal | None, unit_data: dict) -> Unit:
        unit_data = {"id": str(uuid4()), **unit_data}
        try:
            unit = Unit(**unit_data)
        except DirectoryRuleBroken as exc:
            raise rule_error(exc) from exc
        async with self.uow.begin() as tx:
            repo = DirectoryRepository(tx.session)
            if actor is not None:
                await self._require_admin_of(repo, actor, unit.agency_code)
                existing = await repo.get_unit(unit.id)
                if existing is not None:  # an update (or a move) of another agency's unit needs its admin too
                    await self._require_admin_of(repo, actor, existing.agency_code)
            if await repo.get_agency(unit.agency_code) is None:
                raise AppError(contract.UNKNOWN_PARENT, {"field": "agency_code"})
            parents = await repo.unit_parents(unit.agency_code)
            if unit.parent_unit_id is not None and unit.parent_unit_id not in parents:
                raise AppError(contract.UNKNOWN_PARENT, {"field": "parent_unit_id"})
            if would_create_cycle(unit.id, unit.parent_unit_id, parents):
                raise AppError(contract.TREE_CYCLE, {"field": "parent_unit_id"})
            await repo.save_unit(unit)
            await tx.publish(
                _event(
                    contract.UNIT_UPSERTED.type,
                    contract.UnitUpserted(
                        id=unit.id,
                        agency_code=unit.agency_code,
                        name=unit.name,
                        abbreviation=unit.abbreviation,
                        parent_unit_id=unit.parent_unit_id,
                        active=unit.active,
                    ),
                    actor.user_id if actor else "system",
                    unit.agency_code,
                )
            )
        return unit

    async def list_units(self, agency_code: str | None) -> list[Unit]:
        async with self.uow.read() as session:
            return await DirectoryRepository(session).list_units(agency_code)

    # -- users -------------------------------------------------------------------------

    async def upsert_user(self, actor: Principal | None, user_data: dict, password: str | None = None) -> User:
        user_data = {"id": str(uuid4()), **user_data}
        user_data["roles"] = tuple(Role(r) for r in user_data.get("roles", ()))
        try:
            user = User(**user_data)
        except DirectoryRuleBroken as exc:
            raise rule_error(exc) from exc
        async with self.uow.begin() as tx:
            repo = DirectoryRepository(tx.session)
            if actor is not None:
                await self._require_admin_of(repo, actor, user.agency_code)
                existing = await repo.get_user(user.id)
                if existing is not None:  # moving another agency's user into one's own would take the account over
                    await self._require_admin_of(repo, actor, existing.agency_code)
            if await repo.get_agency(user.agency_code) is None:
                raise AppError(contract.UNKNOWN_PARENT, {"field": "agency_code"})
            if user.unit_id is not None:
                unit = await repo.get_unit(user.unit_id)
                if unit is None or unit.agency_code != user.agency_code:
                    raise AppError(contract.UNKNOWN_PARENT, {"field": "unit_id"})
            existing = await repo.get_user_by_username(user.username)
            if existing is not None and existing[0].id != user.id:
                raise AppError(contract.USERNAME_TAKEN, {"field": "username"})
            await repo.save_user(user, hash_password(password) if password else None)
            await tx.publish(
                _event(
                    contract.USER_UPSERTED.type,
                    contract.UserUpserted(
                        id=user.id,
                        username=user.username,
                        full_name=user.full_name,
                        agency_code=user.agency_code,
                        unit_id=user.unit_id,
                        position=user.position,
                        roles=list(user.roles),
                        active=user.active,
                    ),
                    actor.user_id if actor else "system",
                    user.agency_code,
                )
            )
        return user

    async def list_users(self, agency_code: str | None) -> list[User]:
        async with self.uow.read() as session:
            return await DirectoryRepository(session).list_users(agency_code)

    async def users_seen_by(self, actor: Principal, agency_code: str) -> list[User]:
        """People of the caller's own agency; another agency's only for administrators above it."""
        async with self.uow.read() as session:
            repo = DirectoryRepository(session)
            if agency_code != actor.agency:
                await self._require_admin_of(repo, actor, agency_code)
            return await repo.list_users(agency_code)

    async def authenticate(self, username: str, password: str) -> User:
        async with self.uow.read() as session:
            found = await DirectoryRepository(session).get_user_by_username(username)
        if found is None or not found[0].active or not verify_password(password, found[1]):
            raise AppError(contract.BAD_CREDENTIALS)
        return found[0]
