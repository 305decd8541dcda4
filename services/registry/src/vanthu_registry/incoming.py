"""Incoming documents: receive (paper scan or electronic), register (số đến), or return."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import update

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.errors import FORBIDDEN
from vanthu_contracts.events import registry as contract
from vanthu_contracts.events.common import Role
from vanthu_registry import audit
from vanthu_registry import documents as docs
from vanthu_registry.caller import Caller
from vanthu_registry.domain.documents import Direction, DocState, IllegalTransition, move
from vanthu_registry.domain.metadata import URGENCY_PRIORITY, DocumentMetadata
from vanthu_registry.registers import Register, RegisterService, number_documents
from vanthu_registry.storage import FileStorage, StoredFile
from vanthu_registry.tables import documents
from vanthu_registry.validation import checked
from vanthu_runtime.errors import AppError
from vanthu_runtime.groupcommit import GroupCommit, Work
from vanthu_runtime.uow import Tx, UnitOfWork


@dataclass
class Arrival:
    """How and when a document reached the agency, beyond its Phụ lục VI metadata."""

    channel: contract.Channel = contract.Channel.PAPER
    received_at: datetime | None = None
    external_document_id: str | None = None
    sender_organ_id: str | None = None
    sender_organ_name: str | None = None
    proposed_unit_id: str | None = None
    trace_header_list: str = ""
    response_for: str | None = None
    files_role: str = "scan"
    source_event_id: str | None = None
    document_id: str | None = None  # adopt the id interop gave its received copy


@dataclass
class Outcome:
    document: docs.Doc
    files: list[dict[str, Any]]
    duplicate_of: list[str] = field(default_factory=list)


class IncomingService:
    def __init__(
        self,
        uow: UnitOfWork,
        registers: RegisterService,
        storage: FileStorage,
        timezone: str,
        *,
        max_group: int = 64,
    ) -> None:
        self.uow = uow
        self.registers = registers
        self.storage = storage
        self.tz = timezone
        self.receipts: GroupCommit[_Receipt] = GroupCommit(
            uow, self._settle_receipts, max_batch=max_group, name="registry-receipts"
        )
        self._compensations: set[asyncio.Task[None]] = set()

    @staticmethod
    def _require_clerk(caller: Caller) -> None:
        if not caller.has_role(Role.CLERK) and not caller.is_system:
            raise AppError(FORBIDDEN, {"required_roles": [Role.CLERK.value]})

    async def receive(
        self,
        caller: Caller,
        meta: DocumentMetadata,
        arrival: Arrival,
        files: list[StoredFile],
        *,
        register_now: bool,
    ) -> Outcome:
        """Record a received document; with `register_now` it is also numbered in the register.

        The files are already in the object store; if this fails they are removed
        again unless another row uses the same bytes. Receipts commit in groups
        (`vanthu_runtime.groupcommit`): concurrent registrations share one transaction and
        take their numbers together, so the register row is locked once per group.
        """
        self._require_clerk(caller)
        received_at = arrival.received_at or docs.now()
        today = docs.local_date(received_at, self.tz)
        doc_type = checked(meta, today=today, incoming=True)
        register = None
        if register_now:
            register = await self.registers.register_for(
                caller.agency, Direction.INCOMING, today.year, doc_type.code, docs.is_secret(meta.secrecy)
            )
        receipt = _Receipt(
            caller=caller,
            row=_new_row(caller, meta, arrival, doc_type, files, received_at, today),
            arrival=arrival,
            files=files,
            register=register,
        )
        future = self.receipts.enqueue(receipt)
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            # The caller left; its receipt may still commit. Compensate only if it does not.
            future.add_done_callback(lambda f: self._discard_if_failed(f, files))
            raise
        except BaseException:
            await self.storage.discard(self.uow, files)
            raise
        if receipt.already_applied:
            return Outcome(document={}, files=[])
        return Outcome(receipt.doc, receipt.stored_files, receipt.doc["duplicate_of"])

    def _discard_if_failed(self, future: asyncio.Future[Any], files: list[StoredFile]) -> None:
        if not future.cancelled() and future.exception() is None:
            return
        task = asyncio.ensure_future(self.storage.discard(self.uow, files))
        self._compensations.add(task)
        task.add_done_callback(self._compensations.discard)

    async def _settle_receipts(self, tx: Tx, receipts: Sequence[_Receipt]) -> None:
        """The group's last statements: each register's numbers in one statement, then the events.

        Registers are locked in id order, so two replicas' groups never wait on each other in a cycle."""
        numbered = [r for r in receipts if r.register is not None and not r.already_applied]
        by_register: dict[str, list[_Receipt]] = {}
        for receipt in numbered:
            assert receipt.register is not None
            by_register.setdefault(receipt.register.id, []).append(receipt)
        registered_at = docs.now()
        for register_id in sorted(by_register):
            group = by_register[register_id]
            register = group[0].register
            assert register is not None
            numbers = await number_documents(
                tx.session, register_id, register.year, [r.doc["id"] for r in group],
                DocState.REGISTERED.value, registered_at,
            )  # fmt: skip
            for receipt, number in zip(group, numbers, strict=True):
                _mark_registered(receipt.doc, register_id, register.year, number, registered_at)
        await tx.publish_many(
            [self._registered_event(r.caller, r.doc, r.stored_files) for r in numbered],
            [r.context for r in numbered],
        )

    async def aclose(self) -> None:
        await self.receipts.aclose()
        await asyncio.gather(*self._compensations, return_exceptions=True)

    async def _number(
        self, tx: Tx, caller: Caller, doc: docs.Doc, register_id: str, year: int, files: list[dict[str, Any]]
    ) -> None:
        """Take the số đến and publish `document.registered`: the last statements of the transaction."""
        registered_at = docs.now()
        [number] = await number_documents(
            tx.session, register_id, year, [doc["id"]], DocState.REGISTERED.value, registered_at
        )
        _mark_registered(doc, register_id, year, number, registered_at)
        await tx.publish(self._registered_event(caller, doc, files))

    @staticmethod
    def _registered_event(caller: Caller, doc: docs.Doc, files: list[dict[str, Any]]) -> Envelope:
        payload = contract.IncomingRegistered(
            **docs.facts(doc, files),
            register_id=doc["register_id"],
            register_year=doc["register_year"],
            incoming_number=doc["number"],
            received_at=doc["received_at"],
            registered_at=doc["registered_at"],
            channel=contract.Channel(doc["channel"]),
            external_document_id=doc["external_document_id"],
            sender=docs.organ(doc["sender_organ_id"], doc["sender_organ_name"]),
            due_date=doc["due_date"],
            proposed_unit_id=doc["proposed_unit_id"],
            duplicate_of=doc["duplicate_of"],
            response_for=(doc["response_for"] or [None])[0],
            arrival_date=doc["arrival_date"],
            signer_position=doc["signer_position"],
            signer_name=doc["signer_name"],
            to_places=doc["to_places"],
            registered_by=caller.user_id,
        )
        return docs.document_event(caller, doc, contract.DOCUMENT_REGISTERED.type, payload)

    async def register(self, caller: Caller, document_id: str) -> Outcome:
        """The văn thư accepts a received (electronic) document: it gets its số đến."""
        self._require_clerk(caller)
        async with self.uow.read() as session:
            doc = await docs.visible(session, caller, document_id)
        self._check_move(doc, DocState.REGISTERED)
        register = await self.registers.register_for(
            caller.agency,
            Direction.INCOMING,
            docs.local_date(doc["received_at"], self.tz).year,
            doc["type_code"],
            docs.is_secret(doc["secrecy"]),
        )
        async with self.uow.begin() as tx:
            doc = await docs.load(tx.session, document_id)
            assert doc is not None
            self._check_move(doc, DocState.REGISTERED)
            doc["duplicate_of"] = await docs.find_duplicates(
                tx.session,
                caller.agency,
                exclude_id=doc["id"],
                external_document_id=doc["external_document_id"],
                code_number=doc["code_number"],
                code_notation=doc["code_notation"],
                organ_id=doc["organ_id"],
                organ_name=doc["organ_name"],
            )
            await tx.session.execute(
                update(documents).where(documents.c.id == doc["id"]).values(duplicate_of=doc["duplicate_of"])
            )
            await audit.append(
                tx.session, caller, "document.register", "document", doc["id"], {"register": register.id}
            )
            files = await docs.files_of(tx.session, doc["id"])
            await self._number(tx, caller, doc, register.id, register.year, files)
        return Outcome(doc, files, doc["duplicate_of"])

    async def return_to_sender(self, caller: Caller, document_id: str, reason: str) -> docs.Doc:
        self._require_clerk(caller)
        reason = (reason or "").strip()
        if not reason:
            raise AppError(contract.RETURN_REASON_REQUIRED, {"field": "reason"})
        if len(reason) > 500:
            raise AppError(
                contract.FIELD_TOO_LONG, {"errors": [{"rule": "field_too_long", "field": "reason"}]}
            )
        async with self.uow.begin() as tx:
            doc = await docs.visible(tx.session, caller, document_id)
            self._check_move(doc, DocState.RETURNED)
            returned_at = docs.now()
            doc.update(state=DocState.RETURNED.value, return_reason=reason, returned_at=returned_at)
            await tx.session.execute(
                update(documents)
                .where(documents.c.id == document_id)
                .values(state=doc["state"], return_reason=reason, returned_at=returned_at)
            )
            await tx.publish(
                docs.document_event(
                    caller,
                    doc,
                    contract.DOCUMENT_RETURNED.type,
                    contract.IncomingReturned(
                        document_id=doc["id"],
                        agency_code=doc["agency_code"],
                        external_document_id=doc["external_document_id"],
                        sender=docs.organ(doc["sender_organ_id"], doc["sender_organ_name"]),
                        channel=contract.Channel(doc["channel"]),
                        reason=reason,
                        returned_at=returned_at,
                    ),
                )
            )
            await audit.append(
                tx.session, caller, "document.return", "document", document_id, {"reason": reason}
            )
        return doc

    async def check_duplicates(self, caller: Caller, **key: str | None) -> list[str]:
        async with self.uow.read() as session:
            return await docs.find_duplicates(session, caller.agency, exclude_id=None, **key)  # type: ignore[arg-type]

    @staticmethod
    def _check_move(doc: docs.Doc, wanted: DocState) -> None:
        try:
            move(doc["state"], wanted)
        except IllegalTransition as exc:
            raise AppError(contract.ILLEGAL_TRANSITION, {"from": doc["state"], "to": wanted.value}) from exc


