"""The two PDFs of the journey: the ministry's công văn and the province's reply (with the signature anchor).

Laid out like Decree 30 Phụ lục I in a few lines (agency and national headers, số/ký hiệu, body,
signature block). Set in Liberation Serif when it is installed (Vietnamese letters), else in
Helvetica without diacritics — the text matters less than being a real, parseable PDF.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

FONT_FILE = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
SIGNATURE_ANCHOR = "[[CHU_KY]]"  # the signing service's default placeholder


@dataclass(frozen=True)
class Letter:
    agency_parent: str
    agency: str
    symbol: str  # "Số: 123/BTN-VP"
    place_and_date: str
    subject: str
    body: tuple[str, ...]
    signer_title: tuple[str, ...]
    signer_name: str
    anchor: bool = False


def render(letter: Letter) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font, text = _font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(text(letter.subject))
    width, height = A4
    left, right = 85.0, width - 57.0
    y = height - 70

    def line(value: str, x: float, size: float = 13, centre: bool = False) -> None:
        pdf.setFont(font, size)
        if centre:
            pdf.drawCentredString(x, y, text(value))
        else:
            pdf.drawString(x, y, text(value))

    line(letter.agency_parent.upper(), 170, 12, centre=True)
    line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 400, 12, centre=True)
    y -= 16
    line(letter.agency.upper(), 170, 12, centre=True)
    line("Độc lập - Tự do - Hạnh phúc", 400, 13, centre=True)
    y -= 26
    line(letter.symbol, 170, 13, centre=True)
    line(letter.place_and_date, 400, 13, centre=True)
    y -= 22
    line(letter.subject, 170, 12, centre=True)
    y -= 40
    for paragraph in letter.body:
        for chunk in _wrap(paragraph, 80):
            line(chunk, left)
            y -= 19
        y -= 6
    y -= 20
    for title in letter.signer_title:
        line(title, right - 110, 13, centre=True)
        y -= 17
    if letter.anchor:
        pdf.setFillColorRGB(1, 1, 1)  # invisible on paper; the signature image is placed on it
        line(SIGNATURE_ANCHOR, right - 110, 13, centre=True)
        pdf.setFillColorRGB(0, 0, 0)
    y -= 70
    line(letter.signer_name, right - 110, 13, centre=True)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _font() -> tuple[str, object]:
    if FONT_FILE.is_file():
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        if "VanthuSerif" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("VanthuSerif", str(FONT_FILE)))
        return "VanthuSerif", lambda value: value
    return "Helvetica", _ascii


def _ascii(value: str) -> str:
    folded = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def _wrap(paragraph: str, width: int) -> list[str]:
    lines, current = [], ""
    for word in paragraph.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines
