"""Contracts of the registry service: the directory, documents, the issue RPC and error codes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from vanthu_contracts.events.common import AgencyCode, Role
from vanthu_contracts.spec import event


class AgencyUpserted(BaseModel):
    code: AgencyCode
    name: str = Field(max_length=200)
    abbreviation: str = Field(max_length=20, description="Used in ký hiệu, e.g. UBND, SXD")
    parent_code: AgencyCode | None = None
    hosted: bool = Field(True, description="True when this platform hosts the agency")
    active: bool = True


class UnitUpserted(BaseModel):
    id: str
    agency_code: AgencyCode
    name: str = Field(max_length=200)
    abbreviation: str = Field(max_length=20)
    parent_unit_id: str | None = None
    active: bool = True


class UserUpserted(BaseModel):
    id: str
    username: str
    full_name: str = Field(max_length=50)
    agency_code: AgencyCode
    unit_id: str | None = None
    position: str = Field("", max_length=100)
    roles: list[Role]
    active: bool = True


AGENCY_UPSERTED = event("registry.agency.upserted", AgencyUpserted, "An agency was created or changed")
UNIT_UPSERTED = event("registry.unit.upserted", UnitUpserted, "A unit (phòng, ban) was created or changed")
USER_UPSERTED = event("registry.user.upserted", UserUpserted, "A user was created or changed")


# -- documents -------------------------------------------------------------------------
# The registry is the system of record of documents; routing, interop and analytics keep
# projections from these events. Field names follow Phụ lục VI of Decree 30 where it has one.

from datetime import date, datetime  # noqa: E402
from enum import StrEnum  # noqa: E402

from vanthu_contracts.events.common import Secrecy, Urgency  # noqa: E402
from vanthu_contracts.subjects import document_event_subjects, event_subject, secret_event_subject  # noqa: E402


class Channel(StrEnum):
    """How an incoming document reached the agency."""

    AXIS = "axis"  # over the national document axis (edXML)
    INTERNAL = "internal"  # from another agency hosted on this platform
    PAPER = "paper"  # a paper original, scanned by the văn thư


class FileRef(BaseModel):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    name: str = Field(max_length=500)
    content_type: str = "application/pdf"
    size: int = Field(ge=0)
    role: str = Field("main", description="main | attachment | signed | scan")


class OrganRef(BaseModel):
    organ_id: str = Field(max_length=13, description="Identifier code of the agency")
    organ_name: str = Field("", max_length=200)


class DocumentFacts(BaseModel):
    """What every document event carries about the document itself."""

    document_id: str = Field(description="Registry id of the document (UUID)")
    agency_code: AgencyCode = Field(description="Agency whose register holds it")
    type_name: str = Field(max_length=100, description="Tên loại văn bản, e.g. Quyết định, Công văn")
    type_abbreviation: str | None = Field(None, max_length=10, description="QĐ, CV has none, QyĐ …")
    code_number: str | None = Field(None, max_length=11, description="Số của văn bản")
    code_notation: str | None = Field(None, max_length=30, description="Ký hiệu của văn bản")
    issued_date: date | None = None
    issuer: OrganRef | None = Field(None, description="Cơ quan ban hành")
    subject: str = Field(max_length=500, description="Trích yếu nội dung")
    urgency: Urgency = Urgency.NORMAL
    secrecy: Secrecy = Secrecy.NORMAL
    page_amount: int | None = None
    files: list[FileRef] = Field(default_factory=list)
    # Added after the first cut (optional, so earlier consumers keep working):
    type_code: str | None = Field(None, description="Stable type key, e.g. quyet_dinh, cong_van")
    language: str = Field("Tiếng Việt", max_length=30)
    description: str = Field("", max_length=500, description="Ghi chú")
    priority: int = Field(0, ge=0, le=4, description="edXML Priority (urgency code)")


def holds_secret_subject(payload: object) -> bool:
    """A document event of a document above "thường": its payload carries the trích yếu."""
    return isinstance(payload, DocumentFacts) and payload.secrecy is not Secrecy.NORMAL


def publish_subject(event_type: str, payload: object) -> str:
    """Where an event is published: under `vanthu.evt.secret.>` when it holds a secret document's
    subject (registered, issued, received …), else under its service's subject."""
    return secret_event_subject(event_type) if holds_secret_subject(payload) else event_subject(event_type)


