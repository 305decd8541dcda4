"""Turns a job's kind and appearance data into a signature field: name, page, box and style."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.stamp.base import BaseStampStyle

from vanthu_contracts.events.signing import Appearance, SignatureKind
from vanthu_signing.domain import appearance as geometry
from vanthu_signing.domain.appearance import Box, PlacementError, mm
from vanthu_signing.pdf import stamps
from vanthu_signing.pdf.anchor import find_anchor
from vanthu_signing.pdf.inspect import next_field_name, page_box, page_count, personal_signatures

FIELD_PREFIX = {
    SignatureKind.PERSONAL: "vanthu-personal",
    SignatureKind.SEAL: "vanthu-seal",
    SignatureKind.ATTACHMENT: "vanthu-attachment",
    SignatureKind.COPY: "vanthu-copy",
}


@dataclass(frozen=True)
class AppearanceSettings:
    font_path: str
    default_anchor: str = "[[CHU_KY]]"
    signature_max_width_mm: float = 45.0
    signature_max_height_mm: float = 22.0
    seal_default_diameter_mm: float = 36.0
    seal_text_size: int = 8
    text_size: int = 10
    text_right_margin_mm: float = 15.0
    text_top_margin_mm: float = 6.0


@dataclass(frozen=True)
class FieldPlan:
    field_name: str
    page_index: int
    box: Box
    style: BaseStampStyle
    text_params: dict[str, str] = field(default_factory=dict)


class AnchorMissing(LookupError):
    def __init__(self, anchor: str) -> None:
        super().__init__(anchor)
        self.anchor = anchor


class NoPersonalSignature(LookupError):
    pass


def plan_field(
    *,
    kind: SignatureKind,
    pdf: bytes,
    reader: PdfFileReader,
    appearance: Appearance,
    image: stamps.LoadedImage | None,
    image_width_mm: float,
    agency_name: str,
    signed_at: datetime,
    settings: AppearanceSettings,
) -> FieldPlan:
    """Raises AnchorMissing, NoPersonalSignature or PlacementError when the field cannot be placed."""
    name = next_field_name(reader, FIELD_PREFIX[kind])
    if kind is SignatureKind.PERSONAL:
        assert image is not None
        return _personal(name, pdf, reader, appearance, image, image_width_mm, settings)
    if kind is SignatureKind.SEAL:
        assert image is not None
        return _seal(name, reader, image, image_width_mm, agency_name, signed_at, settings)
    if kind is SignatureKind.ATTACHMENT:
        assert appearance.main_document_symbol
        body = geometry.attachment_text(appearance.main_document_symbol, signed_at)
    else:
        assert appearance.copy_type is not None
        body = geometry.copy_text(appearance.copy_type, agency_name, signed_at, appearance.copy_symbol)
    return _top_right(name, reader, body, settings)


def _personal(
    name: str,
    pdf: bytes,
    reader: PdfFileReader,
    appearance: Appearance,
    image: stamps.LoadedImage,
    image_width_mm: float,
    settings: AppearanceSettings,
) -> FieldPlan:
    max_w = mm(image_width_mm or settings.signature_max_width_mm)
    size = geometry.fit_image(image.width_px, image.height_px, max_w, mm(settings.signature_max_height_mm))
    placement = appearance.placement
    if placement.box is not None and placement.page is not None:
        if placement.page > page_count(reader):
            raise PlacementError("no such page")
        page_index = placement.page - 1
        x1, y1, x2, y2 = placement.box
        # Keep the image's proportions inside the box the producer gave.
        size = geometry.fit_image(image.width_px, image.height_px, x2 - x1, y2 - y1)
        center = ((x1 + x2) / 2, (y1 + y2) / 2)
    else:
        anchor = placement.anchor_text or settings.default_anchor
        hit = find_anchor(pdf, anchor)
        if hit is None:
            raise AnchorMissing(anchor)
        page_index, center = hit.page_index, hit.center
    box = geometry.personal_signature_box(center, size, page_box(reader, page_index)).rounded()
    return FieldPlan(name, page_index, box, stamps.personal_style(image, box.width, box.height))


def _seal(
    name: str,
    reader: PdfFileReader,
    image: stamps.LoadedImage,
    diameter_mm: float,
    agency_name: str,
    signed_at: datetime,
    settings: AppearanceSettings,
) -> FieldPlan:
    personal = personal_signatures(reader)
    if not personal:
        raise NoPersonalSignature()
    target = personal[-1]
    diameter = mm(diameter_mm or settings.seal_default_diameter_mm)
    body = geometry.seal_text(agency_name, signed_at)
    gap = 3.0
    text_w, _ = stamps.text_extent(body, settings.font_path, settings.seal_text_size)
    field_box, _ = geometry.seal_layout(
        target.box, diameter, text_w + gap + 2, page_box(reader, target.page_index)
    )
    style = stamps.seal_style(image, diameter, settings.font_path, settings.seal_text_size, gap)
    return FieldPlan(name, target.page_index, field_box.rounded(), style, {"body": body})


def _top_right(name: str, reader: PdfFileReader, body: str, settings: AppearanceSettings) -> FieldPlan:
    text_w, text_h = stamps.text_extent(body, settings.font_path, settings.text_size)
    box = geometry.top_right_box(
        page_box(reader, 0),
        text_w + 4,
        text_h + 4,
        mm(settings.text_right_margin_mm),
        mm(settings.text_top_margin_mm),
    )
    return FieldPlan(
        name, 0, box.rounded(), stamps.text_style(settings.font_path, settings.text_size), {"body": body}
    )
