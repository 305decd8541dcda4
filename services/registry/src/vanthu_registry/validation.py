"""Turns domain rule violations into one coded 422 that lists them all."""

from __future__ import annotations

from datetime import date

from vanthu_contracts.events import registry as contract
from vanthu_registry.domain.doctypes import DocumentType, UnknownDocumentType, document_type
from vanthu_registry.domain.metadata import DocumentMetadata, Violation, check
from vanthu_runtime.errors import AppError

CODES = {
    "unknown_document_type": contract.UNKNOWN_DOCUMENT_TYPE,
    "subject_required": contract.SUBJECT_REQUIRED,
    "field_too_long": contract.FIELD_TOO_LONG,
    "code_number_invalid": contract.CODE_NUMBER_INVALID,
    "code_notation_invalid": contract.CODE_NOTATION_INVALID,
    "agency_code_invalid": contract.AGENCY_CODE_INVALID,
    "future_date": contract.FUTURE_DATE,
    "number_out_of_range": contract.NUMBER_OUT_OF_RANGE,
    "due_before_issue": contract.DUE_BEFORE_ISSUE,
    "recipient_empty": contract.RECIPIENT_EMPTY,
    "issuer_required": contract.ISSUER_REQUIRED,
    "file_notation_invalid": contract.FILE_NOTATION_INVALID,
    "title_required": contract.TITLE_REQUIRED,
}


def raise_violations(violations: list[Violation] | list[tuple[str, str]]) -> None:
    pairs = [(v.rule, v.field) if isinstance(v, Violation) else v for v in violations]
    if not pairs:
        return
    rule, _ = pairs[0]
    raise AppError(CODES[rule], {"errors": [{"rule": r, "field": f} for r, f in pairs]})


def checked(meta: DocumentMetadata, *, today: date, incoming: bool) -> DocumentType:
    """The document's type, once every field passes the decree's checks."""
    try:
        doc_type: DocumentType | None = document_type(meta.type_code)
    except UnknownDocumentType:
        doc_type = None
    raise_violations(check(meta, today=today, type_known=doc_type is not None, incoming=incoming))
    assert doc_type is not None
    return doc_type
