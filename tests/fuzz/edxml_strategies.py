"""Hypothesis strategies for hostile edXML: plausible packets, then mutations that break them.

A drawn packet starts as what the product's builder writes (document or status, random
Vietnamese fields, zipped or raw attachments) and goes through up to four mutations:
truncation, byte flips, snippets inserted at tag boundaries (DTDs, entities, XInclude, deep
nesting, CDATA, foreign elements), dropped or repeated elements, hostile values, re-encoding
(BOMs, UTF-16/32, declared-vs-actual encodings), namespace changes and attachment damage.
Drawing stays cheap (small sizes); the bytes are assembled in plain Python.
"""

from __future__ import annotations

import base64
import re
from datetime import date, datetime

from edxml_corpus import (
    HOSTED,
    NS,
    PDF,
    SENDER,
    attachment_xml,
    edoc,
    serialize,
    status,
    with_attachments,
    zip_corrupt_deflate,
    zip_crc_wrong,
    zip_encrypted_flag,
    zip_with_method,
    zipped,
)
from hypothesis import strategies as st

from vanthu_interop.edxml import Organ
from vanthu_interop.edxml.model import Business, OtherInfo, ResponseFor

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵĐƯƠ"
ELEMENTS = (
    "From", "To", "OrganId", "OrganName", "DocumentId", "Code", "CodeNumber", "CodeNotation",
    "PromulgationInfo", "PromulgationDate", "DocumentType", "Type", "TypeName", "Subject", "Content",
    "SignerInfo", "DueDate", "OtherInfo", "Priority", "PageAmount", "ResponseFor", "SteeringType",
    "ToPlaces", "TraceHeaderList", "Bussiness", "BussinessDocType", "ReplacementInfoList",
    "MessageHeader", "edXMLHeader", "edXMLBody", "edXMLManifest", "StatusCode", "Timestamp",
    "Description",
)  # fmt: skip
ORGAN_IDS = (HOSTED, SENDER, "01.02.G22", "000.00.12.H41", "", " ", "H41", "000.00.00.H41 ")


class Snippets(tuple[bytes, ...]):
    """The insertable snippets (a short repr keeps failure reports readable)."""

    def __repr__(self) -> str:
        return f"Snippets({len(self)})"


def snippets(canary_url: str, server_url: str) -> Snippets:
    """Things inserted at a tag boundary; the URLs point at what the test watches."""
    return Snippets(
        s.encode()
        for s in (
            f'<!DOCTYPE edXML [<!ENTITY x SYSTEM "{canary_url}">]>',
            f'<!DOCTYPE edXML SYSTEM "{server_url}/dtd">',
            f'<!DOCTYPE x [<!ENTITY % p SYSTEM "{server_url}/p"> %p;]>',
            '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
            "&x;",
            "&lt;&gt;&amp;&#65;&#x1F600;",
            "&#0;",
            f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{canary_url}" parse="text"/>',
            f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{server_url}/xi"/>',
            f'<?xml-stylesheet href="{server_url}/xsl"?>',
            "<![CDATA[<edXML:From>]]>",
            "<!-- <edXML:To> -->",
            "<?pi data?>",
            '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/><SignatureValue>QQ==</SignatureValue></Signature>',
            "<edXML:X>" * 80 + "</edXML:X>" * 80,
            "<a>" * 300 + "</a>" * 300,
            f'<edXML:To xmlns:edXML="{NS}"><edXML:OrganId>{HOSTED}</edXML:OrganId></edXML:To>',
            "<edXML:MessageHeader><edXML:From/></edXML:MessageHeader>",
            "<edXML:StatusCode>13</edXML:StatusCode>",
            "</edXML:MessageHeader>",
            "<edXML:Subject a='1' a='2'>",
            "<unclosed>",
            '<x xmlns:edXML="urn:evil"><edXML:From/></x>',
            "\x00",
            "\ufeff",
            "]]>",
            '<?xml version="1.0"?>',
        )
    )