def _new_row(
    caller: Caller,
    meta: DocumentMetadata,
    arrival: Arrival,
    doc_type: Any,
    files: list[StoredFile],
    received_at: datetime,
    today: date,
) -> docs.Doc:
    """The document row as received, before duplicates are looked up and a number is taken."""
    return {
        "id": arrival.document_id or str(uuid4()),
        "agency_code": caller.agency,
        "direction": Direction.INCOMING.value,
        "state": DocState.RECEIVED.value,
        "register_id": None,
        "register_year": None,
        "number": None,
        "type_code": doc_type.code,
        "type_name": doc_type.name,
        "type_abbreviation": doc_type.abbreviation,
        "code_number": meta.code_number,
        "code_notation": meta.code_notation,
        "issued_date": meta.issued_date,
        "organ_id": meta.organ_id,
        "organ_name": meta.organ_name or "",
        "subject": meta.subject.strip(),
        "language": meta.language,
        "page_amount": sum(f.page_count or 0 for f in files) or meta.page_amount,
        "description": meta.description,
        "signer_position": meta.signer_position,
        "signer_name": meta.signer_name,
        "signer_competence": "",
        "urgency": meta.urgency.value,
        "secrecy": meta.secrecy.value,
        "priority": URGENCY_PRIORITY[meta.urgency],
        "to_places": meta.to_places,
        "trace_header_list": arrival.trace_header_list,
        "due_date": meta.due_date,
        "arrival_date": today,
        "received_at": received_at,
        "registered_at": None,
        "channel": arrival.channel.value,
        "external_document_id": arrival.external_document_id,
        "sender_organ_id": arrival.sender_organ_id,
        "sender_organ_name": arrival.sender_organ_name,
        "response_for": [arrival.response_for] if arrival.response_for else [],
        "recipients": [],
        "proposed_unit_id": arrival.proposed_unit_id,
        "duplicate_of": [],
        "created_by": caller.user_id,
        "created_at": docs.now(),
        "sort_at": received_at,
    }


