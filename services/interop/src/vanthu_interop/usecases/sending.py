"""Carrying out one `interop.send` job: to a hosted agency over NATS, or through the axis.

Exactly one delivery per recipient even when a job is retried: the delivery row says what
already happened. A row left in `sending` means an earlier attempt may have reached the axis
(the answer can be lost, or the process killed before it recorded the answer), so before
sending a document or a status packet again we look for it in the axis's sent list. Status
packets are also rebuilt identically (their timestamp was fixed when planned), so a repeat
that still slips through is dropped by the receiver's de-duplication.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from vanthu_contracts.events import interop as contract
from vanthu_contracts.events.registry import Channel, FileRef, OrganRef
from vanthu_interop.axis.client import AxisClient
from vanthu_interop.domain import outgoing as out
from vanthu_interop.domain.incoming import IncomingStatus, organ_dict
from vanthu_interop.edxml import BuildOptions, build, build_file
from vanthu_interop.edxml.model import Attachment, EdocPacket, Organ, StatusPacket
from vanthu_interop.repository import Repository, deliveries
from vanthu_interop.usecases.context import INLINE_BYTES, Context, publish
from vanthu_interop.usecases.receiving import Receiving
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import Tx

log = logging.getLogger("vanthu.interop.sending")
# A document whose files add up to no more than this is read, built and uploaded in memory (the
# packet is about 4/3 of it, base64); a bigger one is built to a file and streamed from there.
IN_MEMORY_ATTACHMENTS = 512 << 10


def _built(packet: EdocPacket | StatusPacket, options: BuildOptions) -> tuple[bytes, str]:
    """The packet's bytes and their SHA-256 (the builder hashes as it writes)."""
    sink = io.BytesIO()
    result = build(packet, sink, options)
    return sink.getvalue(), result.sha256


@dataclass(frozen=True)
class _AxisAttempt:
    delivery: dict[str, Any]
    document: dict[str, Any] | None  # our outgoing document; None for a status packet
    sender: Organ
    reached_before: bool  # an earlier attempt left it `sending`: it may be on the axis already


