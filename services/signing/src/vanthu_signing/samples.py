"""Sample documents and images for tests, the benchmark and the development demo.

The PDFs are laid out like a Decree 30 công văn: agency and national headers, the body,
and the signature block (title, a placeholder where the signature image goes, the name).
fpdf2 is a development dependency; nothing in the signing path imports this module.
"""

from __future__ import annotations

import io
import math
import random
from pathlib import Path

from PIL import Image, ImageDraw

LIBERATION_SERIF = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
LIBERATION_SERIF_BOLD = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf"
DEFAULT_ANCHOR = "[[CHU_KY]]"


def signature_png(width: int = 600, height: int = 300, seed: int = 7) -> bytes:
    """A blue handwritten-looking signature on a transparent background."""
    rng = random.Random(seed)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    blue = (20, 40, 200, 255)
    points = []
    for i in range(60):
        t = i / 59
        x = 40 + t * (width - 80)
        y = height / 2 + math.sin(t * 9) * height * 0.25 + rng.uniform(-8, 8)
        points.append((x, y))
    draw.line(points, fill=blue, width=9, joint="curve")
    draw.line([(60, height * 0.75), (width - 60, height * 0.62)], fill=blue, width=6)
    return _png(image)


def seal_png(size: int = 500) -> bytes:
    """A red round seal (rings and a star) on a transparent background."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (220, 20, 30, 255)
    draw.ellipse((6, 6, size - 6, size - 6), outline=red, width=14)
    draw.ellipse((size * 0.2, size * 0.2, size * 0.8, size * 0.8), outline=red, width=8)
    c = size / 2
    star = []
    for k in range(10):
        r = size * 0.22 if k % 2 == 0 else size * 0.09
        angle = -math.pi / 2 + k * math.pi / 5
        star.append((c + r * math.cos(angle), c + r * math.sin(angle)))
    draw.polygon(star, fill=red)
    return _png(image)


def opaque_png(width: int = 200, height: int = 100) -> bytes:
    """An image without transparency (refused as a signature image)."""
    return _png(Image.new("RGB", (width, height), (255, 255, 255)))


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def official_letter(
    *,
    anchor: str = DEFAULT_ANCHOR,
    agency: str = "ỦY BAN NHÂN DÂN TỈNH HÀ GIANG",
    title: tuple[str, ...] = ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
    signer: str = "Nguyễn Văn Đông",
    padding_bytes: int = 0,
) -> bytes:
    """A one-page công văn with a signature block; `padding_bytes` adds an incompressible image."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(30, 20, 15)
    pdf.add_page()
    pdf.add_font("serif", "", LIBERATION_SERIF)
    pdf.add_font("serif", "B", LIBERATION_SERIF_BOLD)
    pdf.set_font("serif", "B", 12)
    pdf.set_xy(20, 20)
    pdf.cell(80, 6, agency, align="C")
    pdf.set_xy(95, 20)
    pdf.cell(105, 6, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C")
    pdf.set_xy(95, 26)
    pdf.cell(105, 6, "Độc lập - Tự do - Hạnh phúc", align="C")
    pdf.set_font("serif", "", 13)
    pdf.set_xy(20, 34)
    pdf.cell(80, 6, "Số: 45/UBND-VP", align="C")
    pdf.set_xy(30, 60)
    pdf.multi_cell(
        165,
        7,
        "Kính gửi: Sở Xây dựng.\n\nỦy ban nhân dân tỉnh đề nghị Sở Xây dựng khẩn trương rà soát, "
        "báo cáo tình hình thực hiện các dự án đầu tư công trên địa bàn trước ngày 15 tháng 12 năm 2026.",
    )
    if padding_bytes:
        pdf.image(_noise_image(padding_bytes), x=30, y=110, w=60)
    pdf.set_font("serif", "B", 13)
    for i, line in enumerate(title):
        pdf.set_xy(110, 190 + i * 6)
        pdf.cell(85, 6, line, align="C")
    # The placeholder is written in white, as drafters do: invisible, yet found by the signer.
    pdf.set_font("serif", "", 11)
    pdf.set_text_color(255, 255, 255)
    pdf.set_xy(110, 190 + len(title) * 6 + 12)
    pdf.cell(85, 6, anchor, align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("serif", "B", 13)
    pdf.set_xy(110, 190 + len(title) * 6 + 34)
    pdf.cell(85, 6, signer, align="C")
    return bytes(pdf.output())


def _noise_image(size_bytes: int) -> io.BytesIO:
    # Random pixels do not compress, so the PDF grows by about `size_bytes`.
    side = max(16, int(math.sqrt(size_bytes / 3)))
    image = Image.frombytes("RGB", (side, side), random.Random(1).randbytes(side * side * 3))
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=0)
    buf.seek(0)
    return buf


def write_samples(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "letter.pdf": official_letter(),
        "signature.png": signature_png(),
        "seal.png": seal_png(),
    }
    out = {}
    for name, data in files.items():
        (directory / name).write_bytes(data)
        out[name] = directory / name
    return out
