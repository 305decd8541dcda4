"""Phụ lục VI input metadata: the decree's field names, types and lengths, and their checks.

Parts I (outgoing) and II (incoming) share fields 1–11; the checks here are
pure and report every violation at once, each as (rule, field), so the API can
answer one 422 that lists them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from vanthu_contracts.events.common import AGENCY_CODE_PATTERN, Secrecy, Urgency

AGENCY_CODE_RE = re.compile(AGENCY_CODE_PATTERN)
# Số của văn bản (CodeNumber, String 11): digits, optionally with a VBQPPL year part (30/2020).
CODE_NUMBER_RE = re.compile(r"^\d{1,11}$|^\d{1,5}/\d{4}$")

# (Phụ lục VI name, max length) of the string fields.
LENGTHS: dict[str, int] = {
    "type_name": 100,  # TypeName
    "code_number": 11,  # CodeNumber
    "code_notation": 30,  # CodeNotation
    "organ_id": 13,  # OrganId
    "organ_name": 200,  # OrganName
    "subject": 500,  # Subject
    "language": 30,  # Language
    "description": 500,  # Description
    "signer_position": 100,  # SignerInfo/Position
    "signer_name": 50,  # SignerInfo/FullName
    "to_places": 1000,  # ToPlaces
}
MAX_PAGE_AMOUNT = 999  # PageAmount Number(3)
MAX_ISSUED_AMOUNT = 999  # IssuedAmount Number(3)

# edXML / Phụ lục VI "Priority" is one digit. ND30 gives no codes [R]; we use edXML's
# urgency codes and keep secrecy in its own field (it never travels on the axis).
URGENCY_PRIORITY: dict[Urgency, int] = {
    Urgency.NORMAL: 0,
    Urgency.URGENT: 1,
    Urgency.VERY_URGENT: 2,
    Urgency.FLASH: 3,
}


@dataclass(frozen=True)
class Violation:
    rule: str
    field: str


@dataclass
class Recipient:
    organ_id: str = ""
    organ_name: str = ""


@dataclass
class DocumentMetadata:
    """Fields 3–16 of Phụ lục VI parts I/II that a person (or the sender) supplies."""

    type_code: str
    subject: str
    code_number: str | None = None
    code_notation: str | None = None
    issued_date: date | None = None
    organ_id: str | None = None
    organ_name: str = ""
    language: str = "Tiếng Việt"
    page_amount: int | None = None
    description: str = ""
    signer_position: str = ""
    signer_name: str = ""
    urgency: Urgency = Urgency.NORMAL
    secrecy: Secrecy = Secrecy.NORMAL
    to_places: str = ""
    due_date: date | None = None
    recipients: list[Recipient] = field(default_factory=list)
    issued_amount: int | None = None


def check(meta: DocumentMetadata, *, today: date, type_known: bool, incoming: bool) -> list[Violation]:
    """Every way `meta` breaks the decree's rules; empty when it is fine."""
    found: list[Violation] = []
    if not type_known:
        found.append(Violation("unknown_document_type", "type"))
    if not meta.subject or not meta.subject.strip():
        found.append(Violation("subject_required", "subject"))
    for name, limit in LENGTHS.items():
        value = getattr(meta, name, None) if name != "type_name" else None
        if isinstance(value, str) and len(value) > limit:
            found.append(Violation("field_too_long", name))
    if meta.code_number is not None and not CODE_NUMBER_RE.match(meta.code_number):
        found.append(Violation("code_number_invalid", "code_number"))
    if meta.code_notation is not None and (" " in meta.code_notation or not meta.code_notation.strip()):
        found.append(Violation("code_notation_invalid", "code_notation"))
    if meta.organ_id and not AGENCY_CODE_RE.match(meta.organ_id):
        found.append(Violation("agency_code_invalid", "organ_id"))
    if meta.issued_date is not None and meta.issued_date > today:
        found.append(Violation("future_date", "issued_date"))
    if meta.page_amount is not None and not 1 <= meta.page_amount <= MAX_PAGE_AMOUNT:
        found.append(Violation("number_out_of_range", "page_amount"))
    if meta.issued_amount is not None and not 1 <= meta.issued_amount <= MAX_ISSUED_AMOUNT:
        found.append(Violation("number_out_of_range", "issued_amount"))
    if meta.due_date is not None and meta.issued_date is not None and meta.due_date < meta.issued_date:
        found.append(Violation("due_before_issue", "due_date"))
    for i, recipient in enumerate(meta.recipients):
        if recipient.organ_id and not AGENCY_CODE_RE.match(recipient.organ_id):
            found.append(Violation("agency_code_invalid", f"recipients[{i}].organ_id"))
        if len(recipient.organ_name) > LENGTHS["organ_name"]:
            found.append(Violation("field_too_long", f"recipients[{i}].organ_name"))
        if not recipient.organ_id and not recipient.organ_name.strip():
            found.append(Violation("recipient_empty", f"recipients[{i}]"))
    if incoming:
        # An incoming document always names who issued it (Tên cơ quan ban hành).
        if not (meta.organ_name or "").strip() and not meta.organ_id:
            found.append(Violation("issuer_required", "organ_name"))
    return found


def is_duplicate_key(a: tuple[str | None, str | None, str | None], b: tuple[str | None, str | None, str | None]) -> bool:
    """Phụ lục VI III.1.h: same (số, ký hiệu, issuing agency) means a probable duplicate."""
    return all(x is not None and x != "" for x in a) and a == b
