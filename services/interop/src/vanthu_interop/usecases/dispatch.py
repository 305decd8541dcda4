"""Deciding what to send: issued documents, their recall/update/replacement, and status feedback.

Nothing here talks to the axis. Each decision becomes delivery rows plus `interop.send` jobs in
one transaction (the outbox), so a crash never loses a send and a redelivered event never
plans one twice (unique idempotency keys per document, recipient and version).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from vanthu_contracts.errors import FORBIDDEN
from vanthu_contracts.events import interop as contract
from vanthu_contracts.events.registry import Channel, OrganRef, OutgoingIssued
from vanthu_interop.domain import outgoing as out
from vanthu_interop.domain.incoming import fit
from vanthu_interop.repository import (
    Repository,
    deliveries,
    insert_once,
    outgoing,
    receipts,
    recipient_status,
)
from vanthu_interop.usecases.context import Context, publish, queue_send
from vanthu_interop.usecases.receiving import Receiving
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import Tx


class Dispatch:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.receiving = Receiving(ctx)

    # -- issued documents ------------------------------------------------------------------------

    async def on_issued(self, tx: Tx, issued: OutgoingIssued, *, actor: str = "system") -> int:
        """Plan one delivery per recipient; returns how many were planned (0 for a repeat)."""
        facts = issued.model_dump(mode="json")
        created = await insert_once(
            tx.session,
            outgoing,
            {
                "document_id": issued.document_id,
                "agency_code": issued.agency_code,
                "external_document_id": issued.axis_document_id,
                "facts": facts,
                "version": 0,
                "state": "sent",
                "issued_at": issued.issued_at,
            },
        )
        if not created:
            return 0
        return await self._plan(
            tx, facts, issued.document_id, issued.agency_code, version=0, business_doc_type=0
        )

    async def _plan(
        self,
        tx: Tx,
        facts: dict[str, Any],
        document_id: str,
        agency_code: str,
        *,
        version: int,
        business_doc_type: int,
        reason: str = "",
        related: list[str] | None = None,
    ) -> int:
        recipients = out.split_recipients(
            facts.get("internal_recipients") or [],
            facts.get("external_recipients") or [],
            await self.ctx.hosted_codes(tx.session),
        )
        planned = 0
        for recipient in recipients:
            code = recipient.code
            if not recipient.internal:
                partner = await self.ctx.partner(tx.session, code)
                code = partner["code"] if partner is not None else code  # an old code → the current one
            channel = Channel.INTERNAL if recipient.internal else Channel.AXIS
            job = contract.SendJob(
                delivery_id=str(uuid.uuid4()),
                kind=contract.PacketKind.EDOC,
                agency_code=agency_code,
                document_id=document_id,
                external_document_id=facts["axis_document_id"],
                recipient=OrganRef(organ_id=code[:13], organ_name=fit(recipient.name, 200)),
                channel=channel,
                business_doc_type=contract.BusinessDocType(business_doc_type),
                version=version,
                idempotency_key=out.edoc_key(document_id, code, version, business_doc_type),
            )
            refused = channel is Channel.AXIS and not out.can_use_axis(facts.get("secrecy") or "thuong")
            inserted = await insert_once(
                tx.session,
                deliveries,
                {
                    "id": job.delivery_id,
                    "idempotency_key": job.idempotency_key,
                    "kind": job.kind.value,
                    "agency_code": agency_code,
                    "recipient_code": code,
                    "recipient_name": recipient.name,
                    "channel": channel.value,
                    "document_id": document_id,
                    "external_document_id": facts["axis_document_id"],
                    "business_doc_type": business_doc_type,
                    "status_code": None,
                    "version": version,
                    "payload": {"reason": reason, "related": related or []},
                    "state": "failed" if refused else "pending",
                    "attempts": 0,
                    "error_code": contract.SECRET_DOCUMENT.code if refused else None,
                    "error": contract.SECRET_DOCUMENT.message_en if refused else None,
                    "created_at": self.ctx.utcnow(),
                    "failed_at": self.ctx.utcnow() if refused else None,
                },
            )
            if not inserted:
                continue
            await self._track(tx, document_id, code, recipient.name, channel)
            if refused:
                await publish(
                    tx,
                    contract.SEND_FAILED,
                    contract.SendFailed(
                        delivery_id=job.delivery_id,
                        kind=job.kind,
                        document_id=document_id,
                        agency_code=agency_code,
                        external_document_id=job.external_document_id,
                        recipient=job.recipient,
                        channel=channel,
                        error_code=contract.SECRET_DOCUMENT.code,
                        error=f"{contract.SECRET_DOCUMENT.message_vi} / {contract.SECRET_DOCUMENT.message_en}",
                        attempts=0,
                        failed_at=self.ctx.utcnow(),
                    ),
                    agency=agency_code,
                    correlation_id=job.external_document_id,
                )
                continue
            await queue_send(tx, job)
            planned += 1
        return planned

    async def _track(self, tx: Tx, document_id: str, code: str, name: str, channel: Channel) -> None:
        await insert_once(
            tx.session,
            recipient_status,
            {
                "document_id": document_id,
                "recipient_code": code,
                "recipient_name": name,
                "channel": channel.value,
                "code": None,
                "description": "",
                "history": [],
                "updated_at": self.ctx.utcnow(),
            },
        )

    # -- recall, update, replace (we are the sender) ----------------------------------------------

    async def _outgoing(self, tx: Tx, document_id: str, agency_code: str | None) -> dict[str, Any]:
        row = await Repository(tx.session).outgoing_by_id(document_id)
        if row is None:
            raise AppError(contract.DOCUMENT_UNKNOWN, {"document_id": document_id})
        if agency_code is not None and row["agency_code"] != agency_code:
            raise AppError(FORBIDDEN)
        if row["state"] == "recalled":
            raise AppError(contract.DOCUMENT_RECALLED_ALREADY, {"document_id": document_id})
        return row

    async def recall(
        self, tx: Tx, document_id: str, reason: str, *, actor: str, agency_code: str | None
    ) -> int:
        """Decree 30: the sender's copy is frozen, every recipient is asked to give it back."""
        row = await self._outgoing(tx, document_id, agency_code)
        now = self.ctx.utcnow()
        await tx.session.execute(
            update(outgoing)
            .where(outgoing.c.document_id == document_id)
            .values(state="recalled", recall_reason=reason, recalled_at=now)
        )
        sent = (
            (
                await tx.session.execute(
                    select(deliveries)
                    .where(deliveries.c.document_id == document_id)
                    .where(deliveries.c.kind == "edoc")
                    .where(deliveries.c.state != "failed")
                )
            )
            .mappings()
            .all()
        )
        recipients: dict[str, dict[str, Any]] = {}
        for item in sent:
            recipients.setdefault(item["recipient_code"], dict(item))
        await publish(
            tx,
            contract.RECALL_REQUESTED,
            contract.RecallRequested(
                document_id=document_id,
                agency_code=row["agency_code"],
                external_document_id=row["external_document_id"],
                reason=reason,
                recipients=[
                    OrganRef(organ_id=c[:13], organ_name=fit(r["recipient_name"], 200))
                    for c, r in recipients.items()
                ],
                requested_by=actor,
                requested_at=now,
            ),
            agency=row["agency_code"],
            correlation_id=row["external_document_id"],
            actor=actor,
        )
        route = self.ctx.settings.recall_route.value
        planned = 0
        for code, item in recipients.items():
            channel = Channel(item["channel"])
            use_packet = channel is Channel.AXIS and route in ("revocation_packet", "both")
            use_status = channel is Channel.INTERNAL or route in ("status_13", "both")
            if use_status:
                planned += await self._plan_recall_status(
                    tx, row, code, item["recipient_name"], channel, reason
                )
            if use_packet:
                planned += await self._plan_one(tx, row, code, item["recipient_name"], channel, 1, reason, [])
        return planned

    async def _plan_recall_status(
        self, tx: Tx, row: dict[str, Any], code: str, name: str, channel: Channel, reason: str
    ) -> int:
        facts = row["facts"]
        job = contract.SendJob(
            delivery_id=str(uuid.uuid4()),
            kind=contract.PacketKind.STATUS,
            agency_code=row["agency_code"],
            document_id=row["document_id"],
            external_document_id=row["external_document_id"],
            recipient=OrganRef(organ_id=code[:13], organ_name=fit(name, 200)),
            channel=channel,
            status_code=contract.StatusCode.RECALL,
            version=row["version"],
            idempotency_key=out.status_key(row["document_id"], code, "13", row["version"]),
        )
        inserted = await insert_once(
            tx.session,
            deliveries,
            {
                "id": job.delivery_id,
                "idempotency_key": job.idempotency_key,
                "kind": "status",
                "agency_code": row["agency_code"],
                "recipient_code": code,
                "recipient_name": name,
                "channel": channel.value,
                "document_id": row["document_id"],
                "external_document_id": row["external_document_id"],
                "business_doc_type": 0,
                "status_code": "13",
                "version": row["version"],
                "payload": {
                    # For 13 the roles are reversed: From is us (the issuer), ResponseFor/OrganId the receiver.
                    "addressee": {"organ_id": code, "organ_name": name},
                    "symbol": facts.get("symbol") or "",
                    "promulgation_date": facts.get("issued_date"),
                    "description": reason or out.DEFAULT_DESCRIPTIONS[contract.StatusCode.RECALL],
                    # Inside the province the receiver recalls exactly this document, not every
                    # copy sharing its DocumentId (a secret document may repeat it).
                    "source_document_id": row["document_id"],
                    "reported_at": self.ctx.local_now().isoformat(),
                },
                "state": "pending",
                "attempts": 0,
                "created_at": self.ctx.utcnow(),
            },
        )
        if inserted:
            await queue_send(tx, job)
        return int(inserted)

    async def _plan_one(
        self, tx: Tx, row: dict[str, Any], code: str, name: str, channel: Channel, business_doc_type: int,
        reason: str, related: list[str],
    ) -> int:  # fmt: skip
        """A revocation packet (type 1) for one recipient."""
        facts = {
            **row["facts"],
            "internal_recipients": [],
            "external_recipients": [{"organ_id": code, "organ_name": name}],
        }
        if channel is Channel.INTERNAL:
            facts["internal_recipients"], facts["external_recipients"] = facts["external_recipients"], []
        return await self._plan(
            tx, facts, row["document_id"], row["agency_code"], version=row["version"],
            business_doc_type=business_doc_type, reason=reason, related=related,
        )  # fmt: skip

    async def change(
        self, tx: Tx, document_id: str, *, business_doc_type: int, reason: str, related: list[str], actor: str,
        agency_code: str | None,
    ) -> int:  # fmt: skip
        """Send an update (2) or a replacement (3) of one of our documents to all its recipients."""
        row = await self._outgoing(tx, document_id, agency_code)
        version = row["version"] + 1
        await tx.session.execute(
            update(outgoing).where(outgoing.c.document_id == document_id).values(version=version)
        )
        return await self._plan(
            tx, row["facts"], document_id, row["agency_code"], version=version,
            business_doc_type=business_doc_type, reason=reason, related=related,
        )  # fmt: skip

    # -- status feedback from routing's handling events ----------------------------------------

    async def on_handling(self, tx: Tx, handling: dict[str, Any], *, event_type: str) -> bool:
        """Routing is the one source of 03/04/05/06/02: an event with a status_code becomes a packet."""
        code = handling.get("status_code")
        channel = handling.get("channel")
        if not code or channel not in (Channel.AXIS.value, Channel.INTERNAL.value):
            return False
        repo = Repository(tx.session)
        receipt = await self._receipt_for(repo, handling)
        if receipt is None:
            return False
        registry_id = handling.get("document_id")
        if registry_id and registry_id != receipt["id"] and receipt["registry_document_id"] != registry_id:
            await tx.session.execute(
                update(receipts)
                .where(receipts.c.id == receipt["id"])
                .values(registry_document_id=registry_id)
            )
            receipt = {**receipt, "registry_document_id": registry_id}
        description = str(handling.get("reason") or "") if code == contract.StatusCode.REFUSED else ""
        return await self.receiving.queue_status(tx, receipt, contract.StatusCode(code), description)

    async def _receipt_for(self, repo: Repository, handling: dict[str, Any]) -> dict[str, Any] | None:
        document_id = handling.get("document_id") or ""
        by_id = await repo.receipt_by_id(document_id)  # the registry kept our id
        if by_id is not None:
            return by_id
        row = (
            (
                await repo.session.execute(
                    select(receipts).where(receipts.c.registry_document_id == document_id)
                )
            )
            .mappings()
            .first()
        )
        if row is not None:
            return dict(row)
        external = handling.get("external_document_id")
        agency = handling.get("agency_code")
        if external and agency:
            candidates = [r for r in await repo.receipts_for(external, agency) if r["business_doc_type"] != 1]
            if candidates:
                return candidates[-1]
        return None
