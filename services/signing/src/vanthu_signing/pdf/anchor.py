"""Finding the placeholder text the drafter left where the signature image goes."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PageObject, PdfReader

from vanthu_signing.pdf.inspect import PdfProblem, reading

MAX_PAGE_CONTENT = 1 << 20  # a dense page of text is tens of kilobytes
MAX_SEARCHED_CONTENT = 8 << 20
MAX_SEARCHED_PAGES = 2_000  # from the end: the signature closes the text, annexes follow it


@dataclass(frozen=True)
class AnchorHit:
    page_index: int
    x: float  # left of the anchor text, page space
    y: float  # baseline
    width: float
    font_size: float

    @property
    def center(self) -> tuple[float, float]:
        # The visual middle of a line sits about a third of the font size above the baseline.
        return self.x + self.width / 2, self.y + self.font_size / 3


def _mul(a: list[float], b: list[float]) -> list[float]:
    return [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]


def _content_size(page: PageObject) -> int:
    contents = page.get_contents()
    return len(contents.get_data()) if contents is not None else 0


@reading
def find_anchor(data: bytes, anchor: str, *, last_page_first: bool = True) -> AnchorHit | None:
    """The first occurrence of `anchor` (searching from the last page: the signature block
    closes the document), with its position in page space.

    Reading text costs about a microsecond per content byte in pypdf and runs in the worker's
    event loop, so a page with more content than an official letter ever has (or too much
    content altogether) is refused as too complex rather than searched for seconds.
    """
    reader = PdfReader(io.BytesIO(data))
    order = range(len(reader.pages) - 1, -1, -1) if last_page_first else range(len(reader.pages))
    searched = 0
    for visited, index in enumerate(order):
        size = _content_size(reader.pages[index])
        searched += size
        if size > MAX_PAGE_CONTENT or searched > MAX_SEARCHED_CONTENT or visited >= MAX_SEARCHED_PAGES:
            raise PdfProblem("too_complex", f"page {index + 1}: {size} bytes of content")
        hits: list[AnchorHit] = []

        def visit(
            text: str,
            cm: list[float],
            tm: list[float],
            font: object,
            size: float,
            _i: int = index,
            hits: list[AnchorHit] = hits,
        ) -> None:
            if hits or anchor not in text:
                return
            matrix = _mul(list(tm), list(cm))
            scale = (matrix[0] ** 2 + matrix[1] ** 2) ** 0.5 or 1.0
            effective = size * scale
            before = text.index(anchor)
            # Without the font's widths at hand, half an em per character is a fair estimate
            # for the serif faces used in administrative documents.
            char_w = effective * 0.5
            hits.append(
                AnchorHit(
                    page_index=_i,
                    x=matrix[4] + before * char_w,
                    y=matrix[5],
                    width=max(len(anchor) * char_w, effective),
                    font_size=effective,
                )
            )

        reader.pages[index].extract_text(visitor_text=visit)
        if hits:
            return hits[0]
    return None
