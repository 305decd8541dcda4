"""The stamp font: Times-New-Roman-metric and able to set every Vietnamese letter.

Liberation Serif 2.x (Debian `fonts-liberation2`) covers Vietnamese; the 1.07 series
(`fonts-liberation`) lacks letters such as ư, ố, ự, so a stamp set in it loses diacritics.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont

CANDIDATES = (
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/liberation-serif/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/TTF/LiberationSerif-Regular.ttf",
)
# Not Times-metric, but it sets Vietnamese: better a wider stamp than lost diacritics.
FALLBACKS = ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",)
# Every precomposed lower- and upper-case Vietnamese letter.
VIETNAMESE = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
VIETNAMESE_ALL = VIETNAMESE + VIETNAMESE.upper()


class FontProblem(RuntimeError):
    pass


@lru_cache(maxsize=8)
def missing_glyphs(font_path: str) -> str:
    cmap = TTFont(font_path, lazy=True).getBestCmap()
    return "".join(ch for ch in VIETNAMESE_ALL if ord(ch) not in cmap)


def stamp_font(configured: str | None = None) -> str:
    """The configured font, or the first candidate that sets Vietnamese; FontProblem if none."""
    import logging

    paths = [configured] if configured else [*CANDIDATES, *FALLBACKS]
    problems = []
    for path in paths:
        if not Path(path).is_file():
            problems.append(f"{path}: not found")
            continue
        missing = missing_glyphs(path)
        if missing:
            problems.append(f"{path}: lacks {missing[:12]}")
            continue
        if path in FALLBACKS:
            logging.getLogger("vanthu.signing").warning(
                "stamp font: no Times-metric font covers Vietnamese (%s); using %s. Install fonts-liberation2.",
                "; ".join(problems),
                path,
            )
        return path
    raise FontProblem(
        "no stamp font that covers Vietnamese (install fonts-liberation2 or set "
        "VANTHU_SIGNING_STAMP_FONT): " + "; ".join(problems)
    )


# What stamps write: ASCII, Latin-1, the Vietnamese letters (ơ, ư, đ and the U+1EA0 block),
# combining accents and common punctuation.
STAMP_CODEPOINTS = (
    list(range(0x20, 0x7F))
    + list(range(0xA0, 0x180))
    + [0x1A0, 0x1A1, 0x1AF, 0x1B0]
    + list(range(0x300, 0x324))
    + list(range(0x1EA0, 0x1EFA))
    + list(range(0x2010, 0x2027))
    + [0x2030, 0x2039, 0x203A, 0x20AB, 0x2116, 0x2122, 0x2192]
)


@lru_cache(maxsize=8)
def pdf_ready_font(font_path: str) -> str:
    """A copy of the font made for pyHanko's embedder: 1000 units per em, only stamp glyphs.

    - pyHanko writes the /W glyph widths and TJ adjustments in the font's own units, while
      PDF reads them in thousandths of an em. Liberation Serif uses 2048 units per em, so its
      text would be set twice as wide. Rescaling the font (outlines, metrics, kerning) to
      1000 units makes both agree.
    - pyHanko subsets the font again for every signature; on the full Liberation Serif
      (thousands of glyphs, large layout tables) that was 60 % of a signature's time
      (profiled). Every Vietnamese letter has a precomposed glyph, so the copy keeps only
      the glyphs stamps use and no layout tables; the per-signature subset is then cheap.

    The copy is cached next to the system's temporary files, keyed by the source's hash.
    """
    import hashlib
    import os
    import tempfile

    from fontTools import subset
    from fontTools.ttLib.scaleUpem import scale_upem

    digest = hashlib.sha256(Path(font_path).read_bytes()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"vanthu-stamp-font-{digest}-v2.ttf"
    if target.is_file():
        return str(target)
    font = TTFont(font_path)
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM", "DSIG"]
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=STAMP_CODEPOINTS)
    subsetter.subset(font)
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    scratch = target.with_suffix(f".{os.getpid()}.tmp")
    font.save(scratch)
    scratch.replace(target)  # atomic: concurrent workers never read a half-written font
    return str(target)