HOSTILE_VALUES = (
    b"", b" ", b"-1", b"1e999", b"NaN", b"\xc2\xb2", b"9" * 4400, b"0x10", b"2024/13/45", b"45/13/2024",
    b"2024/05/06 24:00:00", b"99999-01-01", b"true", b"\xe2\x80\xae", "Đ".encode() * 300, b"x" * 70_000,
    b"&amp;&lt;", b"cid:<>", b"../../etc/passwd", b"%s%n%x", b"'; DROP TABLE receipts; --", b"\\u0000",
)  # fmt: skip
ENCODINGS = (
    ("UTF-8", "utf-8", b""), ("UTF-8", "utf-8", b"\xef\xbb\xbf"), ("UTF-16", "utf-16", b""),
    ("UTF-16LE", "utf-16-le", b""), ("UTF-16BE", "utf-16-be", b"\xfe\xff"), ("UTF-32", "utf-32", b""),
    ("ISO-8859-1", "utf-8", b""), ("UTF-16", "utf-8", b""), ("UTF-8", "utf-16-le", b"\xff\xfe"),
    ("windows-1258", "cp1258", b""), ("x-unknown", "utf-8", b""), ("UTF-8", "latin-1", b""),
    ("ASCII", "utf-8", b""), ("UTF-7", "utf-7", b""),
)  # fmt: skip
NAMESPACES = (NS, "", "urn:evil", NS.upper(), NS + "/", "http://www.w3.org/2000/09/xmldsig#")


# Texts come from a pool (one choice each): drawing them character by character would cost
# hundreds of choices per packet, and 10,000 packets must be generated in about a minute.
TEXT_POOL = (
    "", " ", "Công văn", "Ủy ban nhân dân tỉnh Nghệ An", "V/v thử nghiệm gửi nhận văn bản điện tử",
    "Đ" * 120, "a&b<c>\"d'", "\t\n\u00a0\u200b", "\u202eđảo chiều", "😀🇻🇳", "\ufeffBOM", "x" * 3000,
    "Nguyễn Văn Á", "KT. BỘ TRƯỞNG", "000.00.00.H41", "01.02.G22", "2024/05/06", "06/05/2024",
    "cid:<a1>", "../../etc/passwd", "%s%n", "'; DROP TABLE receipts; --", "١٢٣", "²", "NaN", "-0",
    "".join(chr(c) for c in range(0x20, 0x7F)), VIETNAMESE,
)  # fmt: skip


# Every strategy is built once, here: hypothesis validates a strategy object on first use, and
# building new ones inside each draw cost more than the parsing under test.
TEXTS = st.sampled_from(TEXT_POOL)
MAYBE_TEXT = st.none() | TEXTS
ORGAN_ID = st.sampled_from(ORGAN_IDS) | TEXTS
STATUS_CODE = st.sampled_from(("01", "02", "03", "04", "05", "06", "13", "15", "16", "5", "99")) | TEXTS
DOCUMENT_ID = st.sampled_from((f"{SENDER},2024/05/06,3805/VPCP-HC", "")) | TEXTS
MAYBE_DATE = st.none() | st.dates(date(1, 1, 1), date(9999, 12, 31))
MAYBE_TIME = st.none() | st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1))
MAYBE_NUMBER = st.none() | st.integers(-(2**40), 2**40)
ZIP_METHOD = st.sampled_from((1, 6, 12, 14, 93, 99))
DAMAGE = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=4)
BASE64_TEXT = st.text(alphabet="ABCDabcd0189+/=\r\n \t-_!é.", max_size=200)
BASE64_TAIL = st.sampled_from(("", "=", "==", "===", "A", "\n", "&#65;", "<![CDATA[QQ==]]>"))
ATTACHMENT_NAME = st.sampled_from(
    ("qd.pdf", "bao-cao.docx", "ds.xlsx", "a.zip", "không-đuôi", "../x.pdf", "")
)
CONTENT_TYPE = st.sampled_from(
    ("application/zip", "application/pdf", "application/doc", "", "x/" + "y" * 300)
)
PAYLOAD = st.sampled_from((PDF, b"", b"PK\x03\x04", bytes(range(256)))) | st.binary(max_size=600)


