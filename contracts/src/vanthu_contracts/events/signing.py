"""Contracts of the signing service: the sign job, its outcome events, validation, error codes.

How routing (or any producer) asks for a signature:

1. Put the PDF in object storage (content addressed: its key is its SHA-256).
2. Publish a `signing.sign` job (subject `vanthu.job.signing.sign`, stream VANTHU_JOBS_SIGNING)
   in an `Envelope` whose `payload` is a `SignDocument`, with `Nats-Msg-Id` = envelope id.
   `job_id` is the idempotency key: the same `job_id` never yields a second signature, however
   often the job is delivered or re-published. Use a new `job_id` to ask again after a failure.
3. Wait for `signing.document.signed` (the signed PDF is a new object, `signed.sha256`) or
   `signing.document.failed` (a stable `code`, messages in Vietnamese and English), both
   carrying the `job_id` and the envelope's `correlation_id` of the job.

An outgoing document is signed twice, in order (Decree 30 Art. 13-14, 32): `kind=personal` by the
competent person (their token, through the token agent, or an HSM key), then `kind=seal` by the
văn thư with the agency key, on the PDF the first job produced. Attachments in separate files and
electronic copies get one agency signature each (`kind=attachment` / `kind=copy`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vanthu_contracts.errors import define
from vanthu_contracts.events.common import AgencyCode
from vanthu_contracts.spec import event, job, rpc
from vanthu_contracts.streams import ConsumerSpec, register_consumer
from vanthu_contracts.subjects import job_subject

SHA256_PATTERN = r"^[0-9a-f]{64}$"
JOB_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$"


class SignatureKind(StrEnum):
    """Which signature of Decree 30 this is; it decides the key and the appearance."""

    PERSONAL = "personal"  # người có thẩm quyền: blue signature image between title and name
    SEAL = "seal"  # cơ quan, on the main document: red seal over the left third of the signature
    ATTACHMENT = "attachment"  # cơ quan, on an attachment in its own file: text at the top right
    COPY = "copy"  # cơ quan, on an electronic copy (sao y / sao lục / trích sao): text at the top right


class PadesLevel(StrEnum):
    """PAdES baseline level (ETSI EN 319 142-1)."""

    B_B = "B-B"  # signature only
    B_T = "B-T"  # + RFC 3161 timestamp from the configured TSA
    B_LT = "B-LT"  # + certificates and revocation data (OCSP/CRL) embedded


class CopyType(StrEnum):
    """Hình thức bản sao (Decree 30 Art. 25)."""

    SAO_Y = "sao_y"
    SAO_LUC = "sao_luc"
    TRICH_SAO = "trich_sao"


COPY_TYPE_LABELS: dict[CopyType, str] = {
    CopyType.SAO_Y: "SAO Y",
    CopyType.SAO_LUC: "SAO LỤC",
    CopyType.TRICH_SAO: "TRÍCH SAO",
}


class FileToSign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(
        pattern=SHA256_PATTERN, description="Key of the PDF in object storage; checked on read"
    )
    name: str = Field(
        "document.pdf", min_length=1, max_length=255, description="File name for the signed version"
    )
    size: int | None = Field(None, ge=0, description="Expected size in bytes, if known")


class SignerRef(BaseModel):
    """Whose key signs. Personal: the competent person (`user_id`). Agency kinds: the agency's
    seal profile, found by the job's `agency_code`. `profile_id` overrides both."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(None, max_length=100, description="Người ký (personal signatures)")
    profile_id: str | None = Field(None, max_length=100, description="An explicit signer profile")


class Placement(BaseModel):
    """Where the personal signature image goes: at an anchor text, or in an explicit box."""

    model_config = ConfigDict(extra="forbid")

    anchor_text: str | None = Field(
        None,
        max_length=100,
        description="Placeholder text the drafter left between the title line and the name; "
        "None = the service's configured anchor",
    )
    page: int | None = Field(None, ge=1, description="1-based page of an explicit box")
    box: tuple[float, float, float, float] | None = Field(
        None, description="Explicit box (x1, y1, x2, y2) in PDF points, origin at the bottom left"
    )

    @model_validator(mode="after")
    def _box_needs_page(self) -> Placement:
        if (self.box is None) != (self.page is None):
            raise ValueError("give page and box together")
        if self.box is not None and not (self.box[0] < self.box[2] and self.box[1] < self.box[3]):
            raise ValueError("box must be (x1, y1, x2, y2) with x1 < x2 and y1 < y2")
        return self