class IncomingRegistered(DocumentFacts):
    register_id: str
    register_year: int
    incoming_number: int = Field(description="Số đến: consecutive in the register's year")
    received_at: datetime
    registered_at: datetime
    channel: Channel
    external_document_id: str | None = Field(
        None, description="DocumentId on the axis (<issuer>,<yyyy/MM/dd>,<số>/<ký hiệu>) or the sender's id"
    )
    sender: OrganRef | None = Field(None, description="Who sent it (for status feedback)")
    due_date: date | None = Field(None, description="Hạn xử lý asked by the sender")
    proposed_unit_id: str | None = Field(None, description="Unit the văn thư proposes to handle it")
    duplicate_of: list[str] = Field(default_factory=list, description="Earlier documents it looks like")
    response_for: str | None = Field(None, description="External DocumentId this one answers")
    arrival_date: date | None = Field(None, description="Ngày đến (Vietnam date)")
    signer_position: str = Field("", max_length=100)
    signer_name: str = Field("", max_length=50)
    to_places: str = Field("", max_length=1000, description="Đơn vị hoặc người nhận")
    registered_by: str | None = Field(None, description="User id of the văn thư who registered it")


class IncomingReturned(BaseModel):
    document_id: str
    agency_code: AgencyCode
    external_document_id: str | None = None
    sender: OrganRef | None = None
    channel: Channel
    reason: str = Field(max_length=500)
    returned_at: datetime


class OutgoingIssued(DocumentFacts):
    register_id: str
    register_year: int
    number: int = Field(description="Số: consecutive in the register's year")
    symbol: str = Field(description="Số, ký hiệu as printed, e.g. 15/QĐ-UBND or 05/UBND-VP")
    axis_document_id: str = Field(description="<issuer code>,<yyyy/MM/dd>,<number>/<notation>")
    issued_at: datetime
    draft_id: str | None = Field(
        None, description="Routing draft it came from (None: issued outside the workflow)"
    )
    signer_position: str = Field("", max_length=100)
    signer_name: str = Field("", max_length=50)
    signer_competence: str = Field("", description="TM., KT., TL., TUQ., Q. or empty")
    digitally_signed: bool = False
    sealed: bool = False
    internal_recipients: list[OrganRef] = Field(default_factory=list, description="Hosted on this platform")
    external_recipients: list[OrganRef] = Field(default_factory=list, description="Reached over the axis")
    response_for: list[str] = Field(default_factory=list, description="External DocumentIds it answers")
    issued_amount: int | None = Field(None, description="Số lượng bản phát hành")
    due_date: date | None = Field(None, description="Hạn trả lời văn bản")
    code_notation_unit: str | None = Field(None, description="Drafting unit abbreviation used in a công văn")


DOCUMENT_REGISTERED = event(
    "registry.document.registered",
    IncomingRegistered,
    "An incoming document was registered (vào sổ văn bản đến)",
)
DOCUMENT_RETURNED = event(
    "registry.document.returned",
    IncomingReturned,
    "An incoming document was returned to its sender with a reason",
)
DOCUMENT_ISSUED = event(
    "registry.document.issued", OutgoingIssued, "An outgoing document was numbered, registered and issued"
)


class SecretAccessGranted(BaseModel):
    """A user may now read one secret document (mật, tối mật, tuyệt mật).

    Secret documents are read only by those holding a grant: the văn thư who registered or
    issued it, the agency's văn thư for one that arrived electronically, and whoever a văn thư
    or leader gave it to. Routing shows a secret document's handling in full to the same people.
    """

    document_id: str
    agency_code: AgencyCode
    user_id: str = Field(description="Who may read it")
    secrecy: Secrecy
    source: str = Field(description="registration | arrival | issue | manual")
    granted_by: str
    granted_at: datetime


DOCUMENT_SECRET_GRANTED = event(
    "registry.document.secret_granted",
    SecretAccessGranted,
    "A user was given access to a secret document",
)



class AuditSealed(BaseModel):
    """An anchor of the registry's audit log, kept outside its database.

    The audit log is a hash chain: entry n's hash covers entry n and, through hash(n-1), every
    entry before it. Someone able to write the database could still rewrite entries and compute
    every hash again, or cut the newest entries and move the head back; the chain alone would
    not show it. These anchors, published as the log grows and kept in the event stream (and by
    any subscriber, e.g. the province's log archive), do: `vanthu audit verify --anchors` checks
    the log against them.
    """

    chain: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hash of the log's first entry: which log this is")
    seq: int = Field(ge=1, description="The entry the log had reached when sealed")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="That entry's hash")
    sealed_at: datetime


