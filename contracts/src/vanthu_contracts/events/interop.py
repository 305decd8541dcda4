"""Contracts of the interop service: documents and statuses exchanged with other agencies.

Interop receives edXML packets (QCVN 102:2016) from the national axis, and documents sent
between agencies hosted on this platform over NATS; it sends the platform's issued documents
and the status feedback of Decision 28/2018 (01–06, 13, 15, 16) back the same way.

Direction vocabulary used below:
- *incoming*: a document another agency sent to one of our agencies (we are the receiver);
- *outgoing*: a document one of our agencies issued (we are the sender).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, StrEnum

from pydantic import BaseModel, Field

from vanthu_contracts.errors import define
from vanthu_contracts.events.common import AgencyCode
from vanthu_contracts.events.registry import Channel, DocumentFacts, FileRef, OrganRef
from vanthu_contracts.spec import event, job
from vanthu_contracts.streams import EVENTS_STREAM, INTEROP_JOBS_STREAM, ConsumerSpec, register_consumer
from vanthu_contracts.subjects import document_event_subjects

__all__ = ["Channel", "FileRef", "OrganRef"]


# -- value types ----------------------------------------------------------------------------


class StatusCode(StrEnum):
    """edXML StatusCode (QĐ 28/2018): always written with two digits."""

    ARRIVED = "01"  # Đã đến: the receiving software has it, the văn thư has not handled it yet
    REFUSED = "02"  # Từ chối tiếp nhận (reason in description)
    ACCEPTED = "03"  # Đã tiếp nhận: registered in the incoming register
    ASSIGNED = "04"  # Phân công: a leader assigned who handles it
    PROCESSING = "05"  # Đang xử lý
    DONE = "06"  # Hoàn thành
    RECALL = "13"  # Lấy lại: the *sender* asks to take the document back
    CHANGE_ACCEPTED = "15"  # Đồng ý yêu cầu cập nhật / lấy lại
    CHANGE_REFUSED = "16"  # Từ chối yêu cầu cập nhật / lấy lại


STATUS_LABELS_VI: dict[StatusCode, str] = {
    StatusCode.ARRIVED: "Đã đến",
    StatusCode.REFUSED: "Từ chối tiếp nhận",
    StatusCode.ACCEPTED: "Đã tiếp nhận",
    StatusCode.ASSIGNED: "Phân công",
    StatusCode.PROCESSING: "Đang xử lý",
    StatusCode.DONE: "Hoàn thành",
    StatusCode.RECALL: "Yêu cầu lấy lại",
    StatusCode.CHANGE_ACCEPTED: "Đồng ý cập nhật, lấy lại",
    StatusCode.CHANGE_REFUSED: "Từ chối cập nhật, lấy lại",
}


class BusinessDocType(IntEnum):
    """edXML Bussiness/BussinessDocType. A packet without the block is NEW."""

    NEW = 0  # Văn bản điện tử mới
    REVOKE = 1  # Thu hồi văn bản điện tử
    UPDATE = 2  # Cập nhật văn bản điện tử
    REPLACE = 3  # Văn bản thay thế


class PacketKind(StrEnum):
    EDOC = "edoc"
    STATUS = "status"


class OrganInfo(OrganRef):
    """The edXML organisation block (From / To) beyond the id and name."""

    organization_in_charge: str = ""
    organ_add: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


class SignerInfo(BaseModel):
    competence: str = Field("", description="Thẩm quyền ký: TM., KT., TL., TUQ. …")
    position: str = Field("", description="Chức vụ người ký")
    full_name: str = Field("", description="Họ tên người ký")


class BusinessInfo(BaseModel):
    """What the packet means: new, revoke, update or replace (edXML `Bussiness`)."""

    doc_type: BusinessDocType = BusinessDocType.NEW
    reason: str = ""
    paper: int | None = Field(None, description="1 when a paper original is also sent")
    related_document_ids: list[str] = Field(
        default_factory=list, description="DocumentIds it updates or replaces (ReplacementInfo)"
    )


# -- incoming documents ----------------------------------------------------------------------


class DocumentReceived(DocumentFacts):
    """An electronic document stored by interop and ready to be registered (vào sổ đến).

    `document_id` is the id interop gave this received copy (UUIDv7, one per receiving
    agency); the registry may keep it as its own document id, which makes registering a
    redelivered event idempotent. `files` are already in the object store (content
    addressed by sha256): the first is the main file, the rest attachments.
    """

    document_id: str = Field(description="Id interop gave this received copy (UUIDv7); registry may adopt it")
    channel: Channel = Field(description="axis (national axis, edXML) or internal (hosted on this platform)")
    external_document_id: str = Field(description="edXML DocumentId: <issuer>,<yyyy/MM/dd>,<số>/<ký hiệu> or a UUID")
    sender: OrganInfo = Field(description="edXML From: who sent it and receives our status feedback")
    recipients: list[OrganRef] = Field(default_factory=list, description="Every To of the packet")
    content: str = Field("", description="edXML Content (often equals the subject)")
    promulgation_place: str = ""
    signer: SignerInfo = Field(default_factory=SignerInfo)
    due_date: date | None = Field(None, description="Hạn xử lý asked by the sender (edXML DueDate)")
    steering_type: int | None = None
    to_places: list[str] = Field(default_factory=list, description="Nơi nhận as printed")
    response_for: list[str] = Field(default_factory=list, description="External DocumentIds it answers")
    business: BusinessInfo = Field(default_factory=BusinessInfo)
    received_at: datetime
    axis_doc_id: str | None = Field(None, description="The axis's transport id of the packet (axis only)")
    packet_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="The edXML packet as received, kept in the object store"
    )
    signature_report: dict[str, object] | None = Field(
        None, description="Validation report of the attachments' signatures (filled by signing later)"
    )


class DocumentRecalled(BaseModel):
    """The sender took back a document we received (status 13 or BussinessDocType 1).

    Decree 30: the receiver's copy is removed from use and the recall is logged; the
    registry marks its copy recalled. `answer` is what interop replied to the sender.
    """

    document_id: str = Field(description="Interop id of the received copy (DocumentReceived.document_id)")
    registry_document_id: str | None = Field(None, description="Registry id, once it registered the copy")
    agency_code: AgencyCode
    channel: Channel
    external_document_id: str
    sender: OrganRef
    reason: str = ""
    route: str = Field(description="status_13 or revocation_packet")
    answer: StatusCode = Field(description="15 agreed, 16 refused")
    recalled_at: datetime


# -- status feedback -------------------------------------------------------------------------


class StatusReceived(BaseModel):
    """A recipient reported a status on one of our outgoing documents (per recipient)."""

    agency_code: AgencyCode = Field(description="Our agency that sent the document")
    document_id: str | None = Field(None, description="Registry id of our outgoing document, when known")
    external_document_id: str
    recipient: OrganRef = Field(description="The agency reporting the status")
    channel: Channel
    code: StatusCode
    label_vi: str
    description: str = Field("", description="Free text; the reason for 02 and 16")
    staff: str = ""
    department: str = ""
    reported_at: datetime | None = Field(None, description="edXML Timestamp (local time of the reporter)")
    received_at: datetime


class StatusSent(BaseModel):
    """We sent a status packet for a document one of our agencies received."""

    agency_code: AgencyCode = Field(description="Our agency reporting the status")
    document_id: str = Field(description="Interop id of the received copy")
    registry_document_id: str | None = None
    external_document_id: str
    to: OrganRef = Field(description="The document's sender")
    channel: Channel
    code: StatusCode
    description: str = ""
    sent_at: datetime


# -- outgoing documents ----------------------------------------------------------------------


class DocumentSent(BaseModel):
    """One recipient got our document (the axis accepted it, or it was delivered internally)."""

    delivery_id: str
    document_id: str = Field(description="Registry id of the outgoing document")
    agency_code: AgencyCode
    external_document_id: str
    recipient: OrganRef
    channel: Channel
    business_doc_type: BusinessDocType = BusinessDocType.NEW
    version: int = Field(0, ge=0, description="0 for the first send; +1 per update or replacement")
    axis_doc_id: str | None = None
    sent_at: datetime


class SendFailed(BaseModel):
    """A send was given up after its retries; it is in the dead-letter list (`vanthu interop failed`)."""

    delivery_id: str
    kind: PacketKind
    document_id: str | None = None
    agency_code: AgencyCode
    external_document_id: str
    recipient: OrganRef
    channel: Channel
    status_code: StatusCode | None = None
    error_code: str
    error: str
    attempts: int
    failed_at: datetime


class RecallRequested(BaseModel):
    """One of our agencies took back an outgoing document: the sender's copy is frozen (Decree 30)."""

    document_id: str = Field(description="Registry id of the outgoing document")
    agency_code: AgencyCode
    external_document_id: str
    reason: str
    recipients: list[OrganRef]
    requested_by: str
    requested_at: datetime


