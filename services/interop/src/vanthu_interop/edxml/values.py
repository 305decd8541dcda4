"""Value formats: strict when writing, lenient when reading.

edXML writes dates as yyyy/MM/dd and times as yyyy/MM/dd HH:mm:ss (local time, no zone).
Other vendors also send dd/MM/yyyy, ISO dates, and status codes as 5 instead of 05.
"""

from __future__ import annotations

import re
from datetime import date, datetime

_DATE_FORMATS = ("%Y/%m/%d", "%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%Y%m%d")
_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d/%m/%Y %H:%M",
)


def write_date(value: date | None) -> str | None:
    return None if value is None else value.strftime("%Y/%m/%d")


def write_time(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y/%m/%d %H:%M:%S")


def read_date(text: str | None) -> date | None:
    """A date in any of the forms seen; None for empty or unreadable text (lenient)."""
    text = (text or "").strip()
    if not text:
        return None
    head = text.split(" ")[0].split("T")[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    return None


def read_time(text: str | None) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    cleaned = re.sub(r"(\.\d+)?([+-]\d{2}:?\d{2}|Z)?$", "", text)
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    only_date = read_date(text)
    return datetime(only_date.year, only_date.month, only_date.day) if only_date else None


def read_int(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except (ValueError, OverflowError):  # "1e999", "NaN", thousands of digits
            return None


def read_bool(text: str | None) -> bool | None:
    text = (text or "").strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None


def write_bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def status_code(text: str | None) -> str | None:
    """'5', '05', ' 05 ' → '05'. A non-numeric code is kept as written."""
    text = (text or "").strip()
    if not text:
        return None
    # isascii: "²" and other Unicode digits pass isdigit() but not int(); a status code is short.
    return f"{int(text):02d}" if text.isascii() and text.isdigit() and len(text) <= 4 else text


def strip_cid(content_id: str | None) -> str | None:
    if content_id is None:
        return None
    text = content_id.strip()
    if text[:4].lower() == "cid:":
        text = text[4:]
    return text.strip("<>")


def canonical_document_id(issuer: str, promulgation: date, code_number: str, code_notation: str) -> str:
    """<issuer OrganId>,<yyyy/MM/dd>,<CodeNumber>/<CodeNotation>."""
    return f"{issuer},{promulgation.strftime('%Y/%m/%d')},{code_number}/{code_notation}"