AUDIT_SEALED = event(
    "registry.audit.sealed",
    AuditSealed,
    "The audit log's hash chain reached this entry: an anchor kept outside the registry's database",
)

# -- issuing over request/reply --------------------------------------------------------
# Routing calls this after the signer has signed an approved draft: it needs the number
# back at once (to stamp it and send the document on), so it is an RPC, not an event.
# Idempotent by (agency_code, draft_id): a retried request returns the first answer.

from vanthu_contracts.errors import ErrorBody  # noqa: E402
from vanthu_contracts.spec import rpc  # noqa: E402


class IssueDocumentRequest(BaseModel):
    agency_code: AgencyCode = Field(description="Issuing agency (its outgoing register)")
    draft_id: str = Field(min_length=1, max_length=64, description="Routing draft id; the idempotency key")
    actor: str = Field("system", description="User id on whose action it is issued")
    on_behalf_of: str | None = None
    type: str = Field(description="Type code (quyet_dinh) or exact abbreviation (QĐ, QyĐ, CTr)")
    subject: str = Field(max_length=500)
    unit_abbreviation: str | None = Field(
        None,
        max_length=20,
        description="Drafting unit's (or field's) abbreviation, required for công văn: VP gives the notation UBND-VP",
    )
    signer_position: str = Field("", max_length=100)
    signer_name: str = Field("", max_length=50)
    signer_competence: str = Field("", max_length=10, description="TM., KT., TL., TUQ., Q. or empty")
    urgency: Urgency = Urgency.NORMAL
    secrecy: Secrecy = Secrecy.NORMAL
    recipients: list[OrganRef] = Field(default_factory=list, description="Nơi nhận")
    issued_amount: int | None = Field(None, ge=1, le=999)
    due_date: date | None = None
    description: str = Field("", max_length=500)
    language: str = Field("Tiếng Việt", max_length=30)
    files: list[FileRef] = Field(
        default_factory=list, description="Signed PDF(s) already in the object store (by sha256)"
    )
    response_for: list[str] = Field(default_factory=list)
    digitally_signed: bool = True
    sealed: bool = False
    # Who handled the draft: of a secret document (secrecy above "thường") they, with the agency's
    # văn thư, are the people who hold it once issued. Optional: an older caller sends none, and
    # the registry then grants only the văn thư (and the actor).
    drafter_id: str | None = Field(None, max_length=64, description="The draft's creator (người soạn thảo)")
    signer_id: str | None = Field(None, max_length=64, description="The person who signed it")
    reviewer_ids: list[str] = Field(
        default_factory=list, max_length=50, description="The reviewers of its review chain"
    )


class IssueDocumentReply(BaseModel):
    ok: bool
    document_id: str | None = None
    register_id: str | None = None
    number: int | None = None
    code_number: str | None = Field(None, description="e.g. 05")
    code_notation: str | None = Field(None, description="e.g. QĐ-UBND")
    symbol: str | None = Field(None, description="e.g. 05/QĐ-UBND")
    axis_document_id: str | None = None
    issued_date: date | None = None
    error: ErrorBody | None = None


ISSUE_DOCUMENT = rpc(
    "registry",
    "issue_document",
    IssueDocumentRequest,
    IssueDocumentReply,
    "Number, register and issue a signed draft; replies with the number and symbol",
)


# -- what the registry consumes ----------------------------------------------------------------
# Subjects are spelled out (not imported) because interop's and routing's contract modules
# import this one.

from vanthu_contracts.streams import EVENTS_STREAM, ConsumerSpec, register_consumer  # noqa: E402

INTEROP_RECEIVED_CONSUMER = register_consumer(
    ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable="registry_interop_received",
        service="registry",
        filter_subjects=document_event_subjects("interop.document.received"),
        description="Records electronic documents interop received (state received, or registered at once)",
    )
)
ROUTING_ASSIGNED_CONSUMER = register_consumer(
    ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable="registry_routing_assigned",
        service="registry",
        filter_subjects=(event_subject("routing.handling.assigned"),),
        description="Grants assignees (users and units) read access to the document",
    )
)
DRAFT_SIGNED_CONSUMER = register_consumer(
    ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable="registry_draft_signed",
        service="registry",
        filter_subjects=(event_subject("routing.draft.signed"),),
        description="Issues a signed draft (number, symbol, outgoing register); answers with document.issued",
    )
)


