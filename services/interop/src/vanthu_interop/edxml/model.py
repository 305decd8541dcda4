"""The edXML packets as plain data: what the builder writes and the parser reads back.

Field names follow the normalized JSON of `vanthu edxml parse --json` (snake case of the
edXML element names). `None` means the element is absent; the builder leaves it out, as
the VNPT library does for a null value, and writes an empty element for "".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"

BUSINESS_REASONS = {
    0: "Văn bản điện tử mới",
    1: "Thu hồi văn bản điện tử",
    2: "Cập nhật văn bản điện tử",
    3: "Văn bản thay thế",
}


@dataclass
class Organ:
    organ_id: str | None = None
    organ_name: str | None = None
    organization_in_charge: str | None = None
    organ_add: str | None = None
    email: str | None = None
    telephone: str | None = None
    fax: str | None = None
    website: str | None = None


@dataclass
class ResponseFor:
    organ_id: str | None = None
    code: str | None = None
    promulgation_date: date | None = None
    document_id: str | None = None


@dataclass
class StaffInfo:
    department: str | None = None
    staff: str | None = None
    mobile: str | None = None
    email: str | None = None


@dataclass
class Receiver:
    organ_id: str | None = None
    receiver_type: int | None = None


@dataclass
class Replacement:
    document_id: str | None = None
    organ_ids: list[str] = field(default_factory=list)


@dataclass
class Business:
    doc_type: int = 0
    reason: str | None = None
    paper: int | None = None
    document_id: str | None = None
    document_info: int | None = None
    document_receiver: int | None = None
    receivers: list[Receiver] = field(default_factory=list)
    replacements: list[Replacement] = field(default_factory=list)
    staff: StaffInfo | None = None


@dataclass
class Trace:
    organ_id: str | None = None
    timestamp: datetime | None = None


@dataclass
class OtherInfo:
    priority: int | None = None
    sphere_of_promulgation: str | None = None
    typer_notation: str | None = None
    promulgation_amount: int | None = None
    page_amount: int | None = None
    direction: bool | None = None
    appendixes: list[str] = field(default_factory=list)


@dataclass
class Attachment:
    """One file. For building, `path` is the file to embed, or `data` its bytes (a small file
    already in memory); after parsing, `path` is a temporary file holding the decoded (and
    unzipped) bytes, owned by the parse result."""

    name: str
    content_type: str | None = None
    content_id: str | None = None  # without "cid:"
    description: str | None = None
    path: Path | None = None
    size: int | None = None
    sha256: str | None = None
    zipped: bool | None = None  # after parsing: whether it arrived ZIP-wrapped
    data: bytes | None = field(default=None, repr=False)  # for building, instead of `path`

    @property
    def content(self) -> Path | bytes | None:
        """What to embed: the bytes when given, else the file."""
        return self.data if self.data is not None else self.path


@dataclass
class EdocPacket:
    """A document packet (messagetype edoc): new, revoke, update or replace."""

    from_: Organ = field(default_factory=Organ)
    to: list[Organ] = field(default_factory=list)
    document_id: str | None = None
    code_number: str | None = None
    code_notation: str | None = None
    promulgation_place: str | None = None
    promulgation_date: date | None = None
    type: int | None = None
    type_detail: int | None = None
    type_name: str | None = None
    subject: str | None = None
    content: str | None = None
    signer_competence: str | None = None
    signer_position: str | None = None
    signer_full_name: str | None = None
    due_date: date | None = None
    other: OtherInfo = field(default_factory=OtherInfo)
    response_for: list[ResponseFor] = field(default_factory=list)
    steering_type: int | None = None
    to_places: list[str] = field(default_factory=list)
    trace: list[Trace] = field(default_factory=list)
    business: Business | None = None
    attachments: list[Attachment] = field(default_factory=list)

    kind = "edoc"

    @property
    def business_doc_type(self) -> int:
        return self.business.doc_type if self.business is not None else 0

    @property
    def symbol(self) -> str:
        """Số/ký hiệu as printed, e.g. 7816/VPCP-TTĐT."""
        number, notation = self.code_number or "", self.code_notation or ""
        return f"{number}/{notation}" if number and notation else number or notation


@dataclass
class StatusPacket:
    """A status packet (messagetype status): feedback about a document sent earlier."""

    from_: Organ = field(default_factory=Organ)
    response_for: ResponseFor = field(default_factory=ResponseFor)
    staff: StaffInfo | None = None
    status_code: str | None = None  # two digits once parsed
    description: str | None = None
    timestamp: datetime | None = None

    kind = "status"


Packet = EdocPacket | StatusPacket
