"""NATS adapters of the registry: the issue RPC responder and the event consumers (translation only)."""

from __future__ import annotations

import logging

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import ValidationError

from vanthu_contracts.errors import INTERNAL, VALIDATION
from vanthu_contracts.events import registry as contract
from vanthu_registry.caller import Caller
from vanthu_registry.domain.metadata import DocumentMetadata, Recipient
from vanthu_registry.outgoing import IssueInput
from vanthu_registry.services import Services
from vanthu_runtime.errors import AppError
from vanthu_runtime.messaging.consumer import Delivery, Handler, Reject

log = logging.getLogger("vanthu.registry.rpc")
QUEUE_GROUP = "registry"


async def answer_issue(services: Services, raw: bytes) -> contract.IssueDocumentReply:
    try:
        request = contract.IssueDocumentRequest.model_validate_json(raw)
    except ValidationError as exc:
        return contract.IssueDocumentReply(
            ok=False, error=VALIDATION.body({"errors": [{"loc": list(map(str, e["loc"])), "msg": e["msg"]} for e in exc.errors()]})
        )
    caller = Caller.system(request.agency_code, actor=request.actor, on_behalf_of=request.on_behalf_of)
    try:
        files = [await services.storage.referenced_pdf(f.sha256, f.name) for f in request.files]
        issued = await services.outgoing.issue(
            caller,
            IssueInput(
                meta=DocumentMetadata(
                    type_code=request.type,
                    subject=request.subject,
                    signer_position=request.signer_position,
                    signer_name=request.signer_name,
                    urgency=request.urgency,
                    secrecy=request.secrecy,
                    due_date=request.due_date,
                    description=request.description,
                    language=request.language,
                    issued_amount=request.issued_amount,
                    recipients=[Recipient(r.organ_id, r.organ_name) for r in request.recipients],
                ),
                draft_id=request.draft_id,
                unit_abbreviation=request.unit_abbreviation,
                signer_competence=request.signer_competence,
                digitally_signed=request.digitally_signed,
                sealed=request.sealed,
                response_for=tuple(request.response_for),
                handled_by=tuple(u for u in (request.drafter_id, request.signer_id, *request.reviewer_ids) if u),
            ),
            files,
        )
    except AppError as exc:
        return contract.IssueDocumentReply(ok=False, error=exc.body())
    except Exception:
        log.exception("issue_document failed for draft %s", request.draft_id)
        return contract.IssueDocumentReply(ok=False, error=INTERNAL.body())
    doc = issued.document
    return contract.IssueDocumentReply(
        ok=True,
        document_id=doc["id"],
        register_id=doc["register_id"],
        number=doc["number"],
        code_number=doc["code_number"],
        code_notation=doc["code_notation"],
        symbol=issued.symbol,
        axis_document_id=doc["axis_document_id"],
        issued_date=doc["issued_date"],
    )


async def serve_issue_rpc(nc: NATS, services: Services) -> Subscription:
    """Answer `vanthu.rpc.registry.issue_document`; every replica joins one queue group."""

    from opentelemetry.trace import SpanKind

    from vanthu_runtime.telemetry import extract_context, tracer

    async def on_request(msg: Msg) -> None:
        # Continue the caller's trace, so the issued document's events belong to it too.
        with tracer("vanthu.registry").start_as_current_span(
            f"{msg.subject} process", context=extract_context(msg.headers), kind=SpanKind.SERVER
        ):
            reply = await answer_issue(services, msg.data)
            if msg.reply:
                await msg.respond(reply.model_dump_json().encode())

    return await nc.subscribe(contract.ISSUE_DOCUMENT.subject, queue=QUEUE_GROUP, cb=on_request)


# -- event consumers (thin: parse, then call the use case) ---------------------------------------


def _doc_type_key(type_abbreviation: str | None, type_name: str) -> str:
    from vanthu_registry.domain.doctypes import UnknownDocumentType, document_type

    for key in (type_abbreviation, type_name):
        if key:
            try:
                return document_type(key).code
            except UnknownDocumentType:
                continue
    return type_name


