"""The three Decree 30 appearances as pyHanko stamp styles.

- personal: the blue signature PNG alone, filling the field (no text: Phụ lục I §II.7.d);
- seal: the red seal PNG at real size at the left of the field, with the agency name and
  the signing time beside it (§II.8.a and TT 01/2019);
- text: black text in a Times-New-Roman-metric face at 10 pt, for attachments in separate
  files and electronic copies, at the top right of page 1 (§II.8.b, Part II.I.3).

Fonts are embedded as subsets through fontTools/HarfBuzz, so Vietnamese diacritics render
and extract as text. Images keep their alpha channel (pyHanko writes it as an SMask).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageFont
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.layout import AxisAlignment, BoxConstraints, InnerScaling, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import StaticStampStyle, TextStampStyle
from pyhanko.stamp.base import BaseStampStyle

BLACK = (0.0, 0.0, 0.0)
SEAL_TEXT_COLOR = (0.0, 0.0, 0.0)
NO_MARGINS = Margins(0, 0, 0, 0)
# pyHanko's layout engine computes aspect ratios with fractions.Fraction, so box sizes
# handed to it must be integers (points); a rounding of at most half a point.


class ImageProblem(ValueError):
    pass


@dataclass(frozen=True)
class LoadedImage:
    """A decoded PNG with an alpha channel, ready to become a PdfImage."""

    image: Image.Image
    width_px: int
    height_px: int


def load_png(data: bytes) -> LoadedImage:
    """Decode a signature or seal image; it must be a PNG with transparency."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:  # Pillow raises many kinds of errors for bad input
        raise ImageProblem("not an image") from exc
    if image.format != "PNG":
        raise ImageProblem("not a PNG")
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    if not has_alpha:
        raise ImageProblem("no transparent background")
    rgba = image.convert("RGBA")
    return LoadedImage(rgba, rgba.width, rgba.height)


@lru_cache(maxsize=8)
def font_factory(font_path: str) -> GlyphAccumulatorFactory:
    import logging

    from vanthu_signing.pdf.fonts import pdf_ready_font

    # The subsetter notes every table it drops (e.g. FontForge's FFTM); nothing to act on.
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    if not Path(font_path).is_file():
        raise FileNotFoundError(f"font not found: {font_path}")
    return GlyphAccumulatorFactory(pdf_ready_font(font_path))


@lru_cache(maxsize=32)
def _measuring_font(font_path: str, size: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path, size=size)


@lru_cache(maxsize=4096)
def _line_width(font_path: str, size: float, line: str) -> float:
    # A stamp's lines mostly repeat from job to job (the signer, the agency, the labels); only
    # the time changes. Measuring them with FreeType cost over 1 % of a signature's CPU per job.
    return _measuring_font(font_path, size).getlength(line)


def text_extent(text: str, font_path: str, size: float, leading: float | None = None) -> tuple[float, float]:
    """(width, height) in points of `text` set in the font at `size` points."""
    lines = text.split("\n")
    width = max(_line_width(font_path, size, line) for line in lines)
    return width, len(lines) * (leading or size * 1.2)


def personal_style(image: LoadedImage, width: float, height: float) -> BaseStampStyle:
    return StaticStampStyle(
        background=PdfImage(image.image, box=BoxConstraints(width=round(width), height=round(height))),
        background_opacity=1.0,
        border_width=0,
        background_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MID,
            y_align=AxisAlignment.ALIGN_MID,
            margins=NO_MARGINS,
            inner_content_scaling=InnerScaling.STRETCH_TO_FIT,
        ),
    )


def seal_style(
    image: LoadedImage, diameter: float, font_path: str, font_size: float, gap: float
) -> BaseStampStyle:
    return TextStampStyle(
        stamp_text="%(body)s",
        text_box_style=TextBoxStyle(
            font=font_factory(font_path), font_size=int(font_size), text_color=SEAL_TEXT_COLOR, border_width=0
        ),
        background=PdfImage(image.image, box=BoxConstraints(width=round(diameter), height=round(diameter))),
        background_opacity=1.0,
        border_width=0,
        background_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MIN,
            y_align=AxisAlignment.ALIGN_MID,
            margins=NO_MARGINS,
            inner_content_scaling=InnerScaling.NO_SCALING,
        ),
        inner_content_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MIN,
            y_align=AxisAlignment.ALIGN_MID,
            margins=Margins(left=round(diameter + gap), right=0, top=0, bottom=0),
            inner_content_scaling=InnerScaling.SHRINK_TO_FIT,
        ),
    )


def text_style(font_path: str, font_size: float) -> BaseStampStyle:
    return TextStampStyle(
        stamp_text="%(body)s",
        text_box_style=TextBoxStyle(
            font=font_factory(font_path), font_size=int(font_size), text_color=BLACK, border_width=0
        ),
        border_width=0,
        inner_content_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MAX,
            y_align=AxisAlignment.ALIGN_MAX,
            margins=NO_MARGINS,
            inner_content_scaling=InnerScaling.SHRINK_TO_FIT,
        ),
    )