class PartnersSynced(BaseModel):
    """The partner directory was refreshed from the axis agency list."""

    total: int
    added: int
    changed: int
    synced_at: datetime


# -- the send job ----------------------------------------------------------------------------


class SendJob(BaseModel):
    """Send one packet to one recipient: a document (edoc) or a status.

    Interop writes it through its outbox together with the delivery row it refers to, so
    replicas share the work; retries keep `idempotency_key` (document, recipient, version
    or status), which is what guarantees one delivery per recipient.
    """

    delivery_id: str
    kind: PacketKind
    agency_code: AgencyCode = Field(description="Our agency on whose behalf it is sent")
    document_id: str | None = Field(None, description="Registry id (outgoing) or interop receipt id (status)")
    external_document_id: str
    recipient: OrganRef
    channel: Channel
    business_doc_type: BusinessDocType = BusinessDocType.NEW
    status_code: StatusCode | None = None
    version: int = 0
    idempotency_key: str


DOCUMENT_RECEIVED = event(
    "interop.document.received", DocumentReceived, "An incoming electronic document was stored and awaits registration"
)
DOCUMENT_UPDATED = event(
    "interop.document.updated", DocumentReceived, "A sender updated a document we received (BussinessDocType 2)"
)
DOCUMENT_REPLACED = event(
    "interop.document.replaced",
    DocumentReceived,
    "A sender replaced documents we received with this one (BussinessDocType 3)",
)
DOCUMENT_RECALLED = event(
    "interop.document.recalled", DocumentRecalled, "A sender took back a document we received (13 / type 1)"
)
STATUS_RECEIVED = event(
    "interop.status.received", StatusReceived, "A recipient reported a status on one of our outgoing documents"
)
STATUS_SENT = event("interop.status.sent", StatusSent, "We reported a status to the sender of an incoming document")
DOCUMENT_SENT = event("interop.document.sent", DocumentSent, "An outgoing document reached one recipient")
SEND_FAILED = event("interop.send.failed", SendFailed, "A send was given up after its retries (dead-letter list)")
RECALL_REQUESTED = event(
    "interop.recall.requested", RecallRequested, "One of our agencies took back an outgoing document"
)
PARTNERS_SYNCED = event("interop.partner.synced", PartnersSynced, "The partner directory was refreshed from the axis")