@st.composite
def organs(draw: st.DrawFn) -> Organ:
    return Organ(
        organ_id=draw(ORGAN_ID),
        organ_name=draw(MAYBE_TEXT),
        organization_in_charge=draw(MAYBE_TEXT),
        email=draw(MAYBE_TEXT),
    )


ORGANS = organs()
TO_LISTS = st.lists(ORGANS, max_size=3)


@st.composite
def attachment_bodies(draw: st.DrawFn) -> tuple[str, str, bytes | str]:
    name, content_type, payload = draw(ATTACHMENT_NAME), draw(CONTENT_TYPE), draw(PAYLOAD)
    kind = draw(st.integers(0, 9))
    body: bytes | str
    if kind == 0:
        body = payload
    elif kind == 1:
        body = zip_corrupt_deflate()
    elif kind == 2:
        body = zip_with_method(draw(ZIP_METHOD))
    elif kind == 3:
        body = zip_crc_wrong() if draw(st.booleans()) else zip_encrypted_flag()
    elif kind == 4:
        # A valid wrapper, then a few of its bytes damaged: the error paths of zipfile.
        wrapped = bytearray(zipped("x" + name[-5:], payload))
        for fraction, value in draw(DAMAGE):
            wrapped[int(fraction * len(wrapped))] = value
        body = bytes(wrapped)
    elif kind == 5:
        body = draw(BASE64_TEXT)
    elif kind == 6:
        text = base64.b64encode(zipped("x.pdf", payload)).decode()
        body = text[: int(draw(st.floats(0, 1)) * len(text))] + draw(BASE64_TAIL)
    else:
        body = zipped("5c7082fe" + name[-5:], payload)
    return name, content_type, body


ATTACHMENTS = st.lists(attachment_bodies(), max_size=3)


@st.composite
def base_packets(draw: st.DrawFn) -> bytes:
    """What a conforming sender writes, with random values (the builder escapes what XML needs)."""
    if draw(st.integers(0, 5)) == 0:
        packet = status(
            draw(STATUS_CODE),
            from_=draw(ORGANS),
            response_for=ResponseFor(organ_id=draw(ORGAN_ID), document_id=draw(TEXTS)),
            description=draw(MAYBE_TEXT),
        )
        return serialize(packet, indent=draw(st.booleans()))
    packet = edoc(
        from_=draw(ORGANS),
        to=draw(TO_LISTS) + [Organ(organ_id=HOSTED)] * draw(st.integers(0, 1)),
        document_id=draw(DOCUMENT_ID),
        code_number=draw(MAYBE_TEXT),
        code_notation=draw(MAYBE_TEXT),
        promulgation_date=draw(MAYBE_DATE),
        subject=draw(MAYBE_TEXT),
        content=draw(MAYBE_TEXT),
        due_date=draw(MAYBE_DATE),
        other=OtherInfo(priority=draw(MAYBE_NUMBER), page_amount=draw(MAYBE_NUMBER)),
        steering_type=draw(MAYBE_NUMBER),
        business=Business(
            doc_type=draw(st.integers(0, 3)), reason=draw(MAYBE_TEXT), document_id=draw(MAYBE_TEXT)
        ),
    )
    packet.trace[0].timestamp = draw(MAYBE_TIME)
    data = serialize(packet, indent=draw(st.booleans()))
    bodies = draw(ATTACHMENTS)
    if bodies:
        items = b"".join(
            attachment_xml(name, body, content_type, cid=f"c{i}")[
                len(b"<AttachmentEncoded>") : -len(b"</AttachmentEncoded>")
            ]
            for i, (name, content_type, body) in enumerate(bodies)
        )
        data = with_attachments(data, b"<AttachmentEncoded>" + items + b"</AttachmentEncoded>")
    return data


