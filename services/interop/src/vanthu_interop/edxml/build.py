"""Build edXML packets exactly as the VNPT library (EdXML102) writes them.

Strict in what we send: the element order of the library, the `edXML:` prefix on every
descendant of the envelope, unprefixed `AttachmentEncoded/Attachment/*` except
`edXML:ContentTransferEncoded`, which re-declares the prefix; dates `yyyy/MM/dd`. A value
that is None is left out; an empty string is written as an empty element.

Attachments are streamed: each file is ZIP-wrapped into a spooled temporary file and
base64-encoded to the output in chunks, so building never holds a whole file in memory.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

import pybase64

from vanthu_interop.edxml import files
from vanthu_interop.edxml.model import (
    BUSINESS_REASONS,
    NS,
    Attachment,
    Business,
    EdocPacket,
    Organ,
    ResponseFor,
    StaffInfo,
    StatusPacket,
)
from vanthu_interop.edxml.values import write_bool, write_date, write_time

# base64 of 3 * 2^18 bytes is 1 MiB of text; a multiple of 3 keeps chunks joinable.
_ENCODE_CHUNK = 3 * (1 << 18)
_SPOOL_BYTES = 8 << 20
# XML 1.0 forbids most control characters; a stray one in a subject must not make the packet unreadable.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class BuildOptions:
    zip_attachments: bool = True
    cid_prefix: bool = True
    zip_compression: str = "auto"  # auto | deflate | store
    indent: bool = True


@dataclass(frozen=True)
class BuildResult:
    sha256: str
    size: int
    attachments: list[Attachment]


class _HashingSink:
    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._digest.update(data)
        self._sink.write(data)
        self.size += len(data)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


class _Xml:
    """A small writer of the exact prefixes and indentation we want (lxml picks prefixes itself)."""

    def __init__(self, indent: bool) -> None:
        self.parts: list[str] = []
        self.depth = 0
        self.indent = indent

    def _pad(self) -> str:
        return "\n" + "  " * self.depth if self.indent else ""

    def open(self, tag: str, attrs: str = "") -> None:
        self.parts.append(f"{self._pad()}<{tag}{attrs}>")
        self.depth += 1

    def close(self, tag: str) -> None:
        self.depth -= 1
        self.parts.append(f"{self._pad()}</{tag}>")

    def leaf(self, tag: str, value: object | None) -> None:
        if value is None:
            return
        text = _INVALID_XML_CHARS.sub("", str(value))
        self.parts.append(f"{self._pad()}<{tag}>{escape(text)}</{tag}>")

    def raw(self, text: str) -> None:
        self.parts.append(text)

    def flush(self, sink: _HashingSink) -> None:
        if self.parts:
            sink.write("".join(self.parts).encode("utf-8"))
            self.parts.clear()


def _e(name: str) -> str:
    return f"edXML:{name}"


def _organ(xml: _Xml, tag: str, organ: Organ) -> None:
    xml.open(_e(tag))
    xml.leaf(_e("OrganId"), organ.organ_id)
    xml.leaf(_e("OrganizationInCharge"), organ.organization_in_charge)
    xml.leaf(_e("OrganName"), organ.organ_name)
    xml.leaf(_e("OrganAdd"), organ.organ_add)
    xml.leaf(_e("Email"), organ.email)
    xml.leaf(_e("Telephone"), organ.telephone)
    xml.leaf(_e("Fax"), organ.fax)
    xml.leaf(_e("Website"), organ.website)
    xml.close(_e(tag))


def _response_for(xml: _Xml, item: ResponseFor) -> None:
    xml.open(_e("ResponseFor"))
    xml.leaf(_e("OrganId"), item.organ_id)
    xml.leaf(_e("Code"), item.code)
    xml.leaf(_e("PromulgationDate"), write_date(item.promulgation_date))
    xml.leaf(_e("DocumentId"), item.document_id)
    xml.close(_e("ResponseFor"))


def _staff(xml: _Xml, staff: StaffInfo | None, *, status_order: bool) -> None:
    if staff is None:
        return
    xml.open(_e("StaffInfo"))
    xml.leaf(_e("Department"), staff.department)
    xml.leaf(_e("Staff"), staff.staff)
    if status_order:  # status samples: Mobile before Email; Bussiness samples: Email before Mobile
        xml.leaf(_e("Mobile"), staff.mobile)
        xml.leaf(_e("Email"), staff.email)
    else:
        xml.leaf(_e("Email"), staff.email)
        xml.leaf(_e("Mobile"), staff.mobile)
    xml.close(_e("StaffInfo"))


def _business(xml: _Xml, business: Business) -> None:
    xml.open(_e("Bussiness"))
    xml.leaf(_e("DocumentId"), business.document_id)
    xml.leaf(_e("BussinessDocType"), business.doc_type)
    xml.leaf(_e("BussinessDocReason"), business.reason)
    xml.leaf(_e("Paper"), business.paper)
    if business.doc_type == 2 or business.receivers or business.document_info is not None:
        xml.open(_e("BussinessDocumentInfo"))
        xml.leaf(_e("DocumentInfo"), business.document_info)
        xml.leaf(_e("DocumentReceiver"), business.document_receiver)
        if business.receivers:
            xml.open(_e("ReceiverList"))
            for receiver in business.receivers:
                xml.open(_e("Receiver"))
                xml.leaf(_e("OrganId"), receiver.organ_id)
                xml.leaf(_e("ReceiverType"), receiver.receiver_type)
                xml.close(_e("Receiver"))
            xml.close(_e("ReceiverList"))
        xml.close(_e("BussinessDocumentInfo"))
    if business.replacements:
        xml.open(_e("ReplacementInfoList"))
        for item in business.replacements:
            xml.open(_e("ReplacementInfo"))
            xml.leaf(_e("DocumentId"), item.document_id)
            xml.open(_e("OrganIdList"))
            for organ_id in item.organ_ids:
                xml.leaf(_e("OrganId"), organ_id)
            xml.close(_e("OrganIdList"))
            xml.close(_e("ReplacementInfo"))
        xml.close(_e("ReplacementInfoList"))
    _staff(xml, business.staff, status_order=False)
    xml.close(_e("Bussiness"))


def _prepare_attachments(attachments: Iterable[Attachment], options: BuildOptions) -> list[Attachment]:
    ready = []
    for item in attachments:
        content = item.content
        if content is None:
            raise ValueError(f"attachment {item.name!r} has no file")
        content_id = item.content_id or str(uuid.uuid4())
        with files.open_content(content) as head_source:
            head = head_source.read(8)
        content_type = files.normalize_content_type(item.content_type) or files.guess_content_type(
            item.name, head
        )
        ready.append(replace(item, content_id=content_id, content_type=content_type))
    return ready


def _cid(content_id: str, options: BuildOptions) -> str:
    return f"cid:{content_id}" if options.cid_prefix else content_id


def _header_start(xml: _Xml) -> None:
    xml.raw('<?xml version="1.0" encoding="UTF-8"?>')
    xml.raw(f"{chr(10) if xml.indent else ''}<edXML xmlns={quoteattr(NS)}>")
    xml.depth = 1
    xml.open("edXML:edXMLEnvelope", f" xmlns:edXML={quoteattr(NS)}")
    xml.open(_e("edXMLHeader"))
    xml.open(_e("MessageHeader"))


def _message_header(xml: _Xml, packet: EdocPacket) -> None:
    _organ(xml, "From", packet.from_)
    for organ in packet.to:
        _organ(xml, "To", organ)
    xml.leaf(_e("DocumentId"), packet.document_id)
    xml.open(_e("Code"))
    xml.leaf(_e("CodeNumber"), packet.code_number)
    xml.leaf(_e("CodeNotation"), packet.code_notation)
    xml.close(_e("Code"))
    xml.open(_e("PromulgationInfo"))
    xml.leaf(_e("Place"), packet.promulgation_place)
    xml.leaf(_e("PromulgationDate"), write_date(packet.promulgation_date))
    xml.close(_e("PromulgationInfo"))
    xml.open(_e("DocumentType"))
    xml.leaf(_e("Type"), packet.type)
    xml.leaf(_e("TypeDetail"), packet.type_detail)
    xml.leaf(_e("TypeName"), packet.type_name)
    xml.close(_e("DocumentType"))
    xml.leaf(_e("Subject"), packet.subject)
    xml.leaf(_e("Content"), packet.content)
    xml.open(_e("SignerInfo"))
    xml.leaf(_e("Competence"), packet.signer_competence)
    xml.leaf(_e("Position"), packet.signer_position)
    xml.leaf(_e("FullName"), packet.signer_full_name)
    xml.close(_e("SignerInfo"))
    xml.leaf(_e("DueDate"), write_date(packet.due_date))
    other = packet.other
    xml.open(_e("OtherInfo"))
    xml.leaf(_e("Priority"), other.priority)
    xml.leaf(_e("SphereOfPromulgation"), other.sphere_of_promulgation)
    xml.leaf(_e("TyperNotation"), other.typer_notation)
    xml.leaf(_e("PromulgationAmount"), other.promulgation_amount)
    xml.leaf(_e("PageAmount"), other.page_amount)
    xml.leaf(_e("Direction"), write_bool(other.direction))
    if other.appendixes:
        xml.open(_e("Appendixes"))
        for appendix in other.appendixes:
            xml.leaf(_e("Appendix"), appendix)
        xml.close(_e("Appendixes"))
    xml.close(_e("OtherInfo"))
    for item in packet.response_for:
        _response_for(xml, item)
    xml.leaf(_e("SteeringType"), packet.steering_type)
    if packet.to_places:
        xml.open(_e("ToPlaces"))
        for place in packet.to_places:
            xml.leaf(_e("Place"), place)
        xml.close(_e("ToPlaces"))


def build_edoc(packet: EdocPacket, sink: BinaryIO, options: BuildOptions | None = None) -> BuildResult:
    """Write a document packet to `sink`; returns its SHA-256 (as the VNPT builder does)."""
    options = options or BuildOptions()
    out = _HashingSink(sink)
    attachments = _prepare_attachments(packet.attachments, options)
    xml = _Xml(options.indent)
    _header_start(xml)
    _message_header(xml, packet)
    xml.close(_e("MessageHeader"))
    xml.open(_e("TraceHeaderList"))
    for trace in packet.trace:
        xml.open(_e("TraceHeader"))
        xml.leaf(_e("OrganId"), trace.organ_id)
        xml.leaf(_e("Timestamp"), write_time(trace.timestamp))
        xml.close(_e("TraceHeader"))
    # Without an explicit block, write the library's default: a new document, no paper copy.
    business = packet.business or Business(
        doc_type=0, reason=BUSINESS_REASONS[0], paper=0, document_id=packet.document_id
    )
    _business(xml, business)
    xml.close(_e("TraceHeaderList"))
    xml.close(_e("edXMLHeader"))
    xml.open(_e("edXMLBody"))
    xml.open(_e("edXMLManifest"), ' version="1.0"')
    for item in attachments:
        xml.open(_e("Reference"))
        xml.leaf(_e("ContentId"), _cid(item.content_id or "", options))
        xml.leaf(_e("ContentType"), item.content_type)
        xml.leaf(_e("Description"), item.description)
        xml.leaf(_e("AttachmentName"), item.name)
        xml.close(_e("Reference"))
    xml.close(_e("edXMLManifest"))
    xml.close(_e("edXMLBody"))
    xml.close("edXML:edXMLEnvelope")
    if attachments:
        xml.open("AttachmentEncoded")
        for item in attachments:
            xml.open("Attachment")
            xml.leaf("ContentId", _cid(item.content_id or "", options))
            xml.leaf("AttachmentName", item.name)
            xml.leaf("Description", item.description)
            xml.leaf("ContentType", "application/zip" if options.zip_attachments else item.content_type)
            xml.raw(f"{xml._pad()}<edXML:ContentTransferEncoded xmlns:edXML={quoteattr(NS)}>")
            xml.flush(out)
            _encode_attachment(item, out, options)
            xml.raw("</edXML:ContentTransferEncoded>")
            xml.close("Attachment")
        xml.close("AttachmentEncoded")
    xml.close("edXML")
    xml.raw("\n" if options.indent else "")
    xml.flush(out)
    return BuildResult(out.sha256, out.size, attachments)


def _encode_attachment(item: Attachment, out: _HashingSink, options: BuildOptions) -> None:
    content = item.content
    assert content is not None
    if options.zip_attachments:
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as wrapped:
            files.zip_wrap(content, item.name, wrapped, compression=options.zip_compression)
            wrapped.seek(0)
            _base64_stream(wrapped, out)
    else:
        with files.open_content(content) as source:
            _base64_stream(source, out)


def _base64_stream(source: BinaryIO, out: _HashingSink) -> None:
    while chunk := source.read(_ENCODE_CHUNK):
        out.write(pybase64.b64encode(chunk))  # SIMD: ~50× the standard library


def build_status(packet: StatusPacket, sink: BinaryIO, options: BuildOptions | None = None) -> BuildResult:
    options = options or BuildOptions()
    out = _HashingSink(sink)
    xml = _Xml(options.indent)
    _header_start(xml)
    _organ(xml, "From", packet.from_)
    _response_for(xml, packet.response_for)
    _staff(xml, packet.staff, status_order=True)
    xml.leaf(_e("StatusCode"), packet.status_code)
    xml.leaf(_e("Description"), packet.description)
    xml.leaf(_e("Timestamp"), write_time(packet.timestamp))
    xml.close(_e("MessageHeader"))
    xml.close(_e("edXMLHeader"))
    xml.close("edXML:edXMLEnvelope")
    xml.close("edXML")
    xml.raw("\n" if options.indent else "")
    xml.flush(out)
    return BuildResult(out.sha256, out.size, [])


def build(
    packet: EdocPacket | StatusPacket, sink: BinaryIO, options: BuildOptions | None = None
) -> BuildResult:
    if isinstance(packet, StatusPacket):
        return build_status(packet, sink, options)
    return build_edoc(packet, sink, options)


def build_file(
    packet: EdocPacket | StatusPacket, path: Path, options: BuildOptions | None = None
) -> BuildResult:
    with path.open("wb") as sink:
        return build(packet, sink, options)
