"""Documents and statuses arriving for our agencies, independent of how they came (axis or NATS).

Pure: no I/O. The axis path turns a parsed edXML packet into these; internal delivery builds
them from the sender's issued document directly; both are then imported the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from vanthu_contracts.events.common import Secrecy, Urgency
from vanthu_interop.edxml.model import EdocPacket, Organ, StatusPacket

ORGAN_FIELDS = (
    "organ_id",
    "organ_name",
    "organization_in_charge",
    "organ_add",
    "email",
    "telephone",
    "fax",
    "website",
)

# edXML Priority 0 thường, 1 khẩn, 2 thượng khẩn, 3 hỏa tốc, 4 hỏa tốc hẹn giờ [S/R].
_URGENCY_BY_PRIORITY = {
    0: Urgency.NORMAL,
    1: Urgency.URGENT,
    2: Urgency.VERY_URGENT,
    3: Urgency.FLASH,
    4: Urgency.FLASH,
}
PRIORITY_BY_URGENCY = {Urgency.NORMAL: 0, Urgency.URGENT: 1, Urgency.VERY_URGENT: 2, Urgency.FLASH: 3}


def organ_dict(organ: Organ) -> dict[str, str]:
    return {name: (getattr(organ, name) or "") for name in ORGAN_FIELDS}


@dataclass
class IncomingDocument:
    external_document_id: str
    sender: dict[str, str]  # OrganInfo fields
    recipients: list[tuple[str, str]]  # (organ_id, organ_name) of every To
    business_doc_type: int = 0
    business_reason: str = ""
    paper: int | None = None
    # Update: the document it updates; replace: the documents it replaces.
    related_document_ids: list[str] = field(default_factory=list)
    code_number: str | None = None
    code_notation: str | None = None
    issued_date: date | None = None
    promulgation_place: str = ""
    type_name: str = ""
    subject: str = ""
    content: str = ""
    signer_competence: str = ""
    signer_position: str = ""
    signer_full_name: str = ""
    due_date: date | None = None
    priority: int | None = None
    page_amount: int | None = None
    steering_type: int | None = None
    to_places: list[str] = field(default_factory=list)
    response_for: list[str] = field(default_factory=list)
    file_hashes: list[str] = field(default_factory=list)  # sha256 of each attachment, once stored
    # Delivered inside the province (never over the axis): the sender's registry id, which
    # tells apart two documents sharing a DocumentId (a secret one numbered in its own
    # series), and the secrecy the receiver must keep.
    source_document_id: str | None = None
    secrecy: Secrecy = Secrecy.NORMAL

    @property
    def symbol(self) -> str:
        number, notation = self.code_number or "", self.code_notation or ""
        return f"{number}/{notation}" if number and notation else number or notation

    @property
    def urgency(self) -> Urgency:
        return _URGENCY_BY_PRIORITY.get(self.priority or 0, Urgency.URGENT)


def from_edoc(packet: EdocPacket) -> IncomingDocument:
    business = packet.business
    related: list[str] = []
    if business is not None:
        if business.doc_type == 2 and business.document_id and business.document_id != packet.document_id:
            related.append(business.document_id)
        related += [r.document_id for r in business.replacements if r.document_id]
    return IncomingDocument(
        external_document_id=(packet.document_id or "").strip(),
        sender=organ_dict(packet.from_),
        recipients=[((o.organ_id or "").strip(), o.organ_name or "") for o in packet.to if o.organ_id],
        business_doc_type=packet.business_doc_type,
        business_reason=(business.reason or "") if business else "",
        paper=business.paper if business else None,
        related_document_ids=related,
        code_number=packet.code_number,
        code_notation=packet.code_notation,
        issued_date=packet.promulgation_date,
        promulgation_place=packet.promulgation_place or "",
        type_name=packet.type_name or "",
        subject=packet.subject or "",
        content=packet.content or "",
        signer_competence=packet.signer_competence or "",
        signer_position=packet.signer_position or "",
        signer_full_name=packet.signer_full_name or "",
        due_date=packet.due_date,
        priority=packet.other.priority,
        page_amount=packet.other.page_amount,
        steering_type=packet.steering_type,
        to_places=list(packet.to_places),
        response_for=[r.document_id for r in packet.response_for if r.document_id],
    )


# Identifiers are kept whole (cutting one would merge two documents or misaddress a status),
# so longer ones are refused; these are the sizes of the columns that hold them.
MAX_DOCUMENT_ID = 300
MAX_ORGAN_ID = 40


def _identifier_problems(document_id: str, sender: dict[str, str]) -> list[str]:
    found = []
    if len(document_id) > MAX_DOCUMENT_ID:
        found.append(f"DocumentId longer than {MAX_DOCUMENT_ID} characters")
    if len((sender.get("organ_id") or "").strip()) > MAX_ORGAN_ID:
        found.append(f"From/OrganId longer than {MAX_ORGAN_ID} characters")
    return found


def problems(document: IncomingDocument) -> list[str]:
    """Why a document cannot be registered at all (everything else is accepted leniently)."""
    found = []
    if not document.external_document_id:
        found.append("no DocumentId")
    if not document.sender.get("organ_id"):
        found.append("no From/OrganId")
    if not document.recipients:
        found.append("no To")
    return found + _identifier_problems(document.external_document_id, document.sender)


def status_problems(status: IncomingStatus) -> list[str]:
    """Why a status cannot be recorded at all (an unknown code or document is merely ignored)."""
    return _identifier_problems(status.external_document_id, status.reporter)


def addressed_to_us(document: IncomingDocument, hosted: set[str]) -> list[str]:
    """Our agencies among the recipients, each once (a packet lists every recipient)."""
    seen: list[str] = []
    for code, _ in document.recipients:
        if code in hosted and code not in seen:
            seen.append(code)
    return seen


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()


def receipt_key(agency_code: str, document: IncomingDocument) -> str:
    """One receipt per agency and document. A new document (type 0) is the same document
    whenever its identity is: over the axis its DocumentId (the axis may re-send or
    re-serialise it), inside the province the sender's registry id (the DocumentId of a
    secret document may repeat an ordinary one's). An update or replacement is told apart by
    what it updates and its content."""
    identity = document.external_document_id
    if document.source_document_id is not None:
        identity = f"internal:{document.source_document_id}"
    if document.business_doc_type == 0:
        return _digest(agency_code, identity, 0)
    return _digest(
        agency_code,
        identity,
        document.business_doc_type,
        ",".join(document.related_document_ids),
        document.subject,
        document.issued_date,
        ",".join(document.file_hashes),
    )


def fit(text: str | None, limit: int) -> str:
    """Other systems do not honour our field lengths; keep what fits rather than refuse."""
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class IncomingStatus:
    reporter: dict[str, str]  # OrganInfo of who reports (From)
    external_document_id: str  # ResponseFor/DocumentId
    addressee: str  # ResponseFor/OrganId: who the status is for
    code: str
    description: str = ""
    staff: str = ""
    department: str = ""
    reported_at: datetime | None = None
    symbol: str = ""
    # Inside the province: the issuer's registry id of the document it is about (the
    # DocumentId alone may name an ordinary and a secret document at once).
    document_id: str | None = None

    @property
    def key(self) -> str:
        stamp = self.reported_at.isoformat() if self.reported_at else ""
        parts = [self.external_document_id, self.reporter.get("organ_id"), self.code, stamp, self.description]
        return _digest(*parts, *([self.document_id] if self.document_id else []))


def from_status(packet: StatusPacket) -> IncomingStatus:
    staff = packet.staff
    return IncomingStatus(
        reporter=organ_dict(packet.from_),
        external_document_id=(packet.response_for.document_id or "").strip(),
        addressee=(packet.response_for.organ_id or "").strip(),
        code=packet.status_code or "",
        description=packet.description or "",
        staff=(staff.staff or "") if staff else "",
        department=(staff.department or "") if staff else "",
        reported_at=packet.timestamp,
        symbol=packet.response_for.code or "",
    )