SEND = job("interop", "send", SendJob, "Send one edXML document or status packet to one recipient")


# -- consumers interop runs -----------------------------------------------------------------

SEND_CONSUMER = register_consumer(
    ConsumerSpec(
        stream=INTEROP_JOBS_STREAM.name,
        durable="interop_send",
        service="interop",
        filter_subjects=(SEND.subject,),
        ack_wait_s=120.0,
        max_deliver=8,
        backoff_s=(2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0),
        description="Sends documents and statuses over the axis or to hosted agencies",
    )
)
ISSUED_CONSUMER = register_consumer(
    ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable="interop_issued",
        service="interop",
        # Secret documents' too: delivered inside the province only.
        filter_subjects=document_event_subjects("registry.document.issued"),
        description="Dispatches issued documents: internal recipients over NATS, external over the axis",
    )
)
FEEDBACK_CONSUMER = register_consumer(
    ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable="interop_feedback",
        service="interop",
        filter_subjects=("vanthu.evt.routing.handling.>",),
        description=(
            "Turns routing's handling events that carry a status_code (03, 04, 05, 06, 02) into status "
            "packets to the sender; routing is the one source of those statuses, 01 is interop's own"
        ),
    )
)
DIRECTORY_CONSUMER = register_consumer(
    ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable="interop_directory",
        service="interop",
        filter_subjects=("vanthu.evt.registry.agency.upserted",),
        description="Keeps the list of agencies hosted on this platform (internal delivery, From blocks)",
    )
)