class Appearance(BaseModel):
    """What the visible signature shows (Decree 30 Phụ lục I §II.7-8, §III)."""

    model_config = ConfigDict(extra="forbid")

    position_title: str = Field(
        "",
        max_length=200,
        description="Quyền hạn, chức vụ, e.g. 'KT. CHỦ TỊCH\\nPHÓ CHỦ TỊCH' (shown to the signer)",
    )
    full_name: str = Field("", max_length=50, description="Họ và tên người ký (shown to the signer)")
    agency_name: str = Field(
        "", max_length=200, description="Tên cơ quan: seal text and copy text; default from the profile"
    )
    main_document_symbol: str | None = Field(
        None, max_length=50, description="Số, ký hiệu of the main document (attachments), e.g. 45/UBND-VP"
    )
    copy_type: CopyType | None = Field(None, description="Copies: sao y, sao lục or trích sao")
    copy_symbol: str | None = Field(
        None, max_length=50, description="Copies: the copy's own number, e.g. 12/SY-UBND"
    )
    placement: Placement = Field(default_factory=Placement, description="Personal signatures only")


class SignDocument(BaseModel):
    """Payload of the `signing.sign` job."""

    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(
        pattern=JOB_ID_PATTERN,
        description="Idempotency key chosen by the producer, e.g. '<draft id>:personal:<version>'. "
        "One job id never produces more than one signature.",
    )
    agency_code: AgencyCode = Field(description="Agency on whose behalf the document is signed")
    kind: SignatureKind
    file: FileToSign
    signer: SignerRef = Field(default_factory=SignerRef)
    appearance: Appearance = Field(default_factory=Appearance)
    document_id: str | None = Field(None, max_length=100, description="Registry document id, if any")
    draft_id: str | None = Field(None, max_length=100, description="Routing draft id, if any")
    document_number: str | None = Field(None, max_length=50, description="Số, ký hiệu shown to the signer")
    subject: str = Field("", max_length=500, description="Trích yếu shown to the signer")
    reason: str = Field("", max_length=200, description="Reason written in the signature")
    location: str = Field("", max_length=200)
    level: PadesLevel | None = Field(None, description="None = the service's configured level")
    requested_by: str | None = Field(None, max_length=100, description="User id who asked (audit)")

    @model_validator(mode="after")
    def _kind_needs(self) -> SignDocument:
        if self.kind is SignatureKind.PERSONAL and not (self.signer.user_id or self.signer.profile_id):
            raise ValueError("a personal signature needs signer.user_id or signer.profile_id")
        if self.kind is SignatureKind.ATTACHMENT and not self.appearance.main_document_symbol:
            raise ValueError("an attachment signature needs appearance.main_document_symbol")
        if self.kind is SignatureKind.COPY and self.appearance.copy_type is None:
            raise ValueError("a copy signature needs appearance.copy_type")
        return self


class SignedFile(BaseModel):
    sha256: str = Field(pattern=SHA256_PATTERN)
    size: int = Field(ge=0)
    name: str
    content_type: str = "application/pdf"


class CertificateSummary(BaseModel):
    subject: str = Field(description="RFC 4514 subject")
    common_name: str = ""
    issuer: str = Field(description="RFC 4514 issuer")
    serial_hex: str
    not_before: datetime
    not_after: datetime
    sha256: str = Field(description="SHA-256 of the DER certificate")


class DocumentSigned(BaseModel):
    """`signing.document.signed`: the signed PDF is stored as a new object."""

    job_id: str
    agency_code: AgencyCode
    kind: SignatureKind
    document_id: str | None = None
    draft_id: str | None = None
    source_sha256: str = Field(pattern=SHA256_PATTERN)
    signed: SignedFile
    level: PadesLevel
    field_name: str = Field(description="Name of the signature field in the PDF")
    signer: CertificateSummary
    profile_id: str
    signed_at: datetime = Field(description="Signing time (the timestamp's, for B-T and above)")
    timestamped: bool = False
    worker: str = Field("", description="Signing worker instance (operations)")


