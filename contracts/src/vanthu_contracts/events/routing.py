"""Contracts of the routing service: handling of incoming documents, drafts, opinions,
delegation, tasks and notifications.

Sender statuses (edXML StatusCode). Routing is the one source of the statuses a sender sees
about the handling of its document: every event that moves the sender-visible state carries
`status_code` ("03" đã tiếp nhận, "04" phân công, "05" đang xử lý, "06" hoàn thành, "02" từ chối
tiếp nhận); every other handling event carries `status_code = None`. Interop maps events with a
status code to status packets and ignores the rest; it does not derive statuses from registry
events. Each code is published at most once per handling, in the order 03 → 04 → 05 → 06
(02 ends a handling instead).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from vanthu_contracts.errors import define
from vanthu_contracts.events.common import AgencyCode, Secrecy, Urgency
from vanthu_contracts.events.registry import Channel, FileRef, OrganRef
from vanthu_contracts.spec import event
from vanthu_contracts.streams import EVENTS_STREAM, ConsumerSpec, register_consumer
from vanthu_contracts.subjects import document_event_subjects, event_subject


class SenderStatus(StrEnum):
    """edXML StatusCode values routing emits (QCVN 102; see shared/domain §5.2)."""

    REFUSED = "02"  # từ chối tiếp nhận
    ACCEPTED = "03"  # đã tiếp nhận (vào sổ)
    ASSIGNED = "04"  # phân công
    IN_PROGRESS = "05"  # đang xử lý
    COMPLETED = "06"  # hoàn thành


class HandlingRole(StrEnum):
    """Vai trò xử lý: exactly one MAIN per level, any number of SUPPORT and INFO."""

    MAIN = "main"  # xử lý chính
    SUPPORT = "support"  # phối hợp
    INFO = "info"  # nhận để biết


class AssigneeKind(StrEnum):
    USER = "user"
    UNIT = "unit"


class UrgingLevel(StrEnum):
    """Đôn đốc: three levels a leader can use, counted per handler."""

    REMIND = "nhac_nho"  # nhắc nhở
    CRITICISE = "phe_binh"  # phê bình
    REVIEW = "kiem_diem"  # kiểm điểm


# -- handling of incoming documents ------------------------------------------------------


class HandlingRef(BaseModel):
    """What every handling event carries, so consumers need no projection to route it."""

    handling_id: str = Field(description="Routing id of the handling (one per registered document)")
    document_id: str = Field(description="Registry id of the incoming document")
    agency_code: AgencyCode = Field(description="Agency handling it")
    channel: Channel = Field(description="How the document arrived; interop answers AXIS and INTERNAL")
    sender: OrganRef | None = Field(None, description="Who sent it; the addressee of status packets")
    external_document_id: str | None = Field(None, description="The sender's DocumentId")
    status_code: SenderStatus | None = Field(
        None, description="Sender-visible status this event moves to, or None when it moves none"
    )


class AssigneeOut(BaseModel):
    assignment_id: str
    kind: AssigneeKind
    assignee_id: str = Field(description="User id or unit id")
    role: HandlingRole
    deadline: date | None = None


class HandlingAccepted(HandlingRef):
    """A registered document entered routing: it waits in the leaders' inbox (chờ phân công),
    or went straight to the unit the văn thư proposed when the agency allows it."""

    subject: str = Field(
        max_length=500, description="Trích yếu; for a secret document only a fixed label, never its subject"
    )
    urgency: Urgency
    secrecy: Secrecy
    incoming_number: int
    deadline: date | None = Field(None, description="Default handling deadline (working days)")
    accepted_at: datetime


class HandlingAssigned(HandlingRef):
    """Someone assigned the document (leader) or re-assigned it down (unit head, specialist).

    The registry grants access from this: every assignee (user or unit) may read the
    document while its assignment is open."""

    assigned_by: str = Field(description="User id of the assigner (on whose behalf, if delegated)")
    parent_assignment_id: str | None = Field(None, description="None: assigned by the leader at the top")
    assignees: list[AssigneeOut] = Field(min_length=1)
    instruction: str = Field("", max_length=2000, description="Ý kiến chỉ đạo")
    assigned_at: datetime


class AssignmentEvent(HandlingRef):
    assignment_id: str
    kind: AssigneeKind
    assignee_id: str
    role: HandlingRole
    at: datetime


class HandlingAcknowledged(AssignmentEvent):
    """The assignee opened / accepted the assignment (đã nhận)."""


class HandlingProgressed(AssignmentEvent):
    note: str = Field("", max_length=2000)
    percent: int = Field(ge=0, le=100)
    files: list[FileRef] = Field(default_factory=list)


class HandlingCompleted(AssignmentEvent):
    result: str = Field("", max_length=4000)
    reply_draft_id: str | None = Field(None, description="Outgoing reply drafted for it, if any")
    document_completed: bool = Field(description="True when this completes the whole document (06)")
    on_time: bool | None = Field(None, description="None when the assignment had no deadline")


class HandlingReturned(AssignmentEvent):
    """The assignee gave it back to the assigner with a reason (trả lại)."""

    reason: str = Field(max_length=2000)
    returned_to: str = Field(description="User id of the assigner")


class HandlingWithdrawn(AssignmentEvent):
    """The assigner took the assignment back (thu hồi); access granted by it ends."""

    withdrawn_assignment_ids: list[str] = Field(description="This one and its open descendants")


class HandlingRefused(HandlingRef):
    """The agency refused the document (02): returned to the sender with a reason."""

    reason: str = Field(max_length=500)
    refused_at: datetime


class HandlingExtended(AssignmentEvent):
    old_deadline: date | None
    new_deadline: date
    approved_by: str


class HandlingUrged(AssignmentEvent):
    level: UrgingLevel
    message: str = Field("", max_length=1000)
    urged_by: str
    count_for_handler: int = Field(description="Urgings of this level the handler has received so far")


HANDLING_ACCEPTED = event("routing.handling.accepted", HandlingAccepted, "A registered document entered handling (03)")
HANDLING_ASSIGNED = event(
    "routing.handling.assigned", HandlingAssigned, "A document was assigned or re-assigned (first one: 04)"
)
HANDLING_ACKNOWLEDGED = event(
    "routing.handling.acknowledged", HandlingAcknowledged, "An assignee acknowledged an assignment"
)
HANDLING_PROGRESSED = event(
    "routing.handling.progressed", HandlingProgressed, "Progress was reported (first one: 05)"
)
HANDLING_COMPLETED = event(
    "routing.handling.completed", HandlingCompleted, "An assignment was completed (the main handler's: 06)"
)
HANDLING_RETURNED = event(
    "routing.handling.returned", HandlingReturned, "An assignee returned an assignment to the assigner"
)
HANDLING_WITHDRAWN = event(
    "routing.handling.withdrawn", HandlingWithdrawn, "The assigner withdrew an assignment"
)
HANDLING_REFUSED = event("routing.handling.refused", HandlingRefused, "The document was refused (02)")
HANDLING_EXTENDED = event(
    "routing.handling.extended", HandlingExtended, "An assignment's deadline was extended on request"
)
HANDLING_URGED = event("routing.handling.urged", HandlingUrged, "A leader urged a handler (đôn đốc)")


# -- outgoing drafts -----------------------------------------------------------------------


class ReviewDecision(StrEnum):
    APPROVE = "approve"  # đồng ý, trình tiếp
    RETURN = "return"  # trả lại kèm ý kiến
    FORWARD = "forward"  # chuyển người khác xem xét


class ReviewStepOut(BaseModel):
    order: int
    reviewer_id: str
    label: str = Field("", description="e.g. Trưởng phòng, Phó Giám đốc")
    signer: bool = Field(False, description="The last step: the person who signs")


class DraftFacts(BaseModel):
    draft_id: str
    agency_code: AgencyCode
    unit_id: str | None = None
    creator_id: str
    type_name: str = Field(max_length=100)
    type_abbreviation: str | None = Field(None, max_length=10)
    subject: str = Field(max_length=500)
    urgency: Urgency
    secrecy: Secrecy
    internal_recipients: list[OrganRef] = Field(default_factory=list)
    external_recipients: list[OrganRef] = Field(default_factory=list)
    reply_to_handling_ids: list[str] = Field(default_factory=list)
    files: list[FileRef] = Field(default_factory=list, description="Current version of each file")


class DraftCreated(DraftFacts):
    created_at: datetime


class DraftSubmitted(DraftFacts):
    chain: list[ReviewStepOut]
    submitted_at: datetime


class DraftReviewed(BaseModel):
    draft_id: str
    agency_code: AgencyCode
    step: int
    reviewer_id: str
    decision: ReviewDecision
    comment: str = Field("", max_length=2000)
    next_reviewer_id: str | None = None
    reviewed_at: datetime


class DraftApproved(DraftFacts):
    """The signer approved it for signature; routing asks signing for the personal signature."""

    signer_id: str
    signer_name: str = ""
    signer_position: str = ""
    signer_competence: str = Field("", description="TM., KT., TL., TUQ., Q. or empty")
    approved_at: datetime


class DraftReturned(BaseModel):
    draft_id: str
    agency_code: AgencyCode
    returned_by: str
    step: int
    comment: str = Field(max_length=2000)
    returned_at: datetime


class DraftSigned(DraftApproved):
    """Both signatures are on the main file: the signer's, then the agency seal (Decree 30 Art.
    13-14, 32); `signed_file` is the sealed PDF to issue.

    Routing asked signing for them in turn (`signing.sign`, kind personal then seal). Once this is
    committed it calls `vanthu.rpc.registry.issue_document`; the registry may also issue from this
    event (the fallback when the RPC is not answered) — both are idempotent by `draft_id`, so the
    draft is numbered once. `routing.draft.issued` follows with the number and symbol."""

    signed_file: FileRef
    signed_at: datetime
    sealed: bool = Field(True, description="The agency seal is on signed_file")
    response_for: list[str] = Field(
        default_factory=list,
        description="Senders' DocumentIds of the incoming documents it answers (edXML ResponseFor)",
    )
    reviewer_ids: list[str] = Field(
        default_factory=list, description="The reviewers of its chain: they hold it if it is secret"
    )


class DraftIssued(BaseModel):
    draft_id: str
    agency_code: AgencyCode
    document_id: str
    symbol: str
    issued_at: datetime


class DraftSigningFailed(BaseModel):
    draft_id: str
    agency_code: AgencyCode
    code: str
    message: str = ""
    failed_at: datetime


DRAFT_CREATED = event("routing.draft.created", DraftCreated, "A specialist created an outgoing draft")
DRAFT_SUBMITTED = event("routing.draft.submitted", DraftSubmitted, "A draft was submitted up its review chain")
DRAFT_REVIEWED = event("routing.draft.reviewed", DraftReviewed, "A reviewer approved or forwarded a draft")
DRAFT_APPROVED = event("routing.draft.approved", DraftApproved, "The signer approved a draft for signature")
DRAFT_RETURNED = event("routing.draft.returned", DraftReturned, "A reviewer returned a draft with comments")
DRAFT_SIGNED = event(
    "routing.draft.signed", DraftSigned, "The signer's signature and the agency seal are on the draft; issue it"
)
DRAFT_SIGNING_FAILED = event(
    "routing.draft.signing_failed", DraftSigningFailed, "Signing the draft failed; it waits for a retry"
)
DRAFT_ISSUED = event("routing.draft.issued", DraftIssued, "The registry issued the draft (number and symbol)")


# -- opinion rounds (xin ý kiến) -----------------------------------------------------------


class OpinionRequested(BaseModel):
    round_id: str
    draft_id: str
    agency_code: AgencyCode
    requested_by: str
    question: str = Field(max_length=2000)
    due_date: date
    participants: list[AssigneeOut] = Field(description="role is INFO for every participant")
    requested_at: datetime


class OpinionAnswered(BaseModel):
    round_id: str
    draft_id: str
    agency_code: AgencyCode
    participant_kind: AssigneeKind
    participant_id: str
    answered_by: str
    opinion: str = Field(max_length=4000)
    answered_at: datetime


OPINION_REQUESTED = event("routing.opinion.requested", OpinionRequested, "Opinions were asked on a draft")
OPINION_ANSWERED = event("routing.opinion.answered", OpinionAnswered, "A participant gave an opinion")


# -- delegation (ủy quyền) -----------------------------------------------------------------


class DelegationScope(StrEnum):
    ALL = "all"
    HANDLING = "handling"
    DRAFTS = "drafts"
    TASKS = "tasks"


class DelegationGranted(BaseModel):
    delegation_id: str
    agency_code: AgencyCode
    delegator_id: str
    delegate_id: str
    scopes: list[DelegationScope]
    valid_from: datetime
    valid_until: datetime
    note: str = ""


class DelegationEnded(BaseModel):
    delegation_id: str
    agency_code: AgencyCode
    delegator_id: str
    delegate_id: str
    reason: str = Field(description="expired | revoked")
    ended_at: datetime


DELEGATION_GRANTED = event("routing.delegation.granted", DelegationGranted, "A user delegated their role")
DELEGATION_ENDED = event("routing.delegation.ended", DelegationEnded, "A delegation expired or was revoked")


# -- tasks (theo dõi nhiệm vụ) ---------------------------------------------------------------


class TaskState(StrEnum):
    NOT_STARTED = "chua_thuc_hien"
    IN_PROGRESS = "dang_thuc_hien"
    AWAITING_CONFIRMATION = "cho_xac_nhan"
    DONE = "hoan_thanh"
    PAUSED = "tam_dung"
    CANCELLED = "huy"


class TaskFacts(BaseModel):
    task_id: str
    agency_code: AgencyCode
    parent_task_id: str | None = None
    title: str = Field(max_length=500)
    owner_unit_id: str
    assignee_id: str | None = Field(None, description="A person inside the owner unit, if named")
    assigned_by: str
    source_document_id: str | None = None
    deadline: date | None = None
    expected_result: str = ""
    state: TaskState
    overdue: bool = Field(description="quá hạn now (or when it was completed)")


class TaskChanged(TaskFacts):
    at: datetime
    note: str = ""
    percent: int | None = None


TASK_CREATED = event("routing.task.created", TaskChanged, "A task was created (from a document or on its own)")
TASK_ASSIGNED = event("routing.task.assigned", TaskChanged, "A task was re-assigned down to a unit or person")
TASK_REPORTED = event("routing.task.reported", TaskChanged, "Progress on a task was reported")
TASK_SUBMITTED = event("routing.task.submitted", TaskChanged, "A task was reported done; it awaits confirmation")
TASK_CONFIRMED = event("routing.task.confirmed", TaskChanged, "The assigner confirmed a task done")
TASK_REOPENED = event("routing.task.reopened", TaskChanged, "The assigner refused the confirmation")
TASK_PAUSED = event("routing.task.paused", TaskChanged, "A task was paused")
TASK_RESUMED = event("routing.task.resumed", TaskChanged, "A paused task was resumed")
TASK_CANCELLED = event("routing.task.cancelled", TaskChanged, "A task was cancelled")


# -- notifications --------------------------------------------------------------------------


class NotificationKind(StrEnum):
    ASSIGNED = "assigned"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    URGED = "urged"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_DECIDED = "extension_decided"
    REVIEW_REQUESTED = "review_requested"
    DRAFT_RETURNED = "draft_returned"
    DRAFT_SIGNED = "draft_signed"
    DRAFT_ISSUED = "draft_issued"
    SIGNING_FAILED = "signing_failed"
    OPINION_REQUESTED = "opinion_requested"
    OPINION_ANSWERED = "opinion_answered"
    DELEGATION = "delegation"
    TASK = "task"
    WAITING_ASSIGNMENT = "waiting_assignment"


class NotificationCreated(BaseModel):
    notification_id: str
    agency_code: AgencyCode
    user_id: str
    kind: NotificationKind
    title_vi: str
    title_en: str
    ref_type: str = Field(description="handling | assignment | draft | opinion | task | delegation")
    ref_id: str
    created_at: datetime


NOTIFICATION_CREATED = event(
    "routing.notification.created", NotificationCreated, "A notification was stored in a user's in-app list"
)


# -- what routing consumes -------------------------------------------------------------------

DIRECTORY_CONSUMER = register_consumer(
    ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable="routing_directory",
        service="routing",
        filter_subjects=(
            event_subject("registry.agency.upserted"),
            event_subject("registry.unit.upserted"),
            event_subject("registry.user.upserted"),
        ),
        description="Local projection of agencies, units and users (who may act, who leads which unit)",
    )
)
DOCUMENTS_CONSUMER = register_consumer(
    ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable="routing_documents",
        service="routing",
        filter_subjects=(
            *document_event_subjects("registry.document.registered"),
            event_subject("registry.document.returned"),
            *document_event_subjects("registry.document.issued"),
            event_subject("registry.document.secret_granted"),
        ),
        description="Registered documents open a handling; returned ones are refused (02); issued drafts close; "
        "secret grants say who sees a secret handling",
    )
)
SIGNING_CONSUMER = register_consumer(
    ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable="routing_signing",
        service="routing",
        filter_subjects=(
            event_subject("signing.document.signed"),
            event_subject("signing.document.failed"),
        ),
        description="Signatures requested for drafts: signed moves the draft on to issuing, failed reports it",
    )
)


# -- error codes -----------------------------------------------------------------------------

UNKNOWN_HANDLING = define(
    "routing.handling_not_found", 404, "Không tìm thấy hồ sơ xử lý văn bản.", "The handling was not found."
)
UNKNOWN_ASSIGNMENT = define(
    "routing.assignment_not_found", 404, "Không tìm thấy phân công xử lý.", "The assignment was not found."
)
UNKNOWN_ASSIGNEE = define(
    "routing.unknown_assignee",
    422,
    "Người hoặc đơn vị được giao không tồn tại hoặc đã ngừng hoạt động.",
    "The assignee (user or unit) does not exist or is inactive.",
)
OUTSIDE_AGENCY = define(
    "routing.outside_agency",
    422,
    "Không thể giao xử lý cho người hoặc đơn vị ngoài cơ quan.",
    "Cannot assign to a user or unit outside the agency.",
)
OUTSIDE_UNIT = define(
    "routing.outside_unit",
    422,
    "Chỉ được giao lại cho người hoặc đơn vị trong đơn vị mình.",
    "Re-assignment must stay inside the assignee's own unit.",
)
NOT_YOURS = define(
    "routing.not_yours",
    403,
    "Bạn không phải là người được giao hoặc người giao việc này.",
    "This is not assigned to you, nor assigned by you.",
)
SECRET_NOT_GRANTED = define(
    "routing.secret_not_granted",
    403,
    "Văn bản mật: bạn chưa được cấp quyền xem văn bản này; đề nghị văn thư cấp quyền trước khi phân công.",
    "Secret document: you have not been given access to it; ask the văn thư for a grant before assigning it.",
)
NOT_A_LEADER = define(
    "routing.not_a_leader",
    403,
    "Chỉ lãnh đạo cơ quan mới được phân công văn bản đến.",
    "Only the agency's leaders can assign incoming documents.",
)
MAIN_HANDLER_REQUIRED = define(
    "routing.main_handler_required",
    422,
    "Phải có đúng một đơn vị hoặc người xử lý chính.",
    "Exactly one main handler (xử lý chính) is required.",
)
MAIN_HANDLER_EXISTS = define(
    "routing.main_handler_exists",
    409,
    "Đã có người xử lý chính; hãy thu hồi trước khi giao người khác.",
    "A main handler is already assigned; withdraw it before assigning another.",
)
DUPLICATE_ASSIGNEE = define(
    "routing.duplicate_assignee",
    422,
    "Một người hoặc đơn vị chỉ được giao một vai trò.",
    "Each user or unit can be given only one role.",
)
ROLE_NOT_ALLOWED = define(
    "routing.role_not_allowed",
    422,
    "Vai trò này không được giao lại từ vai trò hiện tại.",
    "That role cannot be given from the current role.",
)
TRANSITION_NOT_ALLOWED = define(
    "routing.transition_not_allowed",
    409,
    "Không thể thực hiện thao tác này ở trạng thái hiện tại ({state}).",
    "This action is not allowed in the current state ({state}).",
)
DEADLINE_IN_PAST = define(
    "routing.deadline_in_past", 422, "Hạn xử lý không được ở quá khứ.", "The deadline cannot be in the past."
)
DEADLINE_AFTER_PARENT = define(
    "routing.deadline_after_parent",
    422,
    "Hạn xử lý không được muộn hơn hạn của người giao.",
    "The deadline cannot be later than the assigner's own deadline.",
)
HANDLING_CLOSED = define(
    "routing.handling_closed",
    409,
    "Văn bản đã hoàn thành hoặc đã bị từ chối.",
    "The document's handling is already completed or refused.",
)
REASON_REQUIRED = define(
    "routing.reason_required", 422, "Cần nêu lý do.", "A reason is required."
)
EXTENSION_PENDING = define(
    "routing.extension_pending",
    409,
    "Đã có đề nghị gia hạn đang chờ duyệt.",
    "An extension request is already waiting for a decision.",
)
NO_EXTENSION_PENDING = define(
    "routing.no_extension_pending",
    409,
    "Không có đề nghị gia hạn nào đang chờ duyệt.",
    "No extension request is waiting for a decision.",
)
EXTENSION_NOT_LATER = define(
    "routing.extension_not_later",
    422,
    "Hạn mới phải muộn hơn hạn hiện tại.",
    "The new deadline must be later than the current one.",
)
UNKNOWN_DRAFT = define("routing.draft_not_found", 404, "Không tìm thấy dự thảo.", "The draft was not found.")
DRAFT_NOT_EDITABLE = define(
    "routing.draft_not_editable",
    409,
    "Dự thảo đang trình duyệt hoặc đã ban hành, không sửa được.",
    "The draft is under review or issued and cannot be edited.",
)
ALREADY_SUBMITTED = define(
    "routing.already_submitted",
    409,
    "Dự thảo đã được trình; không trình lại được.",
    "The draft has already been submitted.",
)
CHAIN_REQUIRED = define(
    "routing.review_chain_required",
    422,
    "Cần ít nhất một người duyệt (người ký ở cuối).",
    "A review chain needs at least one reviewer (the signer last).",
)
CHAIN_INVALID = define(
    "routing.review_chain_invalid",
    422,
    "Người duyệt không hợp lệ (không thuộc cơ quan, trùng lặp hoặc chính người soạn thảo).",
    "A reviewer is invalid (outside the agency, repeated, or the drafter).",
)
UNKNOWN_TEMPLATE = define(
    "routing.chain_template_not_found",
    404,
    "Không tìm thấy quy trình trình duyệt mẫu.",
    "The review chain template was not found.",
)
NOT_YOUR_TURN = define(
    "routing.not_your_turn",
    403,
    "Dự thảo không ở bước duyệt của bạn.",
    "The draft is not waiting for your review.",
)
FILE_REQUIRED = define(
    "routing.file_required",
    422,
    "Dự thảo cần có tệp văn bản chính trước khi trình.",
    "The draft needs a main file before it is submitted.",
)
UNKNOWN_FILE = define(
    "routing.file_not_found", 404, "Không tìm thấy tệp của dự thảo.", "The draft file was not found."
)
UNKNOWN_ROUND = define(
    "routing.opinion_round_not_found", 404, "Không tìm thấy đợt xin ý kiến.", "The opinion round was not found."
)
NOT_A_PARTICIPANT = define(
    "routing.not_a_participant",
    403,
    "Bạn không được xin ý kiến trong đợt này.",
    "You are not asked for an opinion in this round.",
)
ALREADY_ANSWERED = define(
    "routing.already_answered",
    409,
    "Đã cho ý kiến trong đợt này.",
    "An opinion was already given in this round.",
)
ROUND_CLOSED = define(
    "routing.opinion_round_closed", 409, "Đợt xin ý kiến đã đóng.", "The opinion round is closed."
)
DELEGATION_INVALID = define(
    "routing.delegation_invalid",
    422,
    "Ủy quyền không hợp lệ (cho chính mình, ngoài cơ quan hoặc thời gian sai).",
    "The delegation is invalid (to oneself, outside the agency, or a wrong period).",
)
NO_DELEGATION = define(
    "routing.no_delegation",
    403,
    "Bạn không được ủy quyền để làm thay người này vào lúc này.",
    "You hold no delegation to act for this user now.",
)
UNKNOWN_DELEGATION = define(
    "routing.delegation_not_found", 404, "Không tìm thấy ủy quyền.", "The delegation was not found."
)
UNKNOWN_TASK = define("routing.task_not_found", 404, "Không tìm thấy nhiệm vụ.", "The task was not found.")
UNKNOWN_NOTIFICATION = define(
    "routing.notification_not_found", 404, "Không tìm thấy thông báo.", "The notification was not found."
)
CALENDAR_INVALID = define(
    "routing.calendar_invalid",
    422,
    "Tệp lịch ngày nghỉ không hợp lệ.",
    "The holiday calendar file is invalid.",
)
