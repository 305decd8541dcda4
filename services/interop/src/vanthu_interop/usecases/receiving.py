"""Importing what arrives for our agencies: documents, recalls, updates, replacements, statuses.

The same code serves both channels: the axis poller turns packets into `IncomingDocument` /
`IncomingStatus`; internal delivery builds them from the sender's data. Every import runs in
the caller's transaction, is idempotent (unique receipt and status keys), and returns the ids
of the events it queued, so the poller can acknowledge the axis once they have left.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from vanthu_contracts.envelope import new_event_id
from vanthu_contracts.events import interop as contract
from vanthu_contracts.events.registry import Channel, FileRef, OrganRef
from vanthu_interop.domain import outgoing as out
from vanthu_interop.domain import tracking
from vanthu_interop.domain.incoming import (
    ORGAN_FIELDS,
    IncomingDocument,
    IncomingStatus,
    addressed_to_us,
    fit,
    receipt_key,
)
from vanthu_interop.repository import (
    Repository,
    deliveries,
    insert_once,
    receipts,
    recipient_status,
    status_log,
)
from vanthu_interop.usecases.context import Context, publish, queue_send
from vanthu_runtime.uow import Tx

log = logging.getLogger("vanthu.interop.receiving")

_EVENT_FOR_TYPE = {0: contract.DOCUMENT_RECEIVED, 2: contract.DOCUMENT_UPDATED, 3: contract.DOCUMENT_REPLACED}


@dataclass
class Imported:
    event_ids: list[str] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    duplicates: int = 0
    for_us: bool = True
    outcome: str = "imported"  # imported | duplicate | ignored


def _code13(value: str | None) -> str:
    # OrganRef allows 13 characters: the identifier-code length; longer test codes are cut.
    return (value or "").strip()[:13]


def organ_info(organ: dict[str, str]) -> contract.OrganInfo:
    return contract.OrganInfo(
        organ_id=_code13(organ.get("organ_id")),
        organ_name=fit(organ.get("organ_name"), 200),
        organization_in_charge=organ.get("organization_in_charge") or "",
        organ_add=organ.get("organ_add") or "",
        email=organ.get("email") or "",
        telephone=organ.get("telephone") or "",
        fax=organ.get("fax") or "",
        website=organ.get("website") or "",
    )


class Receiving:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- documents ----------------------------------------------------------------------------

    async def import_document(
        self,
        tx: Tx,
        document: IncomingDocument,
        *,
        channel: Channel,
        files: list[FileRef],
        axis_doc_id: str | None = None,
        packet_sha256: str | None = None,
        only_agency: str | None = None,
    ) -> Imported:
        repo = Repository(tx.session)
        hosted = await self.ctx.hosted_codes(tx.session)
        targets = addressed_to_us(document, hosted)
        if only_agency is not None:
            targets = [only_agency] if only_agency in hosted else []
        result = Imported(for_us=bool(targets))
        if not targets:
            result.outcome = "ignored"
            return result
        if document.business_doc_type == 1:
            request_key = _digest("revocation", document.external_document_id, document.sender.get("organ_id"),
                                  document.business_reason, document.issued_date, ",".join(targets),
                                  *([document.source_document_id] if document.source_document_id else []))  # fmt: skip
            if not await insert_once(
                tx.session, status_log, {"dedupe_key": request_key, "received_at": self.ctx.utcnow()}
            ):
                result.outcome = "duplicate"
                result.duplicates = 1
                return result
            result.event_ids += await self.recall(
                tx,
                request_key=request_key,
                external_document_id=document.external_document_id,
                sender=document.sender,
                agencies=targets,
                reason=document.business_reason,
                route="revocation_packet",
                channel=channel,
                source_document_id=document.source_document_id,
            )
            return result
        document.file_hashes = [f.sha256 for f in files]
        received_at = self.ctx.utcnow()
        for agency in targets:
            receipt_id = str(new_event_id())
            receipt = {
                "id": receipt_id,
                "agency_code": agency,
                "channel": channel.value,
                "dedupe_key": receipt_key(agency, document),
                "external_document_id": document.external_document_id,
                "business_doc_type": document.business_doc_type,
                "sender": document.sender,
                "symbol": fit(document.symbol, 60),
                "promulgation_date": document.issued_date.isoformat() if document.issued_date else None,
                "subject": document.subject,
                "axis_doc_id": axis_doc_id,
                "state": "received",
                "received_at": received_at,
                "registry_document_id": None,
                "source_document_id": document.source_document_id,
            }
            if not await insert_once(tx.session, receipts, receipt):
                result.duplicates += 1
                continue
            result.receipts.append(receipt_id)
            payload = self._received_payload(
                receipt_id, agency, document, channel, files, received_at, axis_doc_id, packet_sha256
            )
            result.event_ids.append(
                await publish(
                    tx,
                    _EVENT_FOR_TYPE[document.business_doc_type],
                    payload,
                    agency=agency,
                    correlation_id=document.external_document_id,
                )
            )
            if document.business_doc_type == 0:
                # Status 01 (đã đến) goes back at once, the same day, as QĐ 28 asks.
                await self.queue_status(tx, receipt, contract.StatusCode.ARRIVED)
            else:
                await self._answer_change(tx, repo, receipt, document)
        if not result.receipts and result.duplicates:
            result.outcome = "duplicate"
        return result

    def _received_payload(
        self,
        receipt_id: str,
        agency: str,
        document: IncomingDocument,
        channel: Channel,
        files: list[FileRef],
        received_at: datetime,
        axis_doc_id: str | None,
        packet_sha256: str | None,
    ) -> contract.DocumentReceived:
        sender = organ_info(document.sender)
        return contract.DocumentReceived(
            document_id=receipt_id,
            agency_code=agency,
            type_name=fit(document.type_name or "Văn bản", 100),
            code_number=fit(document.code_number, 11) or None,
            code_notation=fit(document.code_notation, 30) or None,
            issued_date=document.issued_date,
            issuer=OrganRef(organ_id=sender.organ_id, organ_name=sender.organ_name),
            subject=fit(document.subject or document.content or "(không có trích yếu)", 500),
            urgency=document.urgency,
            secrecy=document.secrecy,  # over the axis always thường: secret documents never travel on it
            page_amount=document.page_amount,
            files=files,
            priority=min(max(document.priority or 0, 0), 4),
            channel=channel,
            external_document_id=document.external_document_id,
            sender=sender,
            recipients=[
                OrganRef(organ_id=_code13(code), organ_name=fit(name, 200))
                for code, name in document.recipients
            ],
            content=document.content,
            promulgation_place=document.promulgation_place,
            signer=contract.SignerInfo(
                competence=document.signer_competence,
                position=document.signer_position,
                full_name=document.signer_full_name,
            ),
            due_date=document.due_date,
            steering_type=document.steering_type,
            to_places=document.to_places,
            response_for=document.response_for,
            business=contract.BusinessInfo(
                doc_type=contract.BusinessDocType(document.business_doc_type),
                reason=document.business_reason,
                paper=document.paper,
                related_document_ids=document.related_document_ids,
            ),
            received_at=received_at,
            axis_doc_id=axis_doc_id,
            packet_sha256=packet_sha256,
        )

    async def _answer_change(
        self, tx: Tx, repo: Repository, receipt: dict[str, Any], document: IncomingDocument
    ) -> None:
        """Update or replace: 15 when we hold what it changes, 16 with the reason when we do not."""
        targets = document.related_document_ids or [document.external_document_id]
        # An update of a document delivered inside the province names it by the sender's id.
        same_source = None if document.related_document_ids else document.source_document_id
        held = []
        for external_id in targets:
            held += [
                r
                for r in await repo.receipts_for(
                    external_id, receipt["agency_code"], source_document_id=same_source
                )
                if r["id"] != receipt["id"] and r["state"] == "received"
            ]
        if held:
            await self.queue_status(tx, receipt, contract.StatusCode.CHANGE_ACCEPTED)
        else:
            await self.queue_status(
                tx,
                receipt,
                contract.StatusCode.CHANGE_REFUSED,
                "Văn thư từ chối: không tìm thấy văn bản cần cập nhật, thay thế",
            )

    # -- recall (we are the receiver) ------------------------------------------------------------

    async def recall(
        self,
        tx: Tx,
        *,
        request_key: str,
        external_document_id: str,
        sender: dict[str, str],
        agencies: list[str] | None,
        reason: str,
        route: str,
        channel: Channel,
        source_document_id: str | None = None,
    ) -> list[str]:
        """Decree 30: the receiver's copy is taken out of use, the recall is logged, the sender
        gets 15; a recall of a document we do not hold gets 16. Inside the province the recall
        names the sender's document (`source_document_id`), so a secret document sharing the
        recalled one's DocumentId stays in use."""
        repo = Repository(tx.session)
        hosted = await self.ctx.hosted_codes(tx.session)
        held = [
            r
            for r in await repo.receipts_for(external_document_id, source_document_id=source_document_id)
            if (agencies is None or r["agency_code"] in agencies) and r["business_doc_type"] != 1
        ]
        event_ids: list[str] = []
        answered: set[str] = set()
        for receipt in held:
            answered.add(receipt["agency_code"])
            if receipt["state"] == "recalled":
                continue
            recalled_at = self.ctx.utcnow()
            await tx.session.execute(
                update(receipts)
                .where(receipts.c.id == receipt["id"])
                .values(state="recalled", recalled_at=recalled_at, recall_reason=reason)
            )
            event_ids.append(
                await publish(
                    tx,
                    contract.DOCUMENT_RECALLED,
                    contract.DocumentRecalled(
                        document_id=receipt["id"],
                        registry_document_id=receipt["registry_document_id"],
                        agency_code=receipt["agency_code"],
                        channel=Channel(receipt["channel"]),
                        external_document_id=external_document_id,
                        sender=OrganRef(
                            organ_id=_code13(receipt["sender"].get("organ_id")),
                            organ_name=fit(receipt["sender"].get("organ_name"), 200),
                        ),
                        reason=reason,
                        route=route,
                        answer=contract.StatusCode.CHANGE_ACCEPTED,
                        recalled_at=recalled_at,
                    ),
                    agency=receipt["agency_code"],
                    correlation_id=external_document_id,
                )
            )
            await self.queue_status(
                tx, receipt, contract.StatusCode.CHANGE_ACCEPTED, sequence=request_key[:16]
            )
        for agency in agencies or []:
            if agency in answered or agency not in hosted:
                continue
            stand_in = {
                "id": "unknown-" + _digest(agency, external_document_id)[:40],
                "agency_code": agency,
                "channel": channel.value,
                "external_document_id": external_document_id,
                "sender": sender,
                "symbol": "",
                "promulgation_date": None,
            }
            await self.queue_status(
                tx,
                stand_in,
                contract.StatusCode.CHANGE_REFUSED,
                "Văn thư từ chối yêu cầu lấy lại: không tìm thấy văn bản",
                sequence=request_key[:16],
            )
        return event_ids

    # -- statuses we send about what we received ------------------------------------------------

    async def queue_status(
        self,
        tx: Tx,
        receipt: dict[str, Any],
        code: contract.StatusCode,
        description: str = "",
        *,
        sequence: int | str = 0,
    ) -> bool:
        """Queue one status packet to the sender of a received document (once per code)."""
        sender = receipt["sender"]
        recipient = (sender.get("organ_id") or "").strip()
        if not recipient:
            return False
        job = contract.SendJob(
            delivery_id=str(uuid.uuid4()),
            kind=contract.PacketKind.STATUS,
            agency_code=receipt["agency_code"],
            document_id=receipt["id"],
            external_document_id=receipt["external_document_id"],
            recipient=OrganRef(organ_id=_code13(recipient), organ_name=fit(sender.get("organ_name"), 200)),
            channel=Channel(receipt["channel"]),
            status_code=code,
            idempotency_key=out.status_key(receipt["id"], recipient, code.value, sequence)[:200],
        )
        inserted = await insert_once(
            tx.session,
            deliveries,
            {
                "id": job.delivery_id,
                "idempotency_key": job.idempotency_key,
                "kind": job.kind.value,
                "agency_code": job.agency_code,
                "recipient_code": recipient,
                "recipient_name": fit(sender.get("organ_name"), 500),
                "channel": job.channel.value,
                "document_id": receipt["id"],
                "external_document_id": receipt["external_document_id"],
                "business_doc_type": 0,
                "status_code": code.value,
                "version": 0,
                "payload": {
                    "addressee": {k: sender.get(k) or "" for k in ORGAN_FIELDS},
                    "symbol": receipt.get("symbol") or "",
                    "promulgation_date": receipt.get("promulgation_date"),
                    "description": description or out.DEFAULT_DESCRIPTIONS[code],
                    "registry_document_id": receipt.get("registry_document_id"),
                    "source_document_id": receipt.get("source_document_id"),
                    # Fixed now, so a retried packet is the same packet and the receiver drops the copy.
                    "reported_at": self.ctx.local_now().isoformat(),
                },
                "state": "pending",
                "attempts": 0,
                "created_at": self.ctx.utcnow(),
            },
        )
        if inserted:
            await queue_send(tx, job)
        return inserted

    # -- statuses about what we sent --------------------------------------------------------------

    async def import_status(self, tx: Tx, status: IncomingStatus, *, channel: Channel) -> Imported:
        result = Imported()
        if not await insert_once(
            tx.session, status_log, {"dedupe_key": status.key, "received_at": self.ctx.utcnow()}
        ):
            result.outcome = "duplicate"
            result.duplicates = 1
            return result
        repo = Repository(tx.session)
        if status.code == contract.StatusCode.RECALL:
            hosted = await self.ctx.hosted_codes(tx.session)
            result.event_ids += await self.recall(
                tx,
                request_key=status.key,
                external_document_id=status.external_document_id,
                sender=status.reporter,
                agencies=[status.addressee] if status.addressee in hosted else None,
                reason=status.description,
                route="status_13",
                channel=channel,
                source_document_id=status.document_id,
            )
            return result
        document = await self._reported_on(repo, status)
        try:
            code = contract.StatusCode(status.code)
        except ValueError:
            code = None
        if document is None or code is None:
            log.info("status %s for unknown document %s ignored", status.code, status.external_document_id)
            result.outcome = "ignored"
            return result
        reporter = status.reporter.get("organ_id") or ""
        row = await self._tracking_row(repo, document["document_id"], reporter)
        current = (
            tracking.Tracking(row["code"], row["description"], list(row["history"]))
            if row
            else tracking.Tracking(None, "", [])
        )
        at = (status.reported_at or self.ctx.local_now()).isoformat()
        updated = tracking.apply(current, code.value, status.description, at)
        values = {
            "code": updated.code,
            "description": updated.description,
            "history": updated.history,
            "updated_at": self.ctx.utcnow(),
        }
        if row is not None:
            await tx.session.execute(
                _UPDATE_TRACKING,
                {"_document_id": document["document_id"], "_recipient_code": row["recipient_code"], **values},
            )
        else:
            await tx.session.execute(
                _INSERT_TRACKING,
                {
                    "document_id": document["document_id"],
                    "recipient_code": reporter,
                    "recipient_name": fit(status.reporter.get("organ_name"), 500),
                    "channel": channel.value,
                    **values,
                },
            )
        result.event_ids.append(
            await publish(
                tx,
                contract.STATUS_RECEIVED,
                contract.StatusReceived(
                    agency_code=document["agency_code"],
                    document_id=document["document_id"],
                    external_document_id=status.external_document_id,
                    recipient=OrganRef(
                        organ_id=_code13(reporter), organ_name=fit(status.reporter.get("organ_name"), 200)
                    ),
                    channel=channel,
                    code=code,
                    label_vi=contract.STATUS_LABELS_VI[code],
                    description=status.description,
                    staff=status.staff,
                    department=status.department,
                    reported_at=status.reported_at.replace(tzinfo=self.ctx.tz)
                    if status.reported_at
                    else None,
                    received_at=self.ctx.utcnow(),
                ),
                agency=document["agency_code"],
                correlation_id=status.external_document_id,
            )
        )
        return result

    @staticmethod
    async def _reported_on(repo: Repository, status: IncomingStatus) -> dict[str, Any] | None:
        """Our outgoing document a status is about: by our registry id when it came from inside
        the province; over the axis by its DocumentId, among the documents that may use the axis
        (a secret document sharing the DocumentId never went there)."""
        if status.document_id is not None:
            return await repo.outgoing_by_id(status.document_id)
        candidates = await repo.outgoing_by_external(status.external_document_id)
        sendable = [row for row in candidates if out.can_use_axis(row["facts"].get("secrecy") or "thuong")]
        return (sendable or candidates or [None])[0]

    async def _tracking_row(self, repo: Repository, document_id: str, reporter: str) -> dict[str, Any] | None:
        """The row of the recipient we sent to, also when it reports under another of its codes."""
        aliases = {reporter}
        partner = await self.ctx.partner(repo.session, reporter)
        if partner is not None:
            aliases |= {c for c in (partner["code"], partner["code102"], partner["old_code"]) if c}
        rows = await repo.session.execute(
            _TRACKING_ROW, {"document_id": document_id, "aliases": sorted(aliases)}
        )
        row = rows.mappings().first()
        return dict(row) if row is not None else None


# A status's bookkeeping, built once and bound per status (see repository.py on why).
_TRACKING_ROW = (
    select(recipient_status)
    .where(recipient_status.c.document_id == bindparam("document_id"))
    .where(recipient_status.c.recipient_code.in_(bindparam("aliases", expanding=True)))
    # Statuses of one recipient are imported in parallel (01 and 03 often come in one poll):
    # on PostgreSQL the second waits here and reads the first's history instead of losing it.
    .with_for_update()
)
_UPDATE_TRACKING = (
    update(recipient_status)
    .where(recipient_status.c.document_id == bindparam("_document_id"))
    .where(recipient_status.c.recipient_code == bindparam("_recipient_code"))
)
_INSERT_TRACKING = insert(recipient_status)


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()
