"""Helpers for the signing tests: signing through the engine, rendering and reading pages."""

from __future__ import annotations

import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from vanthu_contracts.events.signing import Appearance, PadesLevel, SignatureKind
from vanthu_signing.keys.pkcs11_pool import Pkcs11KeyPool, Pkcs11KeySpec
from vanthu_signing.pdf import pades, stamps
from vanthu_signing.pdf.inspect import open_checked
from vanthu_signing.pdf.plan import AppearanceSettings, FieldPlan, plan_field

AGENCY = "Ủy ban nhân dân tỉnh Hà Giang"


def hsm_pool(token, label: str, size: int = 1) -> Pkcs11KeyPool:  # type: ignore[no-untyped-def]
    return Pkcs11KeyPool(Pkcs11KeySpec(str(token.module), token.label, label, None), token.user_pin, size)


def plan(
    kind: SignatureKind,
    pdf: bytes,
    settings: AppearanceSettings,
    image: bytes | None = None,
    agency_name: str = AGENCY,
    signed_at: datetime | None = None,
    **appearance: object,
) -> FieldPlan:
    return plan_field(
        kind=kind,
        pdf=pdf,
        reader=open_checked(pdf),
        appearance=Appearance(**appearance),  # type: ignore[arg-type]
        image=stamps.load_png(image) if image else None,
        image_width_mm=36.0 if kind is SignatureKind.SEAL else 0.0,
        agency_name=agency_name,
        signed_at=signed_at or datetime.now(UTC),
        settings=settings,
    )


async def sign_with(
    pool: Pkcs11KeyPool, pdf: bytes, field: FieldPlan, level: PadesLevel = PadesLevel.B_B, **options: object
) -> bytes:
    async with pool.signer() as signer:
        return await pades.sign(pdf, field, pades.SignOptions(level=level, **options), signer)  # type: ignore[arg-type]


def render(pdf: bytes, dpi: int = 72) -> Image.Image:
    """Page 1 as RGB; at 72 dpi one pixel is one PDF point (y grows downwards)."""
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", str(source), f"{scratch}/page"],
            check=True,
            timeout=60,
        )
        page = next(Path(scratch).glob("page*.png"))
        return Image.open(page).convert("RGB")


def extract_text(pdf: bytes) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "in.pdf"
        source.write_bytes(pdf)
        return subprocess.run(
            ["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True, timeout=60
        ).stdout


def fonts_of(pdf: bytes) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "in.pdf"
        source.write_bytes(pdf)
        return subprocess.run(
            ["pdffonts", str(source)], check=True, capture_output=True, text=True, timeout=60
        ).stdout


def count_pixels(image: Image.Image, box_pdf: tuple[float, float, float, float], predicate) -> int:  # type: ignore[no-untyped-def]
    """Pixels inside a PDF-space box (origin bottom left) for which `predicate(r, g, b)` holds."""
    x1, y1, x2, y2 = box_pdf
    height = image.height
    crop = image.crop((int(x1), int(height - y2), int(x2), int(height - y1)))
    raw = crop.tobytes()
    return sum(1 for i in range(0, len(raw), 3) if predicate(raw[i], raw[i + 1], raw[i + 2]))


def is_blue(r: int, g: int, b: int) -> bool:
    return b > 120 and b > r + 60 and b > g + 40


def is_red(r: int, g: int, b: int) -> bool:
    return r > 150 and r > g + 80 and r > b + 80


def is_dark(r: int, g: int, b: int) -> bool:
    return r < 90 and g < 90 and b < 90
