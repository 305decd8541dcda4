"""PAdES signing on real SoftHSM keys from a certomancer PKI: Decree 30 appearances rendered
with poppler, B-T with the PKI's TSA, B-LT with its OCSP/CRL, sessions never shared."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from signing_helpers import (
    AGENCY,
    count_pixels,
    extract_text,
    fonts_of,
    hsm_pool,
    is_blue,
    is_red,
    plan,
    render,
    sign_with,
)

from vanthu_contracts.events.signing import CopyType, PadesLevel, SignatureKind
from vanthu_signing.pdf.inspect import personal_signatures
from vanthu_signing.trust import TrustAnchor
from vanthu_signing.validation import Validator


@pytest.fixture(scope="module")
async def personally_signed(hsm, documents, appearance_settings) -> tuple[bytes, tuple]:  # type: ignore[no-untyped-def]
    field = plan(SignatureKind.PERSONAL, documents.letter, appearance_settings, documents.signature_png)
    signed = await sign_with(hsm_pool(hsm, "person"), documents.letter, field)
    return signed, field.box.as_tuple()


async def test_personal_signature_image_sits_between_title_and_name(personally_signed) -> None:  # type: ignore[no-untyped-def]
    signed, box = personally_signed
    page = render(signed)
    assert count_pixels(page, box, is_blue) > 150
    text = extract_text(signed)
    title_line = next(i for i, line in enumerate(text.splitlines()) if "PHÓ CHỦ TỊCH" in line)
    name_line = next(i for i, line in enumerate(text.splitlines()) if "Nguyễn Văn Đông" in line)
    # The image is centred on the placeholder, which the drafter put between the two lines.
    assert title_line < name_line
    _, y1, _, y2 = box
    assert 842 - y2 > 0 and y1 > 0  # inside the page
    # Nothing blue outside the signature box, besides what the document had.
    assert count_pixels(page, (0, 0, 595, y1 - 2), is_blue) == 0


async def test_seal_covers_the_left_third_with_agency_name_and_time(
    personally_signed, hsm, appearance_settings, documents
) -> None:  # type: ignore[no-untyped-def]
    signed, personal_box = personally_signed
    field = plan(SignatureKind.SEAL, signed, appearance_settings, documents.seal_png)
    sealed = await sign_with(hsm_pool(hsm, "seal"), signed, field)
    page = render(sealed)
    px1, py1, px2, py2 = personal_box
    left_third = (px1, py1, px1 + (px2 - px1) / 3, py2)
    right_two_thirds = (px1 + (px2 - px1) * 0.45, py1, px2, py2)
    assert count_pixels(page, left_third, is_red) > 100
    assert count_pixels(page, right_two_thirds, is_red) == 0
    # Real size: 36 mm is 102 points; the seal's red extent spans about that.
    sx1, sy1, _, sy2 = field.box.as_tuple()
    reds_per_column = [
        count_pixels(page, (x, sy1, x + 1, sy2), is_red) for x in range(int(sx1), int(sx1) + 110)
    ]
    red_columns = [i for i, n in enumerate(reds_per_column) if n]
    assert 95 <= red_columns[-1] - red_columns[0] + 1 <= 106
    text = extract_text(sealed)
    assert AGENCY in text
    assert "+07:00" in text and "T" in text.split("+07:00")[0][-9:]
    assert "LiberationSerif" in fonts_of(sealed)
    reader = PdfFileReader(io.BytesIO(sealed))
    assert [s.field_name for s in reader.embedded_signatures] == ["vanthu-personal-1", "vanthu-seal-1"]
    assert len(personal_signatures(reader)) == 1


@pytest.mark.parametrize(
    ("kind", "appearance", "expected"),
    [
        (SignatureKind.ATTACHMENT, {"main_document_symbol": "45/UBND-VP"}, ["45/UBND-VP"]),
        (
            SignatureKind.COPY,
            {"copy_type": CopyType.SAO_Y, "copy_symbol": "12/SY-UBND"},
            ["SAO Y", "Số: 12/SY-UBND", AGENCY],
        ),
    ],
)
async def test_text_stamp_at_the_top_right_of_page_one(
    hsm, documents, appearance_settings, kind, appearance, expected
) -> None:  # type: ignore[no-untyped-def]
    field = plan(kind, documents.letter, appearance_settings, **appearance)
    signed = await sign_with(hsm_pool(hsm, "seal"), documents.letter, field)
    x1, y1, x2, y2 = field.box.as_tuple()
    assert x2 > 595 * 0.75 and y2 > 842 * 0.9  # top right corner
    page = render(signed)
    assert count_pixels(page, (x1, y1, x2, y2), lambda r, g, b: max(r, g, b) < 170) > 60
    assert (
        count_pixels(page, (x1, y1, x2, y2), lambda r, g, b: is_red(r, g, b) or is_blue(r, g, b)) == 0
    )  # text only
    lines = [line.strip() for line in extract_text(signed).splitlines() if line.strip()]
    for wanted in expected:
        assert any(line.endswith(wanted) for line in lines), (wanted, lines[:6])
    assert any(line.endswith("+07:00") for line in lines)
    assert "LiberationSerif" in fonts_of(signed)


async def test_b_t_carries_a_timestamp_from_the_tsa(hsm, pki, documents, appearance_settings) -> None:  # type: ignore[no-untyped-def]
    field = plan(
        SignatureKind.ATTACHMENT, documents.letter, appearance_settings, main_document_symbol="45/UBND-VP"
    )
    signed = await sign_with(
        hsm_pool(hsm, "seal"),
        documents.letter,
        field,
        PadesLevel.B_T,
        timestamper=HTTPTimeStamper(pki.tsa_url),
    )
    sig = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    context = ValidationContext(trust_roots=[pki.cert("root")], allow_fetching=True)
    status = await async_validate_pdf_signature(
        sig, signer_validation_context=context, ts_validation_context=context
    )
    assert status.bottom_line and status.timestamp_validity is not None and status.timestamp_validity.trusted


async def test_b_lt_embeds_revocation_data_that_validates_offline(
    hsm, pki, documents, appearance_settings
) -> None:  # type: ignore[no-untyped-def]
    field = plan(
        SignatureKind.ATTACHMENT, documents.letter, appearance_settings, main_document_symbol="45/UBND-VP"
    )
    signing_context = ValidationContext(
        trust_roots=[pki.cert("root")], allow_fetching=True, revocation_mode="hard-fail"
    )
    signed = await sign_with(
        hsm_pool(hsm, "seal"), documents.letter, field, PadesLevel.B_LT,
        timestamper=HTTPTimeStamper(pki.tsa_url), validation_context=signing_context,
    )  # fmt: skip
    reader = PdfFileReader(io.BytesIO(signed))
    dss = DocumentSecurityStore.read_dss(reader)
    assert dss.ocsps or dss.crls
    # No network: everything needed is inside the file.
    report = await Validator([TrustAnchor("test root", pki.cert("root"))], allow_fetching=False).validate(
        signed
    )
    assert report.verdict.value == "valid", report.model_dump()
    assert report.signatures[0].pades_level == "B-LT"
    assert (
        report.signatures[0].revocation.value == "good"
        and report.signatures[0].revocation_source == "embedded"
    )


async def test_concurrent_signings_use_separate_sessions(hsm, documents, appearance_settings) -> None:  # type: ignore[no-untyped-def]
    pool = hsm_pool(hsm, "seal", size=2)
    field = plan(
        SignatureKind.ATTACHMENT, documents.letter, appearance_settings, main_document_symbol="45/UBND-VP"
    )
    in_use: set[int] = set()
    overlaps = 0

    async def one() -> bytes:
        nonlocal overlaps
        async with pool.signer() as signer:
            assert id(signer) not in in_use  # never handed to two signings at once
            in_use.add(id(signer))
            overlaps = max(overlaps, len(in_use))
            await asyncio.sleep(0.01)
            from vanthu_signing.pdf import pades

            out = await pades.sign(documents.letter, field, pades.SignOptions(PadesLevel.B_B), signer)
            in_use.discard(id(signer))
            return out

    results = await asyncio.gather(*(one() for _ in range(6)))
    assert len({r for r in results}) == 6
    assert pool.sessions_open == 2 and overlaps == 2
    pool.close()


async def test_calls_into_the_module_never_overlap_even_on_separate_sessions(
    hsm, documents, appearance_settings
) -> None:  # type: ignore[no-untyped-def]
    """python-pkcs11 initialises the module with C_Initialize(NULL), promising that no two threads
    call it at once; SoftHSM2 then has no mutexes, and two sessions signing in two threads
    crashed the process. Four sessions, twelve signings at once: one call in the module at a time."""
    from vanthu_signing.pdf import pades

    pool = hsm_pool(hsm, "seal", size=4)
    field = plan(
        SignatureKind.ATTACHMENT, documents.letter, appearance_settings, main_document_symbol="45/UBND-VP"
    )
    guard = threading.Lock()
    inside, most, calls = 0, 0, 0

    class Recording:
        def __init__(self, key: Any) -> None:
            self.key = key

        def sign(self, data: bytes, **kwargs: Any) -> bytes:
            nonlocal inside, most, calls
            with guard:
                inside, calls = inside + 1, calls + 1
                most = max(most, inside)
            time.sleep(0.005)  # widen the window an unserialised call would overlap in
            try:
                return self.key.sign(data, **kwargs)
            finally:
                with guard:
                    inside -= 1

    async def one() -> bytes:
        async with pool.signer() as signer:
            locked = signer._key_handle  # the module-locked handle the pool's signers sign with
            if not isinstance(locked._key, Recording):
                locked._key = Recording(locked._key)
            return await pades.sign(documents.letter, field, pades.SignOptions(PadesLevel.B_B), signer)

    results = await asyncio.gather(*(one() for _ in range(12)))
    pool.close()
    assert len(set(results)) == 12 and pool.sessions_open == 0
    assert calls == 12 and most == 1


def test_explicit_placement_keeps_the_image_inside_the_given_box(documents, appearance_settings) -> None:  # type: ignore[no-untyped-def]
    field = plan(
        SignatureKind.PERSONAL, documents.letter, appearance_settings, documents.signature_png,
        placement={"page": 1, "box": (320, 250, 500, 330)},
    )  # fmt: skip
    x1, y1, x2, y2 = field.box.as_tuple()
    assert 319 <= x1 and x2 <= 501 and 249 <= y1 and y2 <= 331
    assert abs((x2 - x1) / (y2 - y1) - 2.0) < 0.05  # the 600x300 image keeps its proportions


async def test_vietnamese_letters_render_as_their_own_glyphs(hsm, documents, appearance_settings) -> None:  # type: ignore[no-untyped-def]
    """The same stamp with and without diacritics (same time), rendered at 200 dpi: accents
    add ink above the letters and no width (Liberation gives accented letters their base
    letter's advance). A missing glyph would be dropped (less ink) or drawn as the .notdef
    box (another width)."""
    from datetime import UTC, datetime

    from PIL import ImageOps

    moment = datetime(2026, 3, 5, 3, 15, 30, tzinfo=UTC)

    def ink_of(pdf: bytes, box: tuple[float, float, float, float]) -> tuple[int, int, int]:
        scale = 200 / 72
        page = ImageOps.grayscale(render(pdf, dpi=200))
        x1, y1, x2, y2 = box
        crop = page.crop(
            (int(x1 * scale), int(page.height - y2 * scale), int(x2 * scale), int(page.height - y1 * scale))
        )
        inked = crop.point(lambda v: 255 if v < 128 else 0)
        bbox = inked.getbbox()
        assert bbox is not None
        return sum(1 for v in inked.tobytes() if v), bbox[2] - bbox[0], bbox[3] - bbox[1]

    pool = hsm_pool(hsm, "seal")
    results = {}
    for label, name in (("vi", "Ủy ban nhân dân tỉnh Hà Giang"), ("ascii", "Uy ban nhan dan tinh Ha Giang")):
        field = plan(
            SignatureKind.COPY, documents.letter, appearance_settings, agency_name=name, signed_at=moment,
            copy_type=CopyType.SAO_Y,
        )  # fmt: skip
        signed = await sign_with(pool, documents.letter, field)
        assert name in extract_text(signed)
        results[label] = ink_of(signed, field.box.as_tuple())
    (ink_vi, width_vi, _), (ink_ascii, width_ascii, _) = results["vi"], results["ascii"]
    assert ink_vi > ink_ascii * 1.005, results  # the accents are drawn
    assert abs(width_vi - width_ascii) <= max(3, width_ascii * 0.03), results  # with the letters' own widths