@dataclass(eq=False)
class _Receipt(Work):
    """One received document's statements inside a group commit (numbering is the group's)."""

    caller: Caller
    row: docs.Doc
    arrival: Arrival
    files: list[StoredFile]
    register: Register | None
    doc: docs.Doc = field(default_factory=dict)
    stored_files: list[dict[str, Any]] = field(default_factory=list)
    already_applied: bool = False

    async def apply(self, tx: Tx) -> None:
        # May run twice (a failed group is retried one by one): start from the inputs each time.
        self.doc, self.stored_files, self.already_applied = dict(self.row), [], False
        doc, caller, arrival = self.doc, self.caller, self.arrival
        if arrival.source_event_id and not await tx.claim(
            "registry_interop_received", arrival.source_event_id
        ):
            self.already_applied = True  # the interop event was applied before (inbox)
            return
        doc["duplicate_of"] = await docs.find_duplicates(
            tx.session,
            caller.agency,
            exclude_id=None,
            external_document_id=arrival.external_document_id,
            code_number=doc["code_number"],
            code_notation=doc["code_notation"],
            organ_id=doc["organ_id"],
            organ_name=doc["organ_name"],
        )
        await tx.session.execute(documents.insert(), doc)  # constant statement: compiled once
        self.stored_files = await docs.add_files(
            tx.session, doc["id"], self.files, caller.user_id, arrival.files_role, first=True
        )
        if docs.is_secret(doc["secrecy"]):
            # Whoever registers a secret document holds it (the văn thư on duty for one that
            # arrived electronically); everyone else needs a grant.
            source = "arrival" if caller.is_system else "registration"
            for holder in await docs.secret_holders(tx.session, caller):
                await docs.grant_secret(tx, doc, holder, caller, source)
        await docs.index(tx.session, doc, new=True)
        await audit.append(
            tx.session,
            caller,
            "document.register" if self.register is not None else "document.receive",
            "document",
            doc["id"],
            {"channel": doc["channel"], "register": self.register.id if self.register else None,
             "duplicate_of": doc["duplicate_of"]},
        )  # fmt: skip


def _mark_registered(
    doc: docs.Doc, register_id: str, year: int, number: int, registered_at: datetime
) -> None:
    """The row as numbering left it (what the event and the answer are built from)."""
    doc.update(
        state=DocState.REGISTERED.value,
        register_id=register_id,
        register_year=year,
        number=number,
        registered_at=registered_at,
    )
