"""Hostile PDFs: truncated, encrypted, absurd page trees, broken cross-references, bombs, not PDFs.

Written by hand with a tiny object writer, so each specimen is exactly the damage it names
(a library writing them would repair half of it). `base_pdf()` is a sound one-page letter
whose text carries the signature placeholder, so the same bytes also go through signing.
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from functools import cache

ANCHOR = "[[CHU_KY]]"
# The codes a refused PDF may get: at upload (registry), before signing and at /verify (signing).
REGISTRY_REFUSALS = frozenset(
    {"registry.file_not_pdf", "registry.file_encrypted", "registry.file_too_many_pages"}
)
SIGNING_REFUSALS = frozenset(
    {"signing.not_pdf", "signing.pdf_broken", "signing.pdf_encrypted", "signing.pdf_too_complex"}
)


@dataclass(frozen=True)
class Specimen:
    name: str
    data: bytes
    readable: bool | None  # True: a sound PDF; False: must be refused; None: either is fine


def write(objects: list[bytes], *, root: int = 1, trailer: bytes = b"", header: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
          xref: bool = True, offsets_shift: int = 0, startxref: bytes | None = None) -> bytes:  # fmt: skip
    """A classic PDF: `objects` are the bodies of objects 1..n, then xref, trailer, startxref."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    table_at = len(out)
    if xref:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        for offset in offsets:
            out += b"%010d 00000 n \n" % (offset + offsets_shift)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\n" % (len(objects) + 1, root, trailer)
    out += b"startxref\n" + (startxref if startxref is not None else b"%d" % table_at) + b"\n%%EOF\n"
    return bytes(out)


def stream(content: bytes, extra: bytes = b"", *, compress: bool = False) -> bytes:
    data = zlib.compress(content) if compress else content
    flate = b" /Filter /FlateDecode" if compress else b""
    return b"<< /Length %d%s %s>>\nstream\n" % (len(data), flate, extra) + data + b"\nendstream"


TEXT = f"BT /F1 13 Tf 72 760 Td (Quyet dinh ve viec thu nghiem) Tj 0 -300 Td ({ANCHOR}) Tj ET".encode()
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def page(contents: bytes = b"4 0 R", extra: bytes = b"", media_box: bytes = b"/MediaBox [0 0 595 842]",
         parent: bytes = b"2 0 R") -> bytes:  # fmt: skip
    return b"<< /Type /Page /Parent %s %s /Contents %s /Resources << /Font << /F1 5 0 R >> >> %s>>" % (
        parent,
        media_box,
        contents,
        extra,
    )


def letter(*, pages_body: bytes | None = None, page_body: bytes | None = None, content: bytes = TEXT,
           catalog: bytes = b"<< /Type /Catalog /Pages 2 0 R >>", more: list[bytes] | None = None, **kw: object) -> bytes:  # fmt: skip
    """Catalog 1, Pages 2, Page 3, contents 4, font 5, then `more` objects from 6."""
    objects = [
        catalog,
        pages_body if pages_body is not None else b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        page_body if page_body is not None else page(),
        stream(content),
        FONT,
        *(more or []),
    ]
    return write(objects, **kw)  # type: ignore[arg-type]


@cache
def base_pdf() -> bytes:
    return letter()