# -- error codes -----------------------------------------------------------------------

from vanthu_contracts.errors import define  # noqa: E402

AGENCY_CODE_INVALID = define(
    "registry.agency_code_invalid",
    422,
    "Mã định danh cơ quan không đúng định dạng NNN.NN.NN.XNN (ví dụ 000.00.00.H99).",
    "The agency identifier code must look like NNN.NN.NN.XNN (e.g. 000.00.00.H99).",
)
NAME_LENGTH = define(
    "registry.name_length",
    422,
    "Tên không được để trống và không vượt quá độ dài cho phép.",
    "The name must not be empty and must fit the allowed length.",
)
ABBREVIATION_INVALID = define(
    "registry.abbreviation_invalid",
    422,
    "Chữ viết tắt chỉ gồm chữ và số, tối đa 20 ký tự, không có dấu cách, '-' hay '/'.",
    "An abbreviation is 1–20 letters or digits, without spaces, '-' or '/'.",
)
TREE_CYCLE = define(
    "registry.tree_cycle",
    422,
    "Không thể chọn cấp trên này vì sẽ tạo vòng lặp trong cây tổ chức.",
    "That parent would create a cycle in the organisation tree.",
)
UNKNOWN_PARENT = define(
    "registry.unknown_parent", 422, "Không tìm thấy đơn vị cấp trên.", "The parent does not exist."
)
USERNAME_INVALID = define(
    "registry.username_invalid",
    422,
    "Tên đăng nhập gồm 3–64 ký tự thường, số, '.', '_' hoặc '-'.",
    "A username is 3–64 lower-case letters, digits, '.', '_' or '-'.",
)
USERNAME_TAKEN = define(
    "registry.username_taken", 409, "Tên đăng nhập đã được sử dụng.", "That username is already taken."
)
ROLES_REQUIRED = define(
    "registry.roles_required",
    422,
    "Người dùng phải có ít nhất một vai trò.",
    "A user needs at least one role.",
)
BAD_CREDENTIALS = define(
    "registry.bad_credentials",
    401,
    "Tên đăng nhập hoặc mật khẩu không đúng.",
    "The username or password is wrong.",
)
DEV_ISSUER_DISABLED = define(
    "registry.dev_issuer_disabled",
    404,
    "Chức năng cấp mã đăng nhập thử nghiệm không được bật.",
    "The development token issuer is not enabled.",
)


# Documents, registers, files, work files, search (added with the document registry).

def _bad(code: str, vi: str, en: str, status: int = 422):
    return define(f"registry.{code}", status, vi, en)


