"""Outgoing documents: issuing a signed draft gives it its number, symbol and axis id.

Reached over REST (a văn thư uploads the signed PDF) and over the request/reply
subject `vanthu.rpc.registry.issue_document` (routing, after signing). Idempotent by
(agency, draft id): a retried request gets the first answer back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.errors import FORBIDDEN
from vanthu_contracts.events import registry as contract
from vanthu_contracts.events.common import Role
from vanthu_registry import audit
from vanthu_registry import documents as docs
from vanthu_registry.caller import Caller
from vanthu_registry.domain.documents import Direction, DocState
from vanthu_registry.domain.metadata import URGENCY_PRIORITY, DocumentMetadata
from vanthu_registry.domain.numbering import (
    NumberingRuleBroken,
    axis_document_id,
    code_notation,
    format_number,
    symbol,
)
from vanthu_registry.registers import RegisterService, take_number
from vanthu_registry.storage import FileStorage, StoredFile
from vanthu_registry.tables import agencies, documents
from vanthu_registry.validation import checked
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import UnitOfWork


@dataclass
class IssueInput:
    meta: DocumentMetadata
    draft_id: str | None = None
    unit_abbreviation: str | None = None
    signer_competence: str = ""
    digitally_signed: bool = True
    sealed: bool = False
    response_for: tuple[str, ...] = ()
    # People who handled the draft (drafter, reviewers, signer): they hold it if it is secret.
    handled_by: tuple[str, ...] = ()


@dataclass
class Issued:
    document: docs.Doc
    files: list[dict[str, Any]]
    symbol: str

    @property
    def number(self) -> int:
        return int(self.document["number"])


class OutgoingService:
    def __init__(self, uow: UnitOfWork, registers: RegisterService, storage: FileStorage, timezone: str) -> None:
        self.uow = uow
        self.registers = registers
        self.storage = storage
        self.tz = timezone

    async def _existing(self, agency: str, draft_id: str | None) -> Issued | None:
        if not draft_id:
            return None
        async with self.uow.read() as session:
            row = (
                await session.execute(
                    select(documents).where(documents.c.agency_code == agency, documents.c.draft_id == draft_id)
                )
            ).mappings().first()
            if row is None:
                return None
            files = await docs.files_of(session, row["id"])
        doc = dict(row)
        return Issued(doc, files, symbol(doc["number"], doc["code_notation"]))

    async def issue(self, caller: Caller, data: IssueInput, files: list[StoredFile]) -> Issued:
        if not caller.has_role(Role.CLERK) and not caller.is_system:
            raise AppError(FORBIDDEN, {"required_roles": [Role.CLERK.value]})
        if not files:
            raise AppError(contract.FILE_REQUIRED, {"field": "file"})
        existing = await self._existing(caller.agency, data.draft_id)
        if existing is not None:
            await self.storage.discard(self.uow, files)
            return existing
        issued_at = docs.now()
        today = docs.local_date(issued_at, self.tz)
        meta = data.meta
        doc_type = checked(meta, today=today, incoming=False)
        async with self.uow.read() as session:
            agency = (await session.execute(select(agencies).where(agencies.c.code == caller.agency))).mappings().first()
            hosted = dict(
                (await session.execute(select(agencies.c.name, agencies.c.code).where(agencies.c.hosted.is_(True)))).all()
            )
        if agency is None:
            raise AppError(contract.UNKNOWN_PARENT, {"field": "agency_code"})
        try:
            notation = code_notation(doc_type, agency["abbreviation"], data.unit_abbreviation)
        except NumberingRuleBroken as exc:
            raise AppError(contract.UNIT_ABBREVIATION_REQUIRED, {"field": "unit_abbreviation"}) from exc
        # Phụ lục VI I.13.1: the system fills the receivers' identifier codes it knows.
        recipients = [
            {"organ_id": r.organ_id or hosted.get(r.organ_name, ""), "organ_name": r.organ_name} for r in meta.recipients
        ]
        register = await self.registers.register_for(
            caller.agency, Direction.OUTGOING, today.year, doc_type.code, docs.is_secret(meta.secrecy)
        )
        try:
            async with self.uow.begin() as tx:
                doc: docs.Doc = {
                    "id": str(uuid4()),
                    "agency_code": caller.agency,
                    "direction": Direction.OUTGOING.value,
                    "state": DocState.ISSUED.value,
                    "register_id": register.id,
                    "register_year": register.year,
                    "number": None,
                    "type_code": doc_type.code,
                    "type_name": doc_type.name,
                    "type_abbreviation": doc_type.abbreviation,
                    "code_number": None,
                    "code_notation": notation,
                    "issued_date": today,
                    "organ_id": caller.agency,
                    "organ_name": agency["name"],
                    "subject": meta.subject.strip(),
                    "language": meta.language,
                    "page_amount": sum(f.page_count or 0 for f in files) or None,
                    "description": meta.description,
                    "signer_position": meta.signer_position,
                    "signer_name": meta.signer_name,
                    "signer_competence": data.signer_competence,
                    "urgency": meta.urgency.value,
                    "secrecy": meta.secrecy.value,
                    "priority": URGENCY_PRIORITY[meta.urgency],
                    "to_places": meta.to_places or "; ".join(r["organ_name"] or r["organ_id"] for r in recipients)[:1000],
                    "trace_header_list": "",
                    "due_date": meta.due_date,
                    "response_for": list(data.response_for),
                    "recipients": recipients,
                    "issued_amount": meta.issued_amount,
                    "draft_id": data.draft_id,
                    "issued_at": issued_at,
                    "digitally_signed": data.digitally_signed,
                    "sealed": data.sealed,
                    "unit_abbreviation": data.unit_abbreviation,
                    "duplicate_of": [],
                    "created_by": caller.on_behalf_of or caller.user_id,
                    "created_at": issued_at,
                    "sort_at": issued_at,
                }
                await tx.session.execute(documents.insert(), doc)
                await docs.add_files(tx.session, doc["id"], files, caller.user_id, "signed")
                if docs.is_secret(doc["secrecy"]):
                    # The people who handled the draft (and whoever acted for them) and the văn thư.
                    handlers = (*data.handled_by, caller.user_id, caller.on_behalf_of)
                    for holder in await docs.secret_holders(tx.session, caller, handlers):
                        await docs.grant_secret(tx, doc, holder, caller, "issue")
                number = await take_number(tx.session, register.id)
                doc.update(number=number, code_number=format_number(number))
                doc["axis_document_id"] = axis_document_id(caller.agency, today, number, notation)
                await tx.session.execute(
                    update(documents)
                    .where(documents.c.id == doc["id"])
                    .values(number=number, code_number=doc["code_number"], axis_document_id=doc["axis_document_id"])
                )
                await docs.index(tx.session, doc)
                stored = await docs.files_of(tx.session, doc["id"])
                await tx.publish(self._event(caller, doc, stored, set(hosted.values())))
                await audit.append(
                    tx.session,
                    caller,
                    "document.issue",
                    "document",
                    doc["id"],
                    {"number": number, "symbol": symbol(number, notation), "draft_id": data.draft_id},
                )
        except IntegrityError:
            # The same draft was issued concurrently: answer with that issue.
            await self.storage.discard(self.uow, files)
            again = await self._existing(caller.agency, data.draft_id)
            if again is None:
                raise
            return again
        except BaseException:
            await self.storage.discard(self.uow, files)
            raise
        return Issued(doc, stored, symbol(doc["number"], notation))

    @staticmethod
    def _event(caller: Caller, doc: docs.Doc, files: list[dict[str, Any]], hosted_codes: set[str]) -> Envelope:
        internal = [docs.organ(r["organ_id"], r["organ_name"]) for r in doc["recipients"] if r["organ_id"] in hosted_codes]
        external = [
            docs.organ(r["organ_id"], r["organ_name"]) for r in doc["recipients"] if r["organ_id"] not in hosted_codes
        ]
        payload = contract.OutgoingIssued(
            **docs.facts(doc, files),
            register_id=doc["register_id"],
            register_year=doc["register_year"],
            number=doc["number"],
            symbol=symbol(doc["number"], doc["code_notation"]),
            axis_document_id=doc["axis_document_id"],
            issued_at=doc["issued_at"],
            draft_id=doc["draft_id"],
            signer_position=doc["signer_position"],
            signer_name=doc["signer_name"],
            signer_competence=doc["signer_competence"],
            digitally_signed=doc["digitally_signed"],
            sealed=doc["sealed"],
            internal_recipients=[o for o in internal if o is not None],
            external_recipients=[o for o in external if o is not None],
            response_for=doc["response_for"],
            issued_amount=doc["issued_amount"],
            due_date=doc["due_date"],
            code_notation_unit=doc["unit_abbreviation"],
        )
        return docs.document_event(
            caller, doc, contract.DOCUMENT_ISSUED.type, payload, correlation_id=doc["draft_id"] or doc["id"]
        )