def mutations(nasty: Snippets) -> st.SearchStrategy[list[tuple[object, ...]]]:
    one = st.one_of(
        st.tuples(st.just("truncate"), st.floats(0, 1)),
        st.tuples(st.just("flip"), st.floats(0, 1), st.binary(min_size=1, max_size=3)),
        st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from(nasty)),
        st.tuples(st.just("drop"), st.sampled_from(ELEMENTS)),
        st.tuples(st.just("value"), st.sampled_from(ELEMENTS), st.sampled_from(HOSTILE_VALUES)),
        st.tuples(st.just("repeat"), st.sampled_from(ELEMENTS), st.integers(2, 40)),
        st.tuples(
            st.just("rename"), st.sampled_from(ELEMENTS), st.sampled_from((*ELEMENTS, "Business", "x"))
        ),
        st.tuples(st.just("namespace"), st.sampled_from(NAMESPACES)),
        st.tuples(st.just("unprefix"), st.booleans()),
        st.tuples(st.just("encode"), st.sampled_from(ENCODINGS)),
    )
    return st.lists(one, max_size=4)


def _boundary(data: bytes, fraction: float) -> int:
    """The start of the tag nearest after `fraction` of the packet (or its end)."""
    at = data.find(b"<", int(len(data) * fraction))
    return len(data) if at < 0 else at


def _element_span(data: bytes, name: str) -> tuple[int, int] | None:
    match = re.search(rb"<(?:edXML:)?%s[ >/].*?</(?:edXML:)?%s>" % (name.encode(), name.encode()), data, re.S)
    return (match.start(), match.end()) if match else None


def mutate(data: bytes, steps: list[tuple[object, ...]]) -> bytes:
    for step in steps:
        kind = step[0]
        if kind == "truncate":
            data = data[: int(len(data) * float(step[1]))]  # type: ignore[arg-type]
        elif kind == "flip":
            at = min(int(len(data) * float(step[1])), max(len(data) - 1, 0))  # type: ignore[arg-type]
            data = data[:at] + bytes(step[2]) + data[at + len(bytes(step[2])) :]  # type: ignore[arg-type]
        elif kind == "insert":
            at = _boundary(data, float(step[1]))  # type: ignore[arg-type]
            data = data[:at] + bytes(step[2]) + data[at:]  # type: ignore[arg-type]
        elif kind in ("drop", "value", "repeat"):
            span = _element_span(data, str(step[1]))
            if span is None:
                continue
            start, end = span
            element = data[start:end]
            if kind == "drop":
                data = data[:start] + data[end:]
            elif kind == "repeat":
                data = data[:start] + element * int(step[2]) + data[end:]  # type: ignore[call-overload]
            else:
                inner_start = element.index(b">") + 1
                inner_end = element.rindex(b"</")
                data = data[: start + inner_start] + bytes(step[2]) + data[start + inner_end :]  # type: ignore[arg-type]
        elif kind == "rename":
            data = re.sub(
                rb"(</?(?:edXML:)?)%s\b" % str(step[1]).encode(),
                rb"\g<1>" + str(step[2]).encode(),
                data,
                count=2,
            )
        elif kind == "namespace":
            data = data.replace(f'"{NS}"'.encode(), f'"{step[1]}"'.encode(), 1)
        elif kind == "unprefix":
            data = data.replace(b"edXML:", b"") if step[1] else data.replace(b"<edXML:", b"<EDXML:")
        elif kind == "encode":
            declared, actual, bom = step[1]  # type: ignore[misc]
            text = data.decode("utf-8", "replace").replace('encoding="UTF-8"', f'encoding="{declared}"', 1)
            data = bom + text.encode(actual, "replace")
    return data


VARIANTS = 5  # packets per drawn base: generation is amortised, each variant is read on its own


def hostile_batches(nasty: Snippets) -> st.SearchStrategy[list[bytes]]:
    """A plausible packet and VARIANTS copies of it, each broken by its own 0–4 mutations."""
    return st.builds(
        lambda base, steps: [mutate(base, s) for s in steps],
        base_packets(),
        st.lists(mutations(nasty), min_size=VARIANTS, max_size=VARIANTS),
    )
