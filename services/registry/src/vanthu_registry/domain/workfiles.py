"""Work files (hồ sơ) and the yearly Danh mục hồ sơ (Decree 30 Art. 28–29, Phụ lục V and VI part III).

Số và ký hiệu hồ sơ = an ordinal (01…) + "." + the abbreviation of the main heading,
e.g. `01.TCCB`; FileNotation is String(20). A file is opened, collects documents,
and is closed when the work ends; a closed file takes no new documents.
"""

from __future__ import annotations

import re
from enum import StrEnum

FILE_NOTATION_RE = re.compile(r"^\d{2,3}\.[0-9A-Za-zĐđ]{1,16}$")
HEADING_ABBREVIATION_RE = re.compile(r"^[0-9A-Za-zĐđ]{1,16}$")

LENGTHS = {
    "title": 500,  # Title
    "maintenance": 30,  # Maintenance (thời hạn bảo quản): "Vĩnh viễn" or "10 năm"
    "rights": 30,  # Rights (chế độ sử dụng)
    "creator": 30,  # Creator
    "language": 50,  # Language
    "description": 500,  # Description
}
MAX_DOCS = 9999  # DocTotal Number(4)


class FileState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def file_notation(ordinal: int, heading_abbreviation: str) -> str:
    """`01.TCCB` from the ordinal and the heading's abbreviation."""
    if ordinal < 1 or ordinal > 999:
        raise ValueError("ordinal")
    if not HEADING_ABBREVIATION_RE.match(heading_abbreviation):
        raise ValueError("heading_abbreviation")
    return f"{ordinal:02d}.{heading_abbreviation}"


def roman(n: int) -> str:
    """Main headings of the Danh mục are numbered in Roman numerals."""
    values = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
              (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = []
    for value, letters in values:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def check_file_fields(fields: dict[str, object]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    notation = fields.get("notation")
    if notation is not None and not FILE_NOTATION_RE.match(str(notation)):
        problems.append(("file_notation_invalid", "notation"))
    title = fields.get("title")
    if title is not None and not str(title).strip():
        problems.append(("title_required", "title"))
    for name, limit in LENGTHS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            problems.append(("field_too_long", name))
    return problems