def _encrypted(user_password: str, algorithm: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base_pdf())))
    writer.encrypt(user_password=user_password, owner_password="chu-so-huu", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _encrypted_with_count(count: bytes) -> bytes:
    """Encrypted (empty user password), then its page count rewritten: numbers are not encrypted."""
    data = _encrypted("", "RC4-128")
    return data.replace(b"/Count 1", b"/Count " + count, 1)


def _nested_pages(depth: int) -> bytes:
    """A page tree `depth` levels deep, one page at the bottom."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = level + 2
        objects.append(
            b"<< /Type /Pages /Kids [%d 0 R] /Count 1 %s>>"
            % (number + 1, b"/Parent %d 0 R " % (number - 1) if level else b"")
        )
    leaf = len(objects) + 1
    objects.append(
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R >>" % (leaf - 1, leaf + 1)
    )
    objects.append(stream(TEXT))
    return write(objects)


def _many_objects(count: int) -> bytes:
    return letter(more=[b"(o%d)" % i for i in range(count)])


def _many_pages(count: int) -> bytes:
    """`count` distinct (empty) pages under one Pages node: a sound, absurdly long file."""
    kids = b" ".join(b"%d 0 R" % (number + 3) for number in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * count
    return write(objects)


def _object_stream(n: int, first: int) -> bytes:
    body = b"<< /Type /ObjStm /N %d /First %d /Length 10 >>\nstream\n6 0 7 0 8\nendstream" % (n, first)
    return letter(more=[body])


def _flate_bomb(size: int) -> bytes:
    compressed = zlib.compress(b" " * size, 9)
    return letter(
        page_body=page(b"6 0 R"),
        more=[
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(compressed) + compressed + b"\nendstream"
        ],
    )


def _prev_loop() -> bytes:
    data = bytearray(base_pdf())
    at = data.rindex(b"trailer\n<<") + len(b"trailer\n<<")
    table = data.rindex(b"xref\n")
    data[at:at] = b" /Prev %d" % table
    return bytes(data)


def specimens() -> list[Specimen]:
    base = base_pdf()
    found: list[Specimen] = []

    def add(name: str, data: bytes, readable: bool | None) -> None:
        found.append(Specimen(name, data, readable))

    add("sound_letter", base, True)
    for fraction in (0.05, 0.3, 0.5, 0.8, 0.95, 0.99):
        add(f"truncated_{fraction}", base[: int(len(base) * fraction)], None)
    add("header_only", b"%PDF-1.7\n", False)
    add("empty", b"", False)
    add("png_named_pdf", b"\x89PNG\r\n\x1a\n" + bytes(200), False)
    add("zip_named_pdf", b"PK\x03\x04" + bytes(200), False)
    add("html_named_pdf", b"<!DOCTYPE html><html><body>%PDF-1.7</body></html>", False)
    add("text_named_pdf", "Công văn số 12/UBND\n".encode() * 50, False)
    add("header_after_2kb_of_junk", b"x" * 2048 + base, None)
    add("nul_bytes", bytes(4096), False)
    for name, user_password, algorithm in (
        ("encrypted_user_password_aes256", "mat-khau", "AES-256"),
        ("encrypted_user_password_rc4", "mat-khau", "RC4-128"),
        ("encrypted_owner_only_aes128", "", "AES-128"),
    ):
        add(name, _encrypted(user_password, algorithm), None)
    add("encrypted_absurd_count", _encrypted_with_count(b"2147483647"), None)
    add("count_absurd", letter(pages_body=b"<< /Type /Pages /Kids [3 0 R] /Count 2147483647 >>"), None)
    add(
        "count_huge_integer",
        letter(pages_body=b"<< /Type /Pages /Kids [3 0 R] /Count 99999999999999999999999999 >>"),
        None,
    )
    add("count_negative", letter(pages_body=b"<< /Type /Pages /Kids [3 0 R] /Count -5 >>"), None)
    add("count_zero_no_kids", letter(pages_body=b"<< /Type /Pages /Kids [] /Count 0 >>"), False)
    add("count_a_string", letter(pages_body=b"<< /Type /Pages /Kids [3 0 R] /Count (many) >>"), None)
    add("count_a_real", letter(pages_body=b"<< /Type /Pages /Kids [3 0 R] /Count 1e308 >>"), None)
    add("kids_cycle", letter(pages_body=b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>"), None)
    add("kids_missing_object", letter(pages_body=b"<< /Type /Pages /Kids [99 0 R] /Count 1 >>"), None)
    add("kids_not_an_array", letter(pages_body=b"<< /Type /Pages /Kids 3 0 R /Count 1 >>"), None)
    add(
        "kids_50000_references",
        letter(pages_body=b"<< /Type /Pages /Kids [" + b"3 0 R " * 50_000 + b"] /Count 50000 >>"),
        None,
    )
    add("page_tree_depth_3000", _nested_pages(3000), None)
    add("pages_10001", _many_pages(10_001), False)
    add("page_parent_is_itself", letter(page_body=page(media_box=b"", parent=b"3 0 R")), None)
    add(
        "page_parent_loop",
        letter(page_body=page(media_box=b"", parent=b"6 0 R"), more=[b"<< /Parent 3 0 R >>"]),
        None,
    )
    add("media_box_garbage", letter(page_body=page(media_box=b"/MediaBox [(a) (b) /c null]")), None)
    add("media_box_missing", letter(page_body=page(media_box=b"")), None)
    add("contents_self_reference", letter(page_body=page(b"3 0 R")), None)
    add("root_not_a_dictionary", letter(catalog=b"42"), False)
    add("root_missing", letter(root=77), None)  # pypdf finds the catalog by scanning: fine
    add("pages_missing", letter(catalog=b"<< /Type /Catalog >>"), False)
    add("xref_offsets_wrong", letter(offsets_shift=37), None)
    add("xref_missing", letter(xref=False), None)
    add("startxref_past_end", letter(startxref=b"99999999"), None)
    add("startxref_garbage", letter(startxref=b"-1e9x"), None)
    add("xref_prev_loop", _prev_loop(), None)
    add("object_stream_absurd_n", _object_stream(10_000_000, 10), None)
    add("object_stream_absurd_first", _object_stream(3, 2**40), None)
    add("flate_bomb_content", _flate_bomb(200 << 20), None)
    add("deep_array_nesting", letter(more=[b"[" * 100_000 + b"]" * 100_000]), None)
    add("deep_dictionary_nesting", letter(more=[b"<< /A " * 50_000 + b"1" + b" >>" * 50_000]), None)
    add("deep_nesting_in_page", letter(page_body=page(extra=b"/X " + b"[" * 100_000 + b"]" * 100_000)), None)
    add("many_objects", _many_objects(100_000), None)
    add("million_operators", letter(content=b"q Q " * 1_000_000 + TEXT), None)
    add("huge_string_token", letter(more=[b"(" + b"x" * (8 << 20) + b")"]), None)
    add("unterminated_string", letter(more=[b"(never closed " * 1000]), None)
    add(
        "inline_image_absurd_size",
        letter(content=b"BI /W 999999999 /H 999999999 /BPC 8 /CS /RGB ID xyz EI " + TEXT),
        None,
    )
    add("font_widths_absurd", letter(more=[], content=TEXT).replace(FONT, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 0 /LastChar 2147483647 /Widths [1 2 3] >>"), None)  # fmt: skip
    assert len({s.name for s in found}) == len(found)
    return found


# -- hypothesis: damage done to sound PDFs ----------------------------------------------------------

SNIPPETS = (
    b"<<", b">>", b"[", b"]", b"(", b")", b"endobj", b"stream\n", b"endstream", b"%%EOF", b"xref\n0 1\n",
    b"trailer << /Root 99 0 R >>", b"/Count 2147483647", b"/Count -1", b"999999 0 R", b"3 0 R", b"2 0 R",
    b"/Filter /FlateDecode", b"/Length 99999999", b"/Encrypt 1 0 R", b"/Kids [2 0 R]", b"/Parent 3 0 R",
    b"\x00" * 16, b"[" * 500, b"<< /A " * 200, b"startxref\n0\n", b"/Type /ObjStm /N 999999 /First 9",
)  # fmt: skip


# Where a number is swapped for an absurd one: the page count, a stream length, a reference, the xref offset.
NUMBERS = {
    b"count": (b"/Count ", rb"/Count \d+"),
    b"length": (b"/Length ", rb"/Length \d+"),
    b"reference": (b"", rb"\d+(?= 0 R)"),
    b"startxref": (b"startxref\n", rb"startxref\n\d+"),
}


def pdf_mutations() -> object:
    from hypothesis import strategies as st

    one = st.one_of(
        st.tuples(st.just("truncate"), st.floats(0, 1)),
        st.tuples(st.just("flip"), st.floats(0, 1), st.binary(min_size=1, max_size=4)),
        st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from(SNIPPETS)),
        st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 64)),
        st.tuples(st.just("number"), st.sampled_from(tuple(NUMBERS)),
                  st.sampled_from((b"0", b"-1", b"2147483648", b"1e99", b"99999999999999999999", b"x"))),
    )  # fmt: skip
    return st.lists(one, min_size=1, max_size=3)


def damage(data: bytes, steps: list[tuple[object, ...]]) -> bytes:
    for step in steps:
        kind = step[0]
        at = int(len(data) * float(step[1])) if kind in ("truncate", "flip", "insert", "delete") else 0  # type: ignore[arg-type]
        if kind == "truncate":
            data = data[:at]
        elif kind == "flip":
            data = data[:at] + bytes(step[2]) + data[at + len(bytes(step[2])) :]  # type: ignore[arg-type]
        elif kind == "insert":
            data = data[:at] + bytes(step[2]) + data[at:]  # type: ignore[arg-type]
        elif kind == "delete":
            data = data[:at] + data[at + int(step[2]) :]  # type: ignore[call-overload]
        else:
            prefix, pattern = NUMBERS[bytes(step[1])]  # type: ignore[index]
            data = re.sub(pattern, prefix + bytes(step[2]), data, count=1)  # type: ignore[arg-type]
    return data


def damaged_pdfs(bases: tuple[bytes, ...]) -> object:
    """A sound PDF from `bases`, damaged by one to three mutations."""
    from hypothesis import strategies as st

    return st.builds(damage, st.sampled_from(bases), pdf_mutations())
