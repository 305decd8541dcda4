"""Số, ký hiệu and the document id on the axis, exactly as Decree 30 Phụ lục I §II.3 writes them.

    15/QĐ-UBND      a typed document: number / type abbreviation - agency abbreviation
    05/UBND-VP      công văn: number / agency abbreviation - drafting unit abbreviation
    000.00.12.H99,2026/01/15,15/QĐ-UBND   the id on the national axis
"""

from __future__ import annotations

from datetime import date

from vanthu_registry.domain.doctypes import DocumentType


class NumberingRuleBroken(ValueError):
    def __init__(self, rule: str, detail: str = "") -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule


def format_number(number: int) -> str:
    """Arabic digits, numbers below 10 with a leading zero (01…09)."""
    if number < 1:
        raise NumberingRuleBroken("number_positive", str(number))
    return f"{number:02d}"


def code_notation(doc_type: DocumentType, agency_abbreviation: str, unit_abbreviation: str | None = None) -> str:
    """The ký hiệu without the number: `QĐ-UBND`, or `UBND-VP` for công văn.

    Công văn and thư công have no type abbreviation: the agency's abbreviation is
    followed by the drafting unit's (or the subject field's), which is required.
    """
    if not agency_abbreviation:
        raise NumberingRuleBroken("agency_abbreviation_required")
    if doc_type.abbreviation is None:
        if not unit_abbreviation:
            raise NumberingRuleBroken("unit_abbreviation_required", doc_type.name)
        return f"{agency_abbreviation}-{unit_abbreviation}"
    return f"{doc_type.abbreviation}-{agency_abbreviation}"


def symbol(number: int, notation: str) -> str:
    """`Số, ký hiệu` as printed after "Số:": no spaces, "/" then the notation."""
    return f"{format_number(number)}/{notation}"


def axis_document_id(issuer_code: str, issued: date, number: int, notation: str) -> str:
    """`<issuer code>,<yyyy/MM/dd>,<number>/<notation>`: the id other agencies see on the axis."""
    return f"{issuer_code},{issued:%Y/%m/%d},{symbol(number, notation)}"
