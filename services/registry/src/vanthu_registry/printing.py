"""Tables to XLSX (openpyxl) and PDF (reportlab with a TrueType font that has Vietnamese glyphs).

Liberation Serif 2 is metric-compatible with Times New Roman, the decree's typeface; DejaVu
Serif is the fallback. Liberation 1.x (Debian's older fonts-liberation) has no precomposed
Vietnamese letters (ả, ụ, ế …) and would print boxes, so a font is only used after checking
that it has them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

# openpyxl and reportlab are imported where used: they are large, and a service that never
# prints should not pay for them at startup.

CANDIDATES: tuple[tuple[Path, Path], ...] = (
    (
        Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"),
        Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf"),
    ),
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"),
    ),
)
VIETNAMESE_PROBE = (0x1EA3, 0x1EE5, 0x1EBF, 0x0111)  # ả ụ ế đ
_registered: dict[str, tuple[str, str]] = {}


def has_vietnamese(path: Path) -> bool:
    from reportlab.pdfbase.ttfonts import TTFontFile

    try:
        glyphs = TTFontFile(str(path)).charToGlyph
    except Exception:  # a missing or unreadable font is simply not a candidate
        return False
    return all(code in glyphs for code in VIETNAMESE_PROBE)


def pick_fonts(regular: Path, bold: Path) -> tuple[Path, Path]:
    for pair in ((regular, bold), *CANDIDATES):
        if all(has_vietnamese(p) for p in pair):
            return pair
    raise RuntimeError("no TrueType font with Vietnamese glyphs: install fonts-liberation2 or fonts-dejavu-core")


def fonts(regular: Path, bold: Path) -> tuple[str, str]:
    """Register the fonts once per process; returns (regular name, bold name)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    key = f"{regular}|{bold}"
    if key not in _registered:
        regular, bold = pick_fonts(regular, bold)
        names = (f"VT-{len(_registered)}-R", f"VT-{len(_registered)}-B")
        pdfmetrics.registerFont(TTFont(names[0], str(regular)))
        pdfmetrics.registerFont(TTFont(names[1], str(bold)))
        _registered[key] = names
    return _registered[key]


def xlsx(title: str, subtitle: str, header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[int]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    thin = Side(style="thin")
    sheet.append([title])
    sheet.append([subtitle])
    sheet.append([])
    sheet.append(list(header))
    for cell in sheet[4]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    sheet.append([f"({i})" for i in range(1, len(header) + 1)])
    for row in rows:
        sheet.append(["" if v is None else v for v in row])
    for row in sheet.iter_rows(min_row=5):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    sheet["A1"].font = Font(bold=True, size=14)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pdf(
    title: str,
    subtitle: str,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    widths_mm: Sequence[float],
    font_regular: Path,
    font_bold: Path,
    *,
    wide: bool = True,
) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = fonts(font_regular, font_bold)
    cell = ParagraphStyle("cell", fontName=regular, fontSize=9, leading=11)
    head = ParagraphStyle("head", fontName=bold, fontSize=9, leading=11, alignment=1)
    heading = ParagraphStyle("title", fontName=bold, fontSize=14, leading=18, alignment=1)
    sub = ParagraphStyle("sub", fontName=regular, fontSize=11, leading=14, alignment=1)
    data = [[Paragraph(_escape(h), head) for h in header]]
    data.append([Paragraph(f"({i})", head) for i in range(1, len(header) + 1)])
    data += [[Paragraph(_escape("" if v is None else str(v)), cell) for v in row] for row in rows]
    table = Table(data, colWidths=[w * mm for w in widths_mm], repeatRows=2)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    out = io.BytesIO()
    size = landscape(A4) if wide else A4
    doc = SimpleDocTemplate(out, pagesize=size, leftMargin=20 * mm, rightMargin=15 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=title)
    doc.build([Paragraph(_escape(title), heading), Paragraph(_escape(subtitle), sub), Spacer(1, 6 * mm), table])
    return out.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