class DocumentSigningFailed(BaseModel):
    """`signing.document.failed`: nothing was stored; `code` says why (see error codes signing.*)."""

    job_id: str
    agency_code: AgencyCode
    kind: SignatureKind
    document_id: str | None = None
    draft_id: str | None = None
    source_sha256: str
    code: str
    message_vi: str
    message_en: str
    details: dict[str, Any] = Field(default_factory=dict)
    attempts: int = Field(1, ge=1, description="Deliveries used")
    failed_at: datetime


SIGN = job("signing", "sign", SignDocument, "Sign one PDF (personal, seal, attachment or copy signature)")
DOCUMENT_SIGNED = event("signing.document.signed", DocumentSigned, "A PDF was signed and stored")
DOCUMENT_FAILED = event(
    "signing.document.failed", DocumentSigningFailed, "A sign job failed for good (stable code and reason)"
)

SIGN_CONSUMER = register_consumer(
    ConsumerSpec(
        stream="VANTHU_JOBS_SIGNING",
        durable="signing_sign",
        service="signing",
        filter_subjects=(job_subject("signing", "sign"),),
        # Workers report progress (in_progress) while a person answers on their token, so the
        # ack wait only has to cover one heartbeat interval.
        ack_wait_s=60.0,
        max_deliver=5,
        backoff_s=(2.0, 10.0, 30.0, 60.0),
        max_ack_pending=1000,
        description="Sign jobs shared by every signing worker (one durable, pull)",
    )
)


# -- validation ------------------------------------------------------------------------


class Verdict(StrEnum):
    """Overall result, after ETSI EN 319 102-1: total-passed / failed / indeterminate."""

    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"
    NO_SIGNATURE = "no_signature"