# -- error codes ----------------------------------------------------------------------------

EDXML_MALFORMED = define(
    "interop.edxml_malformed",
    422,
    "Gói tin edXML không đúng cú pháp XML.",
    "The edXML packet is not well-formed XML.",
)
EDXML_FORBIDDEN = define(
    "interop.edxml_forbidden",
    422,
    "Gói tin edXML chứa khai báo DTD hoặc thực thể (entity), không được chấp nhận.",
    "The edXML packet contains a DTD or entity declaration, which is refused.",
)
EDXML_TOO_LARGE = define(
    "interop.edxml_too_large",
    413,
    "Gói tin edXML vượt quá dung lượng cho phép.",
    "The edXML packet exceeds the size limit.",
)
EDXML_INVALID = define(
    "interop.edxml_invalid",
    422,
    "Gói tin không phải edXML (QCVN 102:2016) hoặc thiếu thông tin bắt buộc.",
    "The packet is not edXML (QCVN 102:2016) or lacks a required element.",
)
EDXML_ATTACHMENT_INVALID = define(
    "interop.edxml_attachment_invalid",
    422,
    "Tệp đính kèm trong gói tin edXML bị hỏng (base64 hoặc ZIP không hợp lệ).",
    "An attachment of the edXML packet is corrupt (bad base64 or ZIP).",
)
BUILD_SPEC_INVALID = define(
    "interop.build_spec_invalid",
    422,
    "Mô tả gói tin cần tạo không hợp lệ.",
    "The packet description to build from is invalid.",
)
SECRET_DOCUMENT = define(
    "interop.secret_document",
    422,
    "Văn bản mật không được gửi qua trục liên thông văn bản quốc gia.",
    "Secret documents (mật, tối mật, tuyệt mật) are never sent through the national axis.",
)
AXIS_REFUSED = define(
    "interop.axis_refused",
    502,
    "Trục liên thông văn bản từ chối yêu cầu (xem chi tiết lỗi).",
    "The document axis refused the request (see the details).",
)
AXIS_UNAVAILABLE = define(
    "interop.axis_unavailable",
    503,
    "Không kết nối được trục liên thông văn bản; sẽ thử lại.",
    "The document axis cannot be reached; it will be retried.",
)
AXIS_SIGNATURE_INVALID = define(
    "interop.axis_signature_invalid",
    401,
    "Chữ ký HMAC của yêu cầu gửi trục không hợp lệ.",
    "The request's HMAC signature headers are invalid.",
)
AXIS_NOT_CONFIGURED = define(
    "interop.axis_not_configured",
    409,
    "Nền tảng chưa được cấu hình kết nối trục liên thông văn bản quốc gia.",
    "No connection to the national document axis is configured on this platform.",
)
RECIPIENT_UNKNOWN = define(
    "interop.recipient_unknown",
    422,
    "Không xác định được cơ quan nhận trong danh bạ liên thông.",
    "The recipient is not in the partner directory.",
)
DOCUMENT_UNKNOWN = define(
    "interop.document_unknown",
    404,
    "Không tìm thấy văn bản liên thông.",
    "The exchanged document was not found.",
)
DELIVERY_NOT_FAILED = define(
    "interop.delivery_not_failed",
    409,
    "Chỉ gửi lại được lượt gửi đã thất bại.",
    "Only a failed delivery can be replayed.",
)
DOCUMENT_RECALLED_ALREADY = define(
    "interop.document_recalled",
    409,
    "Văn bản đã bị thu hồi.",
    "The document has been recalled.",
)
