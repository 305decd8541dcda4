"""What operators and senders look at: the dead-letter list, replays, per-recipient tracking."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from vanthu_contracts.errors import lookup
from vanthu_contracts.events import interop as contract
from vanthu_contracts.events.registry import Channel, OrganRef
from vanthu_interop.domain.tracking import Tracking
from vanthu_interop.repository import Repository, deliveries, recipient_status
from vanthu_interop.usecases.context import Context, queue_send
from vanthu_runtime.errors import AppError


class Operations:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def failed(self, limit: int = 500, agency_code: str | None = None) -> list[dict[str, Any]]:
        """Dead-lettered deliveries: one agency's (its administrators, over HTTP) or all (the operator CLI)."""
        async with self.ctx.uow.read() as session:
            return await Repository(session).deliveries_in("failed", limit, agency_code)

    async def counts(self) -> dict[str, int]:
        async with self.ctx.uow.read() as session:
            return await Repository(session).count_deliveries()

    async def replay(self, delivery_id: str, agency_code: str | None = None) -> dict[str, Any]:
        """Send a dead-lettered delivery again, under its original idempotency key.

        With `agency_code`, only that agency's deliveries; another agency's does not exist."""
        async with self.ctx.uow.begin() as tx:
            repo = Repository(tx.session)
            delivery = await repo.delivery(delivery_id)
            if delivery is None or (agency_code is not None and delivery["agency_code"] != agency_code):
                raise AppError(contract.DOCUMENT_UNKNOWN, {"delivery_id": delivery_id})
            if delivery["state"] != "failed":
                raise AppError(
                    contract.DELIVERY_NOT_FAILED, {"delivery_id": delivery_id, "state": delivery["state"]}
                )
            if delivery["error_code"] == contract.SECRET_DOCUMENT.code:
                raise AppError(contract.SECRET_DOCUMENT, {"delivery_id": delivery_id})
            # "sending" keeps the look-before-resend check: the last attempt may have reached the axis.
            await repo.set_delivery(delivery_id, state="sending" if delivery["axis_doc_id"] is None and delivery["attempts"] else "pending",
                                    failed_at=None)  # fmt: skip
            job = contract.SendJob(
                delivery_id=delivery_id,
                kind=contract.PacketKind(delivery["kind"]),
                agency_code=delivery["agency_code"],
                document_id=delivery["document_id"],
                external_document_id=delivery["external_document_id"],
                recipient=OrganRef(
                    organ_id=delivery["recipient_code"][:13], organ_name=delivery["recipient_name"][:200]
                ),
                channel=Channel(delivery["channel"]),
                business_doc_type=contract.BusinessDocType(delivery["business_doc_type"]),
                status_code=contract.StatusCode(delivery["status_code"]) if delivery["status_code"] else None,
                version=delivery["version"],
                idempotency_key=delivery["idempotency_key"],
            )
            await queue_send(tx, job)
            return await repo.delivery(delivery_id) or {}

    async def recipients(self, document_id: str, agency_code: str | None = None) -> list[dict[str, Any]]:
        """For each recipient of our document: đã đến, đã tiếp nhận, … with the reason and history."""
        async with self.ctx.uow.read() as session:
            document = await Repository(session).outgoing_by_id(document_id)
            if document is None or (agency_code is not None and document["agency_code"] != agency_code):
                raise AppError(contract.DOCUMENT_UNKNOWN, {"document_id": document_id})
            sends = await session.execute(
                select(
                    deliveries.c.recipient_code,
                    deliveries.c.state,
                    deliveries.c.sent_at,
                    deliveries.c.error_code,
                )
                .where(deliveries.c.document_id == document_id, deliveries.c.kind == "edoc")
                .order_by(deliveries.c.created_at)
            )
            # The latest send to each recipient (an update or replacement is a later one).
            latest = {send["recipient_code"]: send for send in sends.mappings()}
            rows = await session.execute(
                select(recipient_status)
                .where(recipient_status.c.document_id == document_id)
                .order_by(recipient_status.c.recipient_code)
            )
            result = []
            for row in rows.mappings():
                send = latest.get(row["recipient_code"])
                shown = Tracking(
                    row["code"], row["description"], list(row["history"]), send["state"] if send else None
                )
                result.append(
                    {
                        "recipient_code": row["recipient_code"],
                        "recipient_name": row["recipient_name"],
                        "channel": row["channel"],
                        "code": row["code"],
                        "label_vi": shown.label_vi,
                        "delivery": shown.delivery,
                        "sent_at": send["sent_at"].isoformat() if send and send["sent_at"] else None,
                        "error": _why(send),
                        "description": row["description"],
                        "history": row["history"],
                        "updated_at": row["updated_at"].isoformat() if row["updated_at"] else None,
                    }
                )
            return result


def _why(send: Any) -> dict[str, Any] | None:
    """Why a send failed for good (e.g. a secret document never takes the axis), as a coded bilingual error."""
    if send is None or send["state"] != "failed" or not send["error_code"]:
        return None
    known = lookup(send["error_code"])
    return known.body().model_dump() if known else {"code": send["error_code"]}
