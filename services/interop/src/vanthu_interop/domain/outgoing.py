"""What we send: recipients split by channel, idempotency keys, and the packets themselves. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from vanthu_contracts.events.common import Secrecy, Urgency
from vanthu_contracts.events.interop import STATUS_LABELS_VI, StatusCode
from vanthu_interop.domain.incoming import PRIORITY_BY_URGENCY, IncomingDocument, organ_dict
from vanthu_interop.edxml.model import (
    BUSINESS_REASONS,
    Attachment,
    Business,
    EdocPacket,
    Organ,
    OtherInfo,
    Replacement,
    ResponseFor,
    StaffInfo,
    StatusPacket,
    Trace,
)

# The wording of the official sample packets (shared/domain §2.4).
DEFAULT_DESCRIPTIONS = {
    StatusCode.ARRIVED: "Văn thư: Đã đến - Phần mềm QLVB đã nhận nhưng văn thư chưa xử lý",
    StatusCode.REFUSED: "Từ chối tiếp nhận văn bản",
    StatusCode.ACCEPTED: "Văn thư: Tiếp nhận văn bản điện tử, vào sổ văn bản đến của đơn vị",
    StatusCode.ASSIGNED: "Lãnh đạo: Phân công xử lý",
    StatusCode.PROCESSING: "Đang xử lý văn bản đến",
    StatusCode.DONE: "Văn thư: Ban hành văn bản đến, hoàn thành xử lý",
    StatusCode.RECALL: "Văn thư yêu cầu lấy lại văn bản điện tử kèm lý do",
    StatusCode.CHANGE_ACCEPTED: "Văn thư đồng ý yêu cầu cập nhật, lấy lại",
    StatusCode.CHANGE_REFUSED: "Văn thư từ chối yêu cầu cập nhật, lấy lại",
}


def can_use_axis(secrecy: Secrecy | str) -> bool:
    """Secret documents (mật, tối mật, tuyệt mật) never leave through the axis."""
    return Secrecy(secrecy) is Secrecy.NORMAL


@dataclass(frozen=True)
class Recipient:
    code: str
    name: str
    internal: bool


def split_recipients(
    internal: list[dict[str, Any]], external: list[dict[str, Any]], hosted: set[str]
) -> list[Recipient]:
    """Every recipient once; hosted agencies go over NATS even when listed as external."""
    result: dict[str, Recipient] = {}
    for item in [*internal, *external]:
        code = str(item.get("organ_id") or "").strip()
        if not code or code in result:
            continue
        listed_internal = any(code == str(i.get("organ_id") or "").strip() for i in internal)
        result[code] = Recipient(code, str(item.get("organ_name") or ""), listed_internal or code in hosted)
    return list(result.values())


def edoc_key(document_id: str, recipient: str, version: int, business_doc_type: int) -> str:
    return f"edoc|{document_id}|{recipient}|v{version}|t{business_doc_type}"


def status_key(receipt_id: str, recipient: str, code: str, sequence: int = 0) -> str:
    return f"status|{receipt_id}|{recipient}|{code}|{sequence}"


def organ(agency: dict[str, Any]) -> Organ:
    """Our agency's edXML organisation block from a hosted_agencies row."""
    return Organ(
        organ_id=agency["code"],
        organ_name=agency.get("name") or "",
        organization_in_charge=agency.get("organization_in_charge") or agency.get("name") or "",
        organ_add=agency.get("address") or "",
        email=agency.get("email") or "",
        telephone=agency.get("telephone") or "",
        fax=agency.get("fax") or "",
        website=agency.get("website") or "",
    )


