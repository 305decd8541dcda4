"""Real PDFs for the tests, with a Vietnamese text layer (reportlab + a font with Vietnamese glyphs)."""

from __future__ import annotations

import io
from functools import cache

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas


@cache
def _font() -> str:
    from vanthu_registry.printing import CANDIDATES, pick_fonts

    regular, _ = pick_fonts(*CANDIDATES[0])
    pdfmetrics.registerFont(TTFont("TestSerif", str(regular)))
    return "TestSerif"


def make_pdf(text: str = "Văn bản thử nghiệm", pages: int = 1, padding: int = 0) -> bytes:
    """A PDF of `pages` pages showing `text`; `padding` bytes of comment make it bigger."""
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    for page in range(pages):
        c.setFont(_font(), 13)
        c.drawString(72, 760, text)
        c.drawString(72, 740, f"Trang {page + 1}")
        c.showPage()
    c.save()
    data = out.getvalue()
    if padding:
        data += b"\n%" + b"x" * padding + b"\n"
    return data