class RevocationStatus(StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class Finding(BaseModel):
    code: str = Field(description="Stable code, e.g. signing.verify.untrusted")
    message_vi: str
    message_en: str


class CertificateReport(CertificateSummary):
    valid_at_signing: bool = Field(description="Signing time inside notBefore..notAfter")
    key_usage: list[str] = Field(default_factory=list)


class SignatureReport(BaseModel):
    field_name: str
    signer: CertificateReport
    signing_time: datetime | None = Field(None, description="Time claimed by the signer (unauthenticated)")
    timestamp_time: datetime | None = Field(None, description="RFC 3161 timestamp, if any")
    timestamp_trusted: bool | None = None
    trusted: bool
    trust_anchor: str | None = Field(None, description="Named trust-anchor slot the path ends at")
    trust_path: list[str] = Field(default_factory=list, description="Subjects from the anchor to the signer")
    revocation: RevocationStatus
    revocation_source: str = Field("", description="embedded | ocsp | crl | none")
    revoked_at: datetime | None = None
    intact: bool = Field(description="Document digest matches")
    signature_valid: bool = Field(description="Cryptographic signature matches the certificate's key")
    coverage: str = Field(description="entire_file | entire_revision | partial")
    modification_level: str = Field(description="none | lta_updates | form_filling | annotations | other")
    later_changes: str = Field(description="What DocMDP allows after this signature")
    pades_level: str = Field("", description="B-B, B-T, B-LT or B-LTA as detected")
    verdict: Verdict
    findings: list[Finding] = Field(default_factory=list)


class ValidationReport(BaseModel):
    file_sha256: str
    file_name: str = ""
    checked_at: datetime
    verdict: Verdict
    signatures: list[SignatureReport] = Field(default_factory=list)
    trust_anchors: list[str] = Field(default_factory=list, description="Slots configured when checked")
    summary_vi: str
    summary_en: str


class VerifyStored(BaseModel):
    """Request of `vanthu.rpc.signing.verify`: validate a PDF already in object storage."""

    sha256: str = Field(pattern=SHA256_PATTERN)
    name: str = ""


class VerifyReply(BaseModel):
    report: ValidationReport | None = None
    error: dict[str, Any] | None = Field(None, description="An ErrorBody when the file could not be read")


VERIFY = rpc(
    "signing",
    "verify",
    VerifyStored,
    VerifyReply,
    "Validate every signature of a stored PDF (interop, registry)",
)


# -- error codes -----------------------------------------------------------------------

JOB_INVALID = define("signing.job_invalid", 422, "Yêu cầu ký số không hợp lệ.", "The sign job is invalid.")
FILE_MISSING = define(
    "signing.file_missing",
    404,
    "Không tìm thấy tệp cần ký trong kho lưu trữ.",
    "The file to sign is not in storage.",
)
HASH_MISMATCH = define(
    "signing.hash_mismatch",
    422,
    "Tệp cần ký không khớp mã băm SHA-256 đã khai báo.",
    "The file to sign does not match its declared SHA-256.",
)
FILE_TOO_LARGE = define(
    "signing.file_too_large",
    413,
    "Tệp cần ký vượt quá dung lượng cho phép ({limit} byte).",
    "The file exceeds the size limit ({limit} bytes).",
)
NOT_PDF = define("signing.not_pdf", 415, "Tệp không phải là tệp PDF.", "The file is not a PDF.")
PDF_BROKEN = define(
    "signing.pdf_broken", 422, "Tệp PDF bị hỏng, không đọc được.", "The PDF is damaged and cannot be read."
)
PDF_ENCRYPTED = define(
    "signing.pdf_encrypted",
    422,
    "Tệp PDF được mã hóa hoặc đặt mật khẩu; không thể ký.",
    "The PDF is encrypted or password protected; it cannot be signed.",
)
PDF_TOO_COMPLEX = define(
    "signing.pdf_too_complex",
    422,
    "Tệp PDF quá lớn hoặc quá phức tạp để ký (quá nhiều trang, hoặc nội dung trang quá lớn để tìm vị trí "
    "đặt chữ ký: hãy chỉ định trang và tọa độ ký).",
    "The PDF is too large or complex to sign (too many pages, or page content too large to search for the "
    "signature placeholder: give the page and box instead).",
)
PROFILE_NOT_FOUND = define(
    "signing.profile_not_found",
    404,
    "Không tìm thấy hồ sơ chữ ký số phù hợp cho người ký hoặc cơ quan.",
    "No signer profile was found for this signer or agency.",
)
PROFILE_INVALID = define(
    "signing.profile_invalid", 422, "Hồ sơ chữ ký số không hợp lệ.", "The signer profile is invalid."
)
PROFILE_KIND_MISMATCH = define(
    "signing.profile_kind_mismatch",
    422,
    "Hồ sơ chữ ký số không dùng được cho loại chữ ký này (cá nhân / cơ quan).",
    "This signer profile cannot make this kind of signature (personal / agency).",
)
PKCS12_IN_PRODUCTION = define(
    "signing.pkcs12_refused",
    422,
    "Khóa dạng tệp PKCS#12 chỉ dùng để thử nghiệm, không được dùng trong môi trường chính thức.",
    "PKCS#12 key files are for development only and are refused in production.",
)
PKCS11_MODULE_NOT_ALLOWED = define(
    "signing.pkcs11_module_not_allowed",
    422,
    "Thư viện PKCS#11 này không nằm trong danh sách được phép (VANTHU_SIGNING_PKCS11_MODULES).",
    "This PKCS#11 library is not on the allowed list (VANTHU_SIGNING_PKCS11_MODULES).",
)
CERTIFICATE_MISSING = define(
    "signing.certificate_missing",
    422,
    "Chưa có chứng thư số của người ký; hãy mở phần mềm ký số (token agent) để đăng ký.",
    "The signer has no registered certificate; start the token agent to register it.",
)
CERTIFICATE_EXPIRED = define(
    "signing.certificate_expired",
    422,
    "Chứng thư số chưa có hiệu lực hoặc đã hết hạn.",
    "The signing certificate is not yet valid or has expired.",
)
CERTIFICATE_KEY_USAGE = define(
    "signing.certificate_key_usage",
    422,
    "Chứng thư số không cho phép ký không thể chối bỏ (non-repudiation).",
    "The certificate does not allow non-repudiation signatures.",
)
WRONG_PIN = define(
    "signing.wrong_pin",
    422,
    "Mã PIN của thiết bị ký số không đúng.",
    "The PIN of the signing device is wrong.",
)
PIN_LOCKED = define(
    "signing.pin_locked", 422, "Thiết bị ký số đã bị khóa mã PIN.", "The signing device's PIN is locked."
)
HSM_UNAVAILABLE = define(
    "signing.hsm_unavailable",
    503,
    "Không kết nối được thiết bị HSM / token ký số.",
    "The HSM or signing token is unavailable.",
)
KEY_NOT_FOUND = define(
    "signing.key_not_found",
    422,
    "Không tìm thấy khóa hoặc chứng thư trên thiết bị ký số.",
    "The key or certificate was not found on the signing device.",
)
TOKEN_TIMEOUT = define(
    "signing.token_timeout",
    504,
    "Người ký không xác nhận trên thiết bị ký số trong thời gian cho phép.",
    "The signer did not answer on their token in time.",
)
TOKEN_DECLINED = define(
    "signing.token_declined", 409, "Người ký đã từ chối ký.", "The signer declined to sign."
)
TOKEN_SIGNATURE_INVALID = define(
    "signing.token_signature_invalid",
    422,
    "Chữ ký do thiết bị ký số trả về không khớp chứng thư số.",
    "The signature returned by the token does not match the certificate.",
)
ANCHOR_NOT_FOUND = define(
    "signing.anchor_not_found",
    422,
    "Không tìm thấy vị trí đặt chữ ký ('{anchor}') trong văn bản.",
    "The signature placeholder ('{anchor}') was not found in the document.",
)
PLACEMENT_INVALID = define(
    "signing.placement_invalid",
    422,
    "Vị trí đặt chữ ký nằm ngoài trang văn bản.",
    "The signature position is outside the page.",
)
IMAGE_MISSING = define(
    "signing.image_missing",
    422,
    "Hồ sơ chữ ký số chưa có ảnh chữ ký / con dấu.",
    "The signer profile has no signature or seal image.",
)
IMAGE_INVALID = define(
    "signing.image_invalid",
    422,
    "Ảnh chữ ký / con dấu phải là tệp PNG nền trong suốt.",
    "The signature or seal image must be a PNG with a transparent background.",
)
NO_PERSONAL_SIGNATURE = define(
    "signing.no_personal_signature",
    422,
    "Chỉ được ký số của cơ quan lên văn bản đã có chữ ký số của người có thẩm quyền.",
    "The agency signature may only be added to a document the competent person has signed.",
)
TSA_UNAVAILABLE = define(
    "signing.tsa_unavailable",
    503,
    "Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian (TSA).",
    "No timestamp could be obtained from the TSA.",
)
REVOCATION_UNAVAILABLE = define(
    "signing.revocation_unavailable",
    503,
    "Không kiểm tra được tình trạng thu hồi của chứng thư số (OCSP/CRL).",
    "The certificate's revocation status (OCSP/CRL) could not be obtained.",
)
CERTIFICATE_REVOKED = define(
    "signing.certificate_revoked",
    422,
    "Chứng thư số của người ký đã bị thu hồi.",
    "The signer's certificate has been revoked.",
)
SIGNING_FAILED = define(
    "signing.failed", 500, "Ký số không thành công do lỗi hệ thống.", "Signing failed on a system error."
)
REQUEST_NOT_FOUND = define(
    "signing.request_not_found",
    404,
    "Không tìm thấy yêu cầu ký hoặc yêu cầu không thuộc về bạn.",
    "The signing request was not found or is not yours.",
)
REQUEST_CLOSED = define(
    "signing.request_closed",
    409,
    "Yêu cầu ký đã được xử lý hoặc đã hết hạn.",
    "The signing request was already answered or has expired.",
)
VERIFY_NO_FILE = define(
    "signing.verify_no_file", 422, "Chưa gửi tệp PDF cần kiểm tra.", "No PDF was sent to verify."
)