def edoc_packet(
    facts: dict[str, Any],
    *,
    sender: Organ,
    recipients: list[Organ],
    business_doc_type: int,
    reason: str | None,
    related_document_ids: list[str],
    attachments: list[Attachment],
    sent_at: datetime,
) -> EdocPacket:
    """The document packet for an issued document (facts = the OutgoingIssued payload)."""
    issued = date.fromisoformat(facts["issued_date"]) if facts.get("issued_date") else sent_at.date()
    due = date.fromisoformat(facts["due_date"]) if facts.get("due_date") else None
    external_id = facts["axis_document_id"]
    business = Business(
        doc_type=business_doc_type,
        reason=reason or BUSINESS_REASONS[business_doc_type],
        paper=0,
        document_id=related_document_ids[0]
        if business_doc_type == 2 and related_document_ids
        else external_id,
    )
    if business_doc_type == 2:
        business.document_info, business.document_receiver = 1, 0
    if business_doc_type == 3:
        business.replacements = [
            Replacement(document_id=doc, organ_ids=[r.organ_id or "" for r in recipients])
            for doc in related_document_ids
        ]
    urgency = Urgency(facts.get("urgency") or Urgency.NORMAL)
    return EdocPacket(
        from_=sender,
        to=recipients,
        document_id=external_id,
        code_number=facts.get("code_number") or str(facts.get("number") or ""),
        code_notation=facts.get("code_notation") or "",
        promulgation_place=facts.get("promulgation_place") or "",
        promulgation_date=issued,
        type=1,
        type_detail=0,
        type_name=facts.get("type_name") or "",
        subject=facts.get("subject") or "",
        content=facts.get("subject") or "",
        signer_competence=facts.get("signer_competence") or "",
        signer_position=facts.get("signer_position") or "",
        signer_full_name=facts.get("signer_name") or "",
        due_date=due,
        other=OtherInfo(
            priority=PRIORITY_BY_URGENCY.get(urgency, 0),
            promulgation_amount=facts.get("issued_amount"),
            page_amount=facts.get("page_amount"),
        ),
        response_for=[ResponseFor(document_id=doc) for doc in facts.get("response_for") or []],
        steering_type=0,
        to_places=[r.organ_name or r.organ_id or "" for r in recipients],
        trace=[Trace(organ_id=sender.organ_id, timestamp=sent_at)],
        business=business,
        attachments=attachments,
    )


def status_packet(
    *,
    reporter: Organ,
    addressee: str,
    external_document_id: str,
    symbol: str,
    promulgation_date: date | None,
    code: str,
    description: str,
    staff: str,
    reported_at: datetime,
) -> StatusPacket:
    return StatusPacket(
        from_=reporter,
        response_for=ResponseFor(
            organ_id=addressee,
            code=symbol,
            promulgation_date=promulgation_date,
            document_id=external_document_id,
        ),
        staff=StaffInfo(department="Văn thư", staff=staff or "Văn thư"),
        status_code=code,
        description=description
        or DEFAULT_DESCRIPTIONS.get(StatusCode(code), STATUS_LABELS_VI.get(StatusCode(code), "")),
        timestamp=reported_at,
    )


def as_incoming(
    facts: dict[str, Any], *, sender: Organ, business_doc_type: int, reason: str, related: list[str]
) -> IncomingDocument:
    """What a hosted recipient receives over NATS: the same data an edXML packet would carry."""
    recipients = [*(facts.get("internal_recipients") or []), *(facts.get("external_recipients") or [])]
    urgency = Urgency(facts.get("urgency") or Urgency.NORMAL)
    return IncomingDocument(
        source_document_id=facts["document_id"],
        secrecy=Secrecy(facts.get("secrecy") or Secrecy.NORMAL),
        external_document_id=facts["axis_document_id"],
        sender=organ_dict(sender),
        recipients=[(str(r.get("organ_id") or ""), str(r.get("organ_name") or "")) for r in recipients],
        business_doc_type=business_doc_type,
        business_reason=reason or BUSINESS_REASONS[business_doc_type],
        paper=0,
        related_document_ids=list(related),
        code_number=facts.get("code_number") or str(facts.get("number") or ""),
        code_notation=facts.get("code_notation") or "",
        issued_date=date.fromisoformat(facts["issued_date"]) if facts.get("issued_date") else None,
        type_name=facts.get("type_name") or "",
        subject=facts.get("subject") or "",
        content=facts.get("subject") or "",
        signer_competence=facts.get("signer_competence") or "",
        signer_position=facts.get("signer_position") or "",
        signer_full_name=facts.get("signer_name") or "",
        due_date=date.fromisoformat(facts["due_date"]) if facts.get("due_date") else None,
        priority=PRIORITY_BY_URGENCY.get(urgency, 0),
        page_amount=facts.get("page_amount"),
        to_places=[str(r.get("organ_name") or r.get("organ_id") or "") for r in recipients],
        response_for=list(facts.get("response_for") or []),
    )
