"""Reading a PDF before signing: is it a PDF we can sign, where does the signature go."""

from __future__ import annotations

import functools
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from vanthu_signing.domain.appearance import Box

PERSONAL_FIELD_PREFIX = "vanthu-personal"
HEADER_WINDOW = 1024  # PDF 32000-1 §7.5.2: readers accept the header within the first KB
MAX_TREE_DEPTH = 64  # page trees are a few levels deep; pypdf stops at 100 too
MAX_PAGES = 10_000  # as the registry accepts at upload
P = ParamSpec("P")
R = TypeVar("R")


class PdfProblem(ValueError):
    """`reason` is one of not_pdf, broken, encrypted, too_complex."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def open_checked(data: bytes) -> PdfFileReader:
    """A pyHanko reader over `data`, or PdfProblem if it is not a readable, unencrypted PDF."""
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise PdfProblem("not_pdf")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            raise PdfProblem("encrypted")
        root = reader.root
        pages = reader.root["/Pages"]
        count = int(pages["/Count"])
        if count < 1:
            raise PdfProblem("broken", "no pages")
        if count > MAX_PAGES:
            raise PdfProblem("too_complex", f"{count} pages (at most {MAX_PAGES})")
        _ = root.get("/AcroForm")
    except PdfProblem:
        raise
    except Exception as exc:
        # pyHanko meets a damaged file with PdfError, KeyError, TypeError, its own assertions,
        # RecursionError on a cyclic structure …: all of them mean the same to the caller.
        raise PdfProblem("broken", type(exc).__name__) from exc
    return reader


def reading(function: Callable[P, R]) -> Callable[P, R]:
    """What a function reading an untrusted PDF raises, besides PdfProblem, becomes PdfProblem(broken)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except PdfProblem:
            raise
        except Exception as exc:
            raise PdfProblem("broken", f"{type(exc).__name__}: {str(exc)[:120]}") from exc

    return wrapper


@reading
def page_box(reader: PdfFileReader, page_index: int) -> Box:
    # Walk only as far as the page: reading each page object costs, and most boxes are on page 1.
    found = next(itertools.islice(_pages(reader), page_index, None), None) if page_index >= 0 else None
    if found is None:
        raise PdfProblem("broken", f"no page {page_index + 1}")
    page = found[1]
    x1, y1, x2, y2 = (float(v) for v in _inherited(page, "/MediaBox"))
    return Box(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


@reading
def page_count(reader: PdfFileReader) -> int:
    return int(reader.root["/Pages"]["/Count"])


def _pages(reader: PdfFileReader) -> Iterator[tuple[int, Any]]:
    """(object number, page dictionary) of each page, in order, read as the walk gets there;
    a cyclic or absurdly deep tree is broken, one with more than MAX_PAGES pages too complex."""
    stack: list[tuple[Iterator[Any], int]] = [(iter(reader.root["/Pages"]["/Kids"]), 1)]
    yielded = 0
    while stack:
        kids, depth = stack[-1]
        ref = next(kids, None)
        if ref is None:
            stack.pop()
            continue
        node = ref.get_object()
        if "/Kids" in node:
            if depth >= MAX_TREE_DEPTH:
                raise PdfProblem("broken", "page tree too deep or cyclic")
            stack.append((iter(node["/Kids"]), depth + 1))
            continue
        yielded += 1
        if yielded > MAX_PAGES:
            raise PdfProblem("too_complex", f"more than {MAX_PAGES} pages")
        yield ref.idnum, node


def _inherited(page, key: str):
    node = page
    for _ in range(MAX_TREE_DEPTH):  # a /Parent chain may loop back on itself
        if node is None:
            break
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    raise PdfProblem("broken", f"page without {key}")


@dataclass(frozen=True)
class ExistingSignature:
    field_name: str
    page_index: int
    box: Box


@reading
def personal_signatures(reader: PdfFileReader) -> list[ExistingSignature]:
    """Filled personal signature fields (those this service made), in document order."""
    page_numbers: dict[int, int] | None = None
    found: list[ExistingSignature] = []
    for name, value, ref in enumerate_sig_fields(reader, filled_status=True):
        if not name.startswith(PERSONAL_FIELD_PREFIX) or value is None:
            continue
        if page_numbers is None:  # only documents already signed pay for the page walk
            page_numbers = {idnum: i for i, (idnum, _) in enumerate(_pages(reader))}
        field = ref.get_object()
        widget = field if "/Rect" in field else field["/Kids"][0].get_object()
        rect = [float(v) for v in widget["/Rect"]]
        page_ref = widget.get("/P")
        page_index = page_numbers.get(page_ref.idnum, 0) if page_ref is not None else 0
        found.append(
            ExistingSignature(
                name,
                page_index,
                Box(
                    min(rect[0], rect[2]), min(rect[1], rect[3]), max(rect[0], rect[2]), max(rect[1], rect[3])
                ),
            )
        )
    return found


@reading
def signature_field_names(reader: PdfFileReader) -> list[str]:
    return [name for name, _, _ in enumerate_sig_fields(reader)]


def next_field_name(reader: PdfFileReader, prefix: str) -> str:
    taken = set(signature_field_names(reader))
    n = 1
    while f"{prefix}-{n}" in taken:
        n += 1
    return f"{prefix}-{n}"
