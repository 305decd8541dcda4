"""Hostile PDFs through every reader the platform has, in process.

The registry's upload check (page count) and its background text indexer; signing's checks
before signing (open, page box, existing fields, the placeholder search) and its validator.
Each specimen of the corpus and each generated one (a sound or signed PDF, damaged) must be
read or refused with a stable code, never raise anything else, and never take 5 s.
The same files then go through the services' HTTP APIs and sign jobs (test_fuzz_pdf_services).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from fuzz_checks import Timings, defined_code, draw_examples
from pdf_corpus import ANCHOR, REGISTRY_REFUSALS, SIGNING_REFUSALS, base_pdf, damaged_pdfs, specimens
from pdf_keys import make_pkcs12, signed

from vanthu_registry.storage import count_pages, extract_text
from vanthu_runtime.errors import AppError
from vanthu_signing.failures import as_app_error
from vanthu_signing.pdf.anchor import find_anchor
from vanthu_signing.pdf.inspect import (
    PdfProblem,
    next_field_name,
    open_checked,
    page_box,
    personal_signatures,
)
from vanthu_signing.validation import Validator

READABLE = "readable"
GENERATED_CI = 300
GENERATED_LONG = 5_000


def registry_outcome(data: bytes) -> str:
    try:
        pages = count_pages(data)
    except AppError as refused:
        assert refused.code in REGISTRY_REFUSALS, refused.code
        defined_code(refused.code)
        return refused.code
    assert pages >= 1
    try:
        extract_text(data)  # the indexer records a failure as "no text"; it must only end quickly
    except Exception:
        pass
    return READABLE


def signing_outcome(data: bytes) -> str:
    try:
        reader = open_checked(data)
        page_box(reader, 0)
        next_field_name(reader, "vanthu-personal")
        personal_signatures(reader)
        find_anchor(data, ANCHOR)
    except PdfProblem as problem:
        code = as_app_error(problem).code
        assert code in SIGNING_REFUSALS, code
        defined_code(code)
        return code
    return READABLE


def verify_outcome(validator: Validator, data: bytes) -> str:
    try:
        report = asyncio.run(validator.validate(data, "x.pdf"))
    except PdfProblem as problem:
        return as_app_error(problem).code
    assert report.verdict and report.summary_vi and report.summary_en
    return f"verdict:{report.verdict}"


@pytest.fixture(scope="module")
def signed_letter(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    p12 = make_pkcs12(tmp_path_factory.mktemp("keys") / "fuzz.p12", b"mat-khau")
    return signed(base_pdf(), p12, b"mat-khau")


def _run_all(data: bytes, name: str, validator: Validator, timings: Timings) -> tuple[str, str, str]:
    with timings.case(f"{name}: registry"):
        registry = registry_outcome(data)
    with timings.case(f"{name}: signing checks"):
        signing = signing_outcome(data)
    with timings.case(f"{name}: validation"):
        verified = verify_outcome(validator, data)
    return registry, signing, verified


def test_hostile_pdf_corpus_in_every_reader(signed_letter: bytes) -> None:
    validator = Validator([], allow_fetching=False)
    timings = Timings()
    wrong = []
    for specimen in [*specimens(), *_signed_specimens(signed_letter)]:
        registry, signing, _verified = _run_all(specimen.data, specimen.name, validator, timings)
        if specimen.readable is True and READABLE not in (registry, signing):
            wrong.append(f"{specimen.name}: a sound PDF refused: {registry}, {signing}")
        if specimen.readable is False and READABLE in (registry, signing):
            wrong.append(f"{specimen.name}: accepted: registry {registry}, signing {signing}")
    print(f"\nPDF corpus: {timings.summary()}")
    assert not wrong, "\n".join(wrong)
    timings.assert_within_budget()


def test_generated_damaged_pdfs_in_every_reader(signed_letter: bytes, long_run: bool) -> None:
    validator = Validator([], allow_fetching=False)
    timings = Timings()
    outcomes: Counter[str] = Counter()
    damaged = draw_examples(
        damaged_pdfs((base_pdf(), signed_letter)), GENERATED_LONG if long_run else GENERATED_CI
    )
    for index, data in enumerate(damaged):
        for outcome in _run_all(data, f"generated #{index}", validator, timings):  # type: ignore[arg-type]
            outcomes[outcome] += 1
    print(f"\nPDF generated: {timings.summary()}; outcomes {dict(outcomes)}")
    timings.assert_within_budget()
    assert outcomes[READABLE] and outcomes["registry.file_not_pdf"] and outcomes["signing.pdf_broken"], (
        outcomes
    )


def _signed_specimens(signed_letter: bytes) -> list[object]:
    """A signed letter, then the same with its signature damaged: verification must still answer."""
    from pdf_corpus import Specimen

    contents = signed_letter.index(b"/Contents <") + len(b"/Contents <")
    byte_range = signed_letter.index(b"/ByteRange [") + len(b"/ByteRange [")
    return [
        Specimen("signed_letter", signed_letter, True),
        Specimen("signed_then_appended", signed_letter + b"\n% appended after signing\n", True),
        Specimen(
            "signed_contents_zeroed",
            signed_letter[:contents] + b"0" * 64 + signed_letter[contents + 64 :],
            None,
        ),
        Specimen(
            "signed_contents_not_hex",
            signed_letter[:contents] + b"zz" * 32 + signed_letter[contents + 64 :],
            None,
        ),
        Specimen(
            "signed_byte_range_absurd",
            signed_letter[:byte_range] + b"0 999999999 " + signed_letter[byte_range + 12 :],
            None,
        ),
        Specimen("signed_truncated", signed_letter[: len(signed_letter) - 300], None),
    ]


def test_the_controls_work(signed_letter: bytes, tmp_path: Path) -> None:
    """The sound letter is read everywhere and its signed copy verifies intact; a PNG is refused."""
    validator = Validator([], allow_fetching=False)
    assert _run_all(base_pdf(), "control", validator, Timings())[:2] == (READABLE, READABLE)
    report = asyncio.run(validator.validate(signed_letter))
    assert len(report.signatures) == 1 and report.signatures[0].intact
    assert registry_outcome(b"\x89PNG\r\n\x1a\n") == "registry.file_not_pdf"
    assert signing_outcome(b"\x89PNG\r\n\x1a\n") == "signing.not_pdf"
