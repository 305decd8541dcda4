"""Where each Decree 30 signature appearance goes on the page, and what its text says.

Coordinates are PDF points (1/72 inch) with the origin at the bottom left of the page,
which is what PDF field rectangles use. All functions here are pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from vanthu_contracts.events.signing import COPY_TYPE_LABELS, CopyType

POINTS_PER_MM = 72.0 / 25.4
# Vietnam has used UTC+07:00 all year since 1975; a fixed offset needs no tz database.
VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")


def mm(value: float) -> float:
    return value * POINTS_PER_MM


@dataclass(frozen=True)
class Box:
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def center(self) -> tuple[float, float]:
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2

    def inside(self, page: Box) -> bool:
        return self.x1 >= page.x1 and self.y1 >= page.y1 and self.x2 <= page.x2 and self.y2 <= page.y2

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    def rounded(self) -> Box:
        """Whole points: pyHanko's layout arithmetic works on exact fractions."""
        return Box(round(self.x1), round(self.y1), round(self.x2), round(self.y2))


class PlacementError(ValueError):
    """The computed box does not fit on the page."""


def vietnam_time(moment: datetime) -> str:
    """ISO 8601 with the Vietnam offset, e.g. 2026-03-05T10:15:30+07:00 (Decree 30 §II.8)."""
    if moment.tzinfo is None:
        raise ValueError("the signing time must carry a time zone")
    return moment.astimezone(VIETNAM_TZ).replace(microsecond=0).isoformat()


def fit_image(width_px: int, height_px: int, max_width: float, max_height: float) -> tuple[float, float]:
    """The largest (width, height) with the image's aspect ratio inside max_width x max_height."""
    if width_px <= 0 or height_px <= 0:
        raise ValueError("image has no size")
    scale = min(max_width / width_px, max_height / height_px)
    return width_px * scale, height_px * scale


def personal_signature_box(
    anchor_center: tuple[float, float], image_size: tuple[float, float], page: Box
) -> Box:
    """The signature image centred on the anchor (the placeholder between title and name)."""
    cx, cy = anchor_center
    w, h = image_size
    box = Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    if not box.inside(page):
        raise PlacementError("the signature image would leave the page")
    return box


def seal_layout(personal: Box, seal_diameter: float, text_width: float, page: Box) -> tuple[Box, Box]:
    """(field box, seal image box) for the agency seal over the personal signature.

    Decree 30 Phụ lục I §II.8.a: the seal, at real size, covers about one third of the
    signature image, on its left. So the seal's right edge sits one third into the
    signature image and its centre is level with the signature's. The agency name and
    the time are written to the right of the seal, inside the same field.
    """
    _, cy = personal.center
    seal_x2 = personal.x1 + personal.width / 3
    seal = Box(seal_x2 - seal_diameter, cy - seal_diameter / 2, seal_x2, cy + seal_diameter / 2)
    field = Box(seal.x1, seal.y1, seal.x2 + text_width, seal.y2)
    if not field.inside(page):
        raise PlacementError("the seal would leave the page")
    return field, seal


def top_right_box(page: Box, width: float, height: float, right_margin: float, top_margin: float) -> Box:
    """Box 14 of Decree 30 Phụ lục I: top right of the first page (copies, separate attachments)."""
    box = Box(
        page.x2 - right_margin - width,
        page.y2 - top_margin - height,
        page.x2 - right_margin,
        page.y2 - top_margin,
    )
    if not box.inside(page):
        raise PlacementError("the text stamp does not fit on the page")
    return box


def seal_text(agency_name: str, signed_at: datetime) -> str:
    return f"{agency_name.strip()}\n{vietnam_time(signed_at)}"


def attachment_text(main_document_symbol: str, signed_at: datetime) -> str:
    """Phụ lục I §II.8.b: the main document's số, ký hiệu and the signing time."""
    return f"{main_document_symbol.strip()}\n{vietnam_time(signed_at)}"


def copy_text(
    copy_type: CopyType, agency_name: str, signed_at: datetime, copy_symbol: str | None = None
) -> str:
    """Phụ lục I Part II.I.3: the copy type, the copying agency and the signing time."""
    lines = [COPY_TYPE_LABELS[copy_type]]
    if copy_symbol:
        lines.append(f"Số: {copy_symbol.strip()}")
    lines += [agency_name.strip(), vietnam_time(signed_at)]
    return "\n".join(lines)
