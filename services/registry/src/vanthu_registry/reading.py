"""Reading documents, their files and audit trail; giving access. Every read is audited."""

from __future__ import annotations

from typing import Any

from vanthu_contracts.errors import FORBIDDEN, NOT_FOUND
from vanthu_contracts.events import registry as contract
from vanthu_contracts.events.common import Role
from vanthu_registry import audit
from vanthu_registry import documents as docs
from vanthu_registry.caller import Caller
from vanthu_registry.domain.access import GrantKind, sees_everything_public
from vanthu_registry.storage import FileStorage, StoredFile
from vanthu_registry.tables import units, users
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import UnitOfWork


class DocumentReader:
    def __init__(self, uow: UnitOfWork, storage: FileStorage, url_ttl_s: int) -> None:
        self.uow = uow
        self.storage = storage
        self.url_ttl_s = url_ttl_s

    async def get(self, caller: Caller, document_id: str) -> tuple[docs.Doc, list[dict[str, Any]]]:
        async with self.uow.begin() as tx:
            doc = await docs.visible(tx.session, caller, document_id)
            files = await docs.files_of(tx.session, document_id)
            await audit.append(tx.session, caller, "document.read", "document", document_id)
        return doc, files

    async def download_url(self, caller: Caller, document_id: str, file_id: str) -> tuple[str, int]:
        async with self.uow.begin() as tx:
            await docs.visible(tx.session, caller, document_id)
            files = {f["id"]: f for f in await docs.files_of(tx.session, document_id)}
            if file_id not in files:
                raise AppError(NOT_FOUND, {"file": file_id})
            chosen = files[file_id]
            await audit.append(
                tx.session, caller, "document.download", "document", document_id, {"file": file_id, "sha256": chosen["sha256"]}
            )
        url = await self.storage.store.signed_url(chosen["sha256"], filename=chosen["name"], ttl_s=self.url_ttl_s)
        return url, self.url_ttl_s

    async def add_version(self, caller: Caller, document_id: str, stored: StoredFile, role: str) -> list[dict[str, Any]]:
        """A new file version (a better scan, an attachment); earlier versions stay."""
        if not caller.has_role(Role.CLERK):
            await self.storage.discard(self.uow, [stored])
            raise AppError(FORBIDDEN, {"required_roles": [Role.CLERK.value]})
        try:
            async with self.uow.begin() as tx:
                await docs.visible(tx.session, caller, document_id)
                await docs.add_files(tx.session, document_id, [stored], caller.user_id, role)
                await audit.append(
                    tx.session, caller, "document.add_file", "document", document_id, {"sha256": stored.sha256, "role": role}
                )
                return await docs.files_of(tx.session, document_id)
        except BaseException:
            await self.storage.discard(self.uow, [stored])
            raise

    async def grant(self, caller: Caller, document_id: str, principal_type: str, principal_id: str, kind: str) -> None:
        """Give a user (or a unit) access to a document; secret access only to users.

        Văn thư and leaders may give access to what they can see themselves.
        """
        if not sees_everything_public(caller.viewer):
            raise AppError(FORBIDDEN)
        if principal_type not in ("user", "unit") or kind not in (GrantKind.GIVEN, GrantKind.SECRET):
            raise AppError(contract.GRANT_INVALID, {"field": "kind"})
        if kind == GrantKind.SECRET and principal_type != "user":
            raise AppError(contract.GRANT_INVALID, {"field": "principal_type"})
        async with self.uow.begin() as tx:
            doc = await docs.visible(tx.session, caller, document_id)
            await self._check_member(tx.session, caller.agency, principal_type, principal_id)
            if kind == GrantKind.SECRET:
                await docs.grant_secret(tx, doc, principal_id, caller, "manual")
            else:
                await docs.add_grant(tx.session, document_id, principal_type, principal_id, kind, caller.user_id, "manual")
            await audit.append(
                tx.session,
                caller,
                "document.grant",
                "document",
                document_id,
                {"principal_type": principal_type, "principal_id": principal_id, "kind": kind},
            )

    async def assign(self, caller: Caller, document_id: str, user_ids: list[str], unit_ids: list[str], event_id: str) -> bool:
        """Routing assigned handling: those people (and unit heads) may now see the document."""
        async with self.uow.begin() as tx:
            if not await tx.claim("registry_routing_assigned", event_id):
                return False
            doc = await docs.load(tx.session, document_id)
            if doc is None or doc["agency_code"] != caller.agency:
                return False
            for user_id in user_ids:
                await docs.add_grant(tx.session, document_id, "user", user_id, GrantKind.ASSIGNED, caller.user_id, event_id)
            for unit_id in unit_ids:
                await docs.add_grant(tx.session, document_id, "unit", unit_id, GrantKind.ASSIGNED, caller.user_id, event_id)
            await audit.append(
                tx.session, caller, "document.assign", "document", document_id, {"users": user_ids, "units": unit_ids}
            )
        return True

    @staticmethod
    async def _check_member(session: Any, agency: str, principal_type: str, principal_id: str) -> None:
        from sqlalchemy import select

        table = users if principal_type == "user" else units
        row = (await session.execute(select(table.c.agency_code).where(table.c.id == principal_id))).first()
        if row is None or row.agency_code != agency:
            raise AppError(contract.GRANT_INVALID, {"principal_id": principal_id})

    async def audit_trail(self, caller: Caller, document_id: str) -> list[dict[str, Any]]:
        if not caller.has_role(Role.ADMIN, Role.HEAD, Role.CLERK):
            raise AppError(FORBIDDEN)
        async with self.uow.begin() as tx:
            await docs.visible(tx.session, caller, document_id)
            entries = await audit.trail(tx.session, document_id)
            await audit.append(tx.session, caller, "document.audit_read", "document", document_id)
        return entries