class Sending:
    def __init__(self, ctx: Context, axis: AxisClient | None) -> None:
        self.ctx = ctx
        self.axis = axis
        self.receiving = Receiving(ctx)
        # The send workers' bookkeeping (`sending` before an upload, `sent` after) in shared transactions.
        self.shared = ctx.shared

    async def execute(self, job: contract.SendJob) -> str:
        """Returns what happened: sent | already | skipped. Raises on failure (the caller retries)."""
        started = await self.shared.run(lambda tx: self._start(tx, job.delivery_id))
        if isinstance(started, str):
            return started
        if started is None:
            raise AppError(contract.AXIS_UNAVAILABLE, {"reason": "the axis connection is not configured"})
        await self._axis(started)
        return "sent"

    async def _start(self, tx: Tx, delivery_id: str) -> str | _AxisAttempt | None:
        """Read the delivery and act on it in one transaction: an internal delivery is imported
        here; an axis one is marked `sending` (None: no axis is configured)."""
        repo = Repository(tx.session)
        delivery = await repo.delivery(delivery_id)
        if delivery is None:
            raise AppError(contract.DOCUMENT_UNKNOWN, {"delivery_id": delivery_id})
        if delivery["state"] == "sent":
            return "already"
        if delivery["state"] == "failed":
            return "skipped"  # given up; only a replay sends it again
        if delivery["channel"] == Channel.INTERNAL.value:
            await self._internal(tx, delivery)
            return "sent"
        if self.axis is None:
            await repo.set_delivery(delivery["id"], attempts=delivery["attempts"] + 1)
            return None
        return await self._claim_axis_send(tx, delivery)

    # -- shared ---------------------------------------------------------------------------------

    async def _our_organ(self, repo: Repository, agency_code: str) -> Organ:
        agency = (await self.ctx.hosted_agencies(repo.session)).get(agency_code)
        return out.organ(agency or {"code": agency_code, "name": agency_code})

    async def _mark_sent(self, tx: Tx, delivery: dict[str, Any], axis_doc_id: str | None) -> None:
        now = self.ctx.utcnow()
        await Repository(tx.session).set_delivery(
            delivery["id"], state="sent", sent_at=now, axis_doc_id=axis_doc_id, error_code=None, error=None
        )
        recipient = OrganRef(
            organ_id=delivery["recipient_code"][:13], organ_name=delivery["recipient_name"][:200]
        )
        channel = Channel(delivery["channel"])
        if delivery["kind"] == "edoc":
            await publish(
                tx,
                contract.DOCUMENT_SENT,
                contract.DocumentSent(
                    delivery_id=delivery["id"],
                    document_id=delivery["document_id"],
                    agency_code=delivery["agency_code"],
                    external_document_id=delivery["external_document_id"],
                    recipient=recipient,
                    channel=channel,
                    business_doc_type=contract.BusinessDocType(delivery["business_doc_type"]),
                    version=delivery["version"],
                    axis_doc_id=axis_doc_id,
                    sent_at=now,
                ),
                agency=delivery["agency_code"],
                correlation_id=delivery["external_document_id"],
            )
        elif delivery["status_code"] != contract.StatusCode.RECALL:
            registry_id = delivery["payload"].get("registry_document_id")
            await publish(
                tx,
                contract.STATUS_SENT,
                contract.StatusSent(
                    agency_code=delivery["agency_code"],
                    document_id=delivery["document_id"],
                    registry_document_id=registry_id,
                    external_document_id=delivery["external_document_id"],
                    to=recipient,
                    channel=channel,
                    code=contract.StatusCode(delivery["status_code"]),
                    description=delivery["payload"].get("description") or "",
                    sent_at=now,
                ),
                agency=delivery["agency_code"],
                correlation_id=delivery["external_document_id"],
            )

    async def fail(self, delivery_id: str, error_code: str, error: str) -> None:
        """Give up: the delivery joins the dead-letter list (`vanthu interop failed`)."""
        async with self.ctx.uow.begin() as tx:
            repo = Repository(tx.session)
            delivery = await repo.delivery(delivery_id)
            if delivery is None or delivery["state"] in ("sent", "failed"):
                return
            now = self.ctx.utcnow()
            await repo.set_delivery(
                delivery_id, state="failed", error_code=error_code, error=error[:2000], failed_at=now
            )
            await publish(
                tx,
                contract.SEND_FAILED,
                contract.SendFailed(
                    delivery_id=delivery_id,
                    kind=contract.PacketKind(delivery["kind"]),
                    document_id=delivery["document_id"],
                    agency_code=delivery["agency_code"],
                    external_document_id=delivery["external_document_id"],
                    recipient=OrganRef(
                        organ_id=delivery["recipient_code"][:13], organ_name=delivery["recipient_name"][:200]
                    ),
                    channel=Channel(delivery["channel"]),
                    status_code=contract.StatusCode(delivery["status_code"])
                    if delivery["status_code"]
                    else None,
                    error_code=error_code,
                    error=error[:2000],
                    attempts=delivery["attempts"],
                    failed_at=now,
                ),
                agency=delivery["agency_code"],
                correlation_id=delivery["external_document_id"],
            )

    # -- internal: the recipient is hosted here --------------------------------------------------

    async def _internal(self, tx: Tx, delivery: dict[str, Any]) -> None:
        repo = Repository(tx.session)
        await repo.set_delivery(delivery["id"], attempts=delivery["attempts"] + 1)
        sender = await self._our_organ(repo, delivery["agency_code"])
        if delivery["kind"] == "edoc":
            document = await repo.outgoing_by_id(delivery["document_id"])
            if document is None:
                raise AppError(contract.DOCUMENT_UNKNOWN, {"document_id": delivery["document_id"]})
            facts = document["facts"]
            incoming = out.as_incoming(
                facts,
                sender=sender,
                business_doc_type=delivery["business_doc_type"],
                reason=delivery["payload"].get("reason") or "",
                related=delivery["payload"].get("related") or [],
            )
            await self.receiving.import_document(
                tx,
                incoming,
                channel=Channel.INTERNAL,
                files=[FileRef.model_validate(f) for f in facts.get("files") or []],
                only_agency=delivery["recipient_code"],
            )
        else:
            await self.receiving.import_status(
                tx, self._status_of(delivery, sender), channel=Channel.INTERNAL
            )
        await self._mark_sent(tx, delivery, None)

    def _status_of(self, delivery: dict[str, Any], reporter: Organ) -> IncomingStatus:
        payload = delivery["payload"]
        return IncomingStatus(
            reporter=organ_dict(reporter),
            external_document_id=delivery["external_document_id"],
            addressee=payload["addressee"]["organ_id"],
            code=delivery["status_code"],
            description=payload.get("description") or "",
            staff="Văn thư",
            department="Văn thư",
            reported_at=datetime.fromisoformat(payload["reported_at"]),
            symbol=payload.get("symbol") or "",
            document_id=payload.get("source_document_id"),
        )

    # -- over the axis ---------------------------------------------------------------------------

    async def _claim_axis_send(self, tx: Tx, delivery: dict[str, Any]) -> _AxisAttempt:
        """Mark the delivery `sending` before anything goes to the axis (committed with the caller's
        transaction): a later attempt that finds it so looks on the axis before sending again."""
        repo = Repository(tx.session)
        document = await repo.outgoing_by_id(delivery["document_id"]) if delivery["kind"] == "edoc" else None
        if document is not None and not out.can_use_axis(document["facts"].get("secrecy") or "thuong"):
            raise AppError(contract.SECRET_DOCUMENT, {"document_id": delivery["document_id"]})
        await repo.set_delivery(delivery["id"], state="sending", attempts=delivery["attempts"] + 1)
        sender = await self._our_organ(repo, delivery["agency_code"])
        return _AxisAttempt(delivery, document, sender, reached_before=delivery["state"] == "sending")

    async def _axis(self, attempt: _AxisAttempt) -> None:
        assert self.axis is not None
        delivery, document, sender = attempt.delivery, attempt.document, attempt.sender
        status = self._status_packet(delivery, sender) if document is None else None
        if attempt.reached_before:
            found = await self._already_on_axis(delivery, document["facts"] if document else None, status)
            if found is not None:
                await self.shared.run(lambda tx: self._mark_sent(tx, delivery, found))
                return
        options = BuildOptions(
            zip_attachments=self.ctx.settings.zip_attachments, cid_prefix=self.ctx.settings.cid_prefix
        )
        if status is not None:
            # A status packet is a few hundred bytes: built here and sent from memory.
            data, sha256 = _built(status, options)
            axis_doc_id = await self.axis.send_edoc(
                data, from_code=delivery["agency_code"], message_type="status", sha256=sha256
            )
        else:
            assert document is not None
            axis_doc_id = await self._send_edoc(delivery, document["facts"], sender, options)
        await self.shared.run(lambda tx: self._mark_sent(tx, delivery, axis_doc_id))

    async def _send_edoc(
        self, delivery: dict[str, Any], facts: dict[str, Any], sender: Organ, options: BuildOptions
    ) -> str:
        """Build the document's packet and upload it: from memory when its files are small (the
        usual letter: no working directory, no file written), else through files."""
        assert self.axis is not None
        if self.ctx.files is None:
            raise AppError(contract.AXIS_UNAVAILABLE, {"reason": "no object store"})
        refs = [FileRef.model_validate(f) for f in facts.get("files") or []]
        send = functools.partial(
            self.axis.send_edoc,
            from_code=delivery["agency_code"],
            message_type="edoc",
            to_codes=[delivery["recipient_code"]],
        )
        attached = sum(ref.size or 0 for ref in refs)
        if all(ref.size is not None for ref in refs) and attached <= IN_MEMORY_ATTACHMENTS:
            packet = self._edoc(delivery, facts, sender, await self.ctx.files.read(refs))
            if attached <= INLINE_BYTES:
                data, sha256 = _built(packet, options)  # a worker-thread trip would cost more
            else:
                data, sha256 = await asyncio.to_thread(_built, packet, options)
            return await send(data, sha256=sha256)
        workdir = self.ctx.workdir()
        try:
            packet = self._edoc(delivery, facts, sender, await self.ctx.files.fetch(refs, workdir))
            built = workdir / "packet.edxml"
            sha256 = (await asyncio.to_thread(build_file, packet, built, options)).sha256
            return await send(built, sha256=sha256)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _edoc(
        self, delivery: dict[str, Any], facts: dict[str, Any], sender: Organ, attachments: list[Attachment]
    ) -> EdocPacket:
        recipients = [*(facts.get("internal_recipients") or []), *(facts.get("external_recipients") or [])]
        organs = [
            Organ(organ_id=str(r.get("organ_id") or ""), organ_name=str(r.get("organ_name") or ""))
            for r in recipients
        ]
        payload = delivery["payload"]
        return out.edoc_packet(
            facts,
            sender=sender,
            recipients=organs,
            business_doc_type=delivery["business_doc_type"],
            reason=payload.get("reason") or None,
            related_document_ids=payload.get("related") or [],
            attachments=attachments,
            sent_at=self.ctx.local_now(),
        )

    @staticmethod
    def _status_packet(delivery: dict[str, Any], sender: Organ) -> StatusPacket:
        payload = delivery["payload"]
        return out.status_packet(
            reporter=sender,
            addressee=payload["addressee"]["organ_id"],
            external_document_id=delivery["external_document_id"],
            symbol=payload.get("symbol") or "",
            promulgation_date=date.fromisoformat(payload["promulgation_date"])
            if payload.get("promulgation_date")
            else None,
            code=delivery["status_code"],
            description=payload.get("description") or "",
            staff="Văn thư",
            reported_at=datetime.fromisoformat(payload["reported_at"]),
        )

    async def _already_on_axis(
        self, delivery: dict[str, Any], facts: dict[str, Any] | None, status: StatusPacket | None
    ) -> str | None:
        """An earlier attempt whose answer was lost may have gone through: look before resending.

        The axis lists a document under its recipient, number and subject, and a status packet
        under its addressee, the number of the document it is about (ResponseFor/Code) and its
        description; packets this document's other deliveries already sent are not this one.
        """
        assert self.axis is not None
        async with self.ctx.uow.read() as session:
            known = {
                row[0]
                for row in await session.execute(
                    select(deliveries.c.axis_doc_id)
                    .where(deliveries.c.document_id == delivery["document_id"])
                    .where(deliveries.c.axis_doc_id.is_not(None))
                )
            }
        if facts is not None:
            message_type, to_code = "edoc", delivery["recipient_code"]
            notation, title = facts.get("symbol") or "", facts.get("subject") or ""
        else:
            assert status is not None
            message_type, to_code = "status", status.response_for.organ_id
            notation, title = status.response_for.code or "", status.description or ""
        entries = await self.axis.get_sent_edoc_list(message_type)
        for entry in entries:
            if entry.sender_doc_id in known:
                continue  # an earlier version's send, or another status, not this one
            if (
                entry.to_code == to_code
                and entry.from_code in ("", delivery["agency_code"])
                and entry.notation == notation
                and entry.title == title
            ):
                log.info("delivery %s was already on the axis as %s", delivery["id"], entry.sender_doc_id)
                return entry.sender_doc_id
        return None