def interop_received_handler(services: Services, auto_register: bool) -> Handler:
    """`interop.document.received` → a received (or registered) incoming document."""
    from vanthu_contracts.events import interop
    from vanthu_registry.incoming import Arrival

    async def handle(delivery: Delivery) -> None:
        event = interop.DocumentReceived.model_validate(delivery.envelope.payload)
        caller = Caller.system(event.agency_code, actor=delivery.envelope.actor)
        files = [await services.storage.referenced_pdf(f.sha256, f.name) for f in event.files if f.content_type == "application/pdf"]
        meta = DocumentMetadata(
            type_code=_doc_type_key(event.type_abbreviation, event.type_name),
            subject=event.subject,
            code_number=event.code_number,
            code_notation=event.code_notation,
            issued_date=event.issued_date,
            organ_id=event.issuer.organ_id if event.issuer else event.sender.organ_id or None,
            organ_name=event.issuer.organ_name if event.issuer else event.sender.organ_name,
            language=event.language,
            description=event.description,
            signer_position=event.signer.position,
            signer_name=event.signer.full_name,
            urgency=event.urgency,
            secrecy=event.secrecy,
            to_places="; ".join(event.to_places)[:1000],
            due_date=event.due_date,
        )
        try:
            await services.incoming.receive(
                caller,
                meta,
                Arrival(
                    channel=event.channel,
                    received_at=event.received_at,
                    external_document_id=event.external_document_id,
                    sender_organ_id=event.sender.organ_id or None,
                    sender_organ_name=event.sender.organ_name,
                    response_for=event.response_for[0] if event.response_for else None,
                    files_role="main",
                    source_event_id=str(delivery.envelope.id),
                    document_id=event.document_id,
                ),
                files,
                register_now=auto_register,
            )
        except AppError as exc:
            if exc.http_status == 422:
                raise Reject(exc.code, exc.error.message_en) from exc
            raise

    return handle


def routing_assigned_handler(services: Services) -> Handler:
    """`routing.handling.assigned` → the assignees may read the document."""
    from vanthu_contracts.events import routing

    async def handle(delivery: Delivery) -> None:
        event = routing.HandlingAssigned.model_validate(delivery.envelope.payload)
        users = [a.assignee_id for a in event.assignees if a.kind == routing.AssigneeKind.USER]
        units = [a.assignee_id for a in event.assignees if a.kind == routing.AssigneeKind.UNIT]
        caller = Caller.system(event.agency_code, actor=event.assigned_by)
        await services.reader.assign(caller, event.document_id, users, units, str(delivery.envelope.id))

    return handle


def draft_signed_handler(services: Services) -> Handler:
    """`routing.draft.signed` → issue it (idempotent by draft id); `document.issued` answers."""
    from vanthu_contracts.events import routing

    async def handle(delivery: Delivery) -> None:
        event = routing.DraftSigned.model_validate(delivery.envelope.payload)
        caller = Caller.system(event.agency_code, actor=event.signer_id)
        unit_abbreviation = await services.directory_unit_abbreviation(event.unit_id)
        try:
            stored = [await services.storage.referenced_pdf(event.signed_file.sha256, event.signed_file.name)]
            await services.outgoing.issue(
                caller,
                IssueInput(
                    meta=DocumentMetadata(
                        type_code=_doc_type_key(event.type_abbreviation, event.type_name),
                        subject=event.subject,
                        signer_position=event.signer_position,
                        signer_name=event.signer_name,
                        urgency=event.urgency,
                        secrecy=event.secrecy,
                        recipients=[
                            Recipient(r.organ_id, r.organ_name)
                            for r in (*event.internal_recipients, *event.external_recipients)
                        ],
                    ),
                    draft_id=event.draft_id,
                    unit_abbreviation=unit_abbreviation,
                    signer_competence=event.signer_competence,
                    digitally_signed=True,
                    sealed=event.sealed,
                    response_for=tuple(event.response_for),
                    handled_by=(event.creator_id, event.signer_id, *event.reviewer_ids),
                ),
                stored,
            )
        except AppError as exc:
            if exc.http_status == 422:
                raise Reject(exc.code, exc.error.message_en) from exc
            raise

    return handle