UNKNOWN_DOCUMENT_TYPE = _bad(
    "unknown_document_type",
    "Tên loại văn bản không có trong danh mục của Nghị định 30/2020/NĐ-CP.",
    "The document type is not one of Decree 30/2020's types.",
)
SUBJECT_REQUIRED = _bad("subject_required", "Trích yếu nội dung không được để trống.", "The subject must not be empty.")
FIELD_TOO_LONG = _bad(
    "field_too_long",
    "Trường dữ liệu vượt quá độ dài quy định tại Phụ lục VI.",
    "A field is longer than Phụ lục VI allows.",
)
CODE_NUMBER_INVALID = _bad(
    "code_number_invalid", "Số của văn bản phải là chữ số (tối đa 11 ký tự).", "The document number must be digits (at most 11)."
)
CODE_NOTATION_INVALID = _bad(
    "code_notation_invalid", "Ký hiệu văn bản không hợp lệ (không có dấu cách).", "The notation is invalid (no spaces allowed)."
)
FUTURE_DATE = _bad("future_date", "Ngày tháng văn bản không được ở tương lai.", "The document date cannot be in the future.")
NUMBER_OUT_OF_RANGE = _bad("number_out_of_range", "Giá trị số nằm ngoài phạm vi cho phép.", "A number is out of range.")
DUE_BEFORE_ISSUE = _bad(
    "due_before_issue", "Hạn giải quyết không được trước ngày văn bản.", "The due date cannot be before the document date."
)
RECIPIENT_EMPTY = _bad("recipient_empty", "Nơi nhận phải có mã định danh hoặc tên.", "A recipient needs a code or a name.")
ISSUER_REQUIRED = _bad(
    "issuer_required", "Văn bản đến phải có tên cơ quan ban hành.", "An incoming document needs its issuing agency."
)
UNIT_ABBREVIATION_REQUIRED = _bad(
    "unit_abbreviation_required",
    "Công văn cần chữ viết tắt của đơn vị soạn thảo (ví dụ UBND-VP).",
    "A công văn needs the drafting unit's abbreviation (e.g. UBND-VP).",
)
FILE_NOT_PDF = _bad("file_not_pdf", "Tệp phải là PDF hợp lệ.", "The file must be a valid PDF.")
FILE_TOO_LARGE = _bad(
    "file_too_large", "Tệp vượt quá dung lượng cho phép ({limit} byte).", "The file exceeds the size limit ({limit} bytes)."
)
FILE_ENCRYPTED = _bad(
    "file_encrypted",
    "Tệp PDF được đặt mật khẩu mở; hãy gửi bản không đặt mật khẩu.",
    "The PDF needs a password to open; send a copy without one.",
)
FILE_TOO_MANY_PAGES = _bad(
    "file_too_many_pages",
    "Tệp PDF có quá nhiều trang (tối đa {limit} trang).",
    "The PDF has too many pages (at most {limit}).",
)
FILE_REQUIRED = _bad("file_required", "Cần đính kèm tệp văn bản.", "The document file is required.")
FILE_NOT_STORED = _bad(
    "file_not_stored", "Tệp được tham chiếu không có trong kho lưu trữ.", "A referenced file is not in the object store."
)
ILLEGAL_TRANSITION = _bad(
    "illegal_transition",
    "Không thể chuyển văn bản sang trạng thái này từ trạng thái hiện tại.",
    "The document cannot move to that state from its current one.",
    409,
)
RETURN_REASON_REQUIRED = _bad(
    "return_reason_required", "Cần nêu lý do trả lại văn bản.", "A reason is required to return a document."
)
SERIES_INVALID = _bad(
    "series_invalid",
    "Cấu hình sổ không hợp lệ: mỗi loại văn bản chỉ thuộc một sổ cho mỗi mức mật.",
    "Invalid register setup: each type belongs to one series per secrecy class.",
)
REGISTER_EXISTS = _bad("register_exists", "Sổ văn bản này đã tồn tại.", "That register already exists.", 409)
YEAR_INVALID = _bad("year_invalid", "Năm không hợp lệ.", "The year is invalid.")
WORK_FILE_CLOSED = _bad(
    "work_file_closed", "Hồ sơ đã đóng, không thể thay đổi.", "The work file is closed and cannot change.", 409
)
WORK_FILE_OPEN = _bad(
    "work_file_open", "Chỉ xuất được hồ sơ đã đóng.", "Only a closed work file can be exported.", 409
)
WORK_FILE_EXISTS = _bad(
    "work_file_exists", "Số và ký hiệu hồ sơ đã có trong năm.", "That file code already exists this year.", 409
)
FILE_NOTATION_INVALID = _bad(
    "file_notation_invalid",
    "Số và ký hiệu hồ sơ phải có dạng 01.TCCB.",
    "A file code looks like 01.TCCB.",
)
TITLE_REQUIRED = _bad("title_required", "Tiêu đề hồ sơ không được để trống.", "The file title must not be empty.")
SEARCH_FIELD_UNKNOWN = _bad(
    "search_field_unknown", "Cột tìm kiếm hoặc sắp xếp không tồn tại.", "Unknown column for selection or sorting."
)
PERIOD_INVALID = _bad("period_invalid", "Khoảng thời gian không hợp lệ.", "The period is invalid.")
GRANT_INVALID = _bad(
    "grant_invalid", "Người hoặc đơn vị được cấp quyền không thuộc cơ quan.", "The grantee is not in this agency."
)
# Returned as a warning beside a 201 (Phụ lục VI III.1.h asks to warn, not to refuse); 409 when a
# client asks to be refused instead.
DUPLICATE_WARNING = define(
    "registry.possible_duplicate",
    409,
    "Cảnh báo: văn bản có thể trùng với văn bản đã đăng ký (mã định danh hoặc số, ký hiệu, cơ quan ban hành).",
    "Warning: this may duplicate a registered document (same id, or same number, notation and issuer).",
)
AUDIT_ANCHORS_UNREADABLE = _bad(
    "audit_anchors_unreadable",
    "Không đọc được các mốc của nhật ký.",
    "The audit log's anchors cannot be read.",
)
