"""Parse edXML packets safely, leniently and in bounded memory.

Safe: libxml2 runs with entity resolution, DTD loading and network access off, and any
DOCTYPE is refused outright (so an entity bomb or an external entity never gets a chance).
Bounded: the packet is fed in chunks to a SAX-style target, so the base64 of an attachment
is never one string: it is decoded in chunks straight into a temporary file; only the
header text is kept, under per-element and per-packet limits.
Lenient: names are matched by local name in the QCVN namespace or none (prefixed or not,
any order, Business or Bussiness), empty elements are fine, dates and status codes are read
in every form seen, attachments are unzipped when they are a one-entry ZIP wrapper.
"""

from __future__ import annotations

import binascii
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

import pybase64
from lxml import etree

from vanthu_contracts.events import interop as contract
from vanthu_interop.edxml import files
from vanthu_interop.edxml.model import (
    DSIG_NS,
    NS,
    Attachment,
    Business,
    EdocPacket,
    Organ,
    OtherInfo,
    Receiver,
    Replacement,
    ResponseFor,
    StaffInfo,
    StatusPacket,
    Trace,
)
from vanthu_interop.edxml.values import read_bool, read_date, read_int, read_time, status_code, strip_cid
from vanthu_runtime.errors import AppError

FEED_CHUNK = 1 << 20
_WHITESPACE = str.maketrans("", "", " \t\r\n")


@dataclass(frozen=True)
class ParseLimits:
    max_packet_bytes: int = 600 << 20
    max_attachment_bytes: int = 600 << 20
    max_text_chars: int = 1 << 20  # any one header element
    max_header_chars: int = 8 << 20  # all header text together
    max_elements: int = 50_000  # a packet to 1,000 recipients with 1,000 attachments has ~20,000
    max_depth: int = 64
    max_attachments: int = 1000


class _Refused(Exception):
    def __init__(self, error: AppError) -> None:
        super().__init__(str(error))
        self.error = error


def _fail(code: object, reason: str) -> _Refused:
    return _Refused(AppError(code, {"reason": reason}))  # type: ignore[arg-type]


def _norm(local: str) -> str:
    # Bkav and others write Business*; the standard's (and VNPT's) spelling is Bussiness*.
    return local.lower().replace("business", "bussiness")


class _Node:
    __slots__ = ("attachment_file", "chars", "children", "name", "parts")

    def __init__(self, name: str) -> None:
        self.name = name
        self.children: list[_Node] = []
        self.parts: list[str] = []
        self.chars = 0  # length of parts, kept as they come (summing them each time is quadratic)
        self.attachment_file: _DecodedFile | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    def child(self, name: str) -> _Node | None:
        return next((c for c in self.children if c.name == name), None)

    def all(self, name: str) -> list[_Node]:
        return [c for c in self.children if c.name == name]

    def value(self, name: str) -> str | None:
        node = self.child(name)
        return None if node is None else node.text

    def find(self, name: str) -> _Node | None:
        """First descendant with that name, depth first."""
        for c in self.children:
            if c.name == name:
                return c
            found = c.find(name)
            if found is not None:
                return found
        return None


class _DecodedFile:
    """Base64 text in, decoded bytes out to a file, in chunks; hashes as it writes."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self._sink: BinaryIO = path.open("wb")
        # Hashing waits for the first bytes: a ZIP wrapper is hashed after unzipping, not twice.
        self._digest: Any = None
        self._pending = ""
        self._limit = limit
        self.size = 0
        self.head = b""

    def feed(self, text: str) -> None:
        text = self._pending + text
        usable = len(text) - len(text) % 4
        try:
            # Most packets carry base64 without line breaks: decode as is, strictly.
            data = pybase64.b64decode(text[:usable], validate=True) if usable else b""
        except (binascii.Error, ValueError):
            text = text.translate(_WHITESPACE)  # wrapped lines (76 columns, CRLF …)
            usable = len(text) - len(text) % 4
            data = self._decode(text[:usable])
        self._pending = text[usable:]
        if data:
            self._write(data)

    @staticmethod
    def _decode(text: str) -> bytes:
        try:
            return pybase64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _fail(contract.EDXML_ATTACHMENT_INVALID, f"bad base64: {exc}") from None

    def _write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self._limit:
            raise _fail(contract.EDXML_TOO_LARGE, f"attachment larger than {self._limit} bytes")
        if self.size == len(data) and not data.startswith(files.ZIP_MAGIC[: len(data)]):
            self._digest = hashlib.sha256()  # the first bytes are not a ZIP: hash as we go
        if len(self.head) < 8:
            self.head += data[: 8 - len(self.head)]
        if self._digest is not None:
            self._digest.update(data)
        self._sink.write(data)

    def finish(self) -> None:
        if self._pending:
            # Some encoders drop the final padding; restore it rather than refuse the file.
            rest = self._pending.translate(_WHITESPACE)
            self._write(self._decode(rest + "=" * (-len(rest) % 4)))
            self._pending = ""
        self._sink.close()

    def abort(self) -> None:
        self._sink.close()

    @property
    def sha256(self) -> str | None:
        """None when the bytes looked like a ZIP and were not hashed while decoding."""
        return self._digest.hexdigest() if self._digest is not None else None


class _Target:
    """lxml parser target: builds a small tree of the header, streams attachments to files."""

    def __init__(self, workdir: _LazyDir, limits: ParseLimits, *, attachments: bool = True) -> None:
        self.workdir = workdir
        self.limits = limits
        self.keep_attachments = attachments
        self.root: _Node | None = None
        self.stack: list[_Node] = []
        self.skip_depth = 0
        self.elements = 0
        self.header_chars = 0
        self.doc_ns: str | None = None
        self.decoders: list[_DecodedFile] = []
        self._decoder: _DecodedFile | None = None

    def doctype(self, *_: object) -> None:
        raise _fail(contract.EDXML_FORBIDDEN, "DOCTYPE declarations are not accepted")

    def start(self, tag: str, attrib: object, nsmap: object = None) -> None:
        # Skipped subtrees (a signature, foreign extensions) count too: millions of empty
        # elements inside one would otherwise cost minutes of callbacks.
        self.elements += 1
        if self.elements > self.limits.max_elements:
            raise _fail(contract.EDXML_TOO_LARGE, "too many elements")
        if len(self.stack) + self.skip_depth >= self.limits.max_depth:
            raise _fail(contract.EDXML_TOO_LARGE, "elements nested too deeply")
        if self.skip_depth:
            self.skip_depth += 1
            return
        ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        if self.root is None:
            if local not in ("edXML", "edXMLEnvelope"):
                raise _fail(contract.EDXML_INVALID, f"root element is <{local}>, not <edXML>")
            self.doc_ns = ns
        elif (
            ns not in ("", NS, self.doc_ns)
            or ns == DSIG_NS
            or local == "Signature"
            or (local == "ContentTransferEncoded" and not self.keep_attachments)
        ):
            # The XMLDSig block and foreign extensions carry nothing we read.
            self.skip_depth = 1
            return
        node = _Node(_norm(local))
        if self.root is None:
            self.root = node
        else:
            self.stack[-1].children.append(node)
        self.stack.append(node)
        if (
            node.name == "contenttransferencoded"
            and len(self.stack) >= 2
            and self.stack[-2].name == "attachment"
        ):
            if len(self.decoders) >= self.limits.max_attachments:
                raise _fail(contract.EDXML_TOO_LARGE, "too many attachments")
            decoder = _DecodedFile(
                self.workdir.path / f"a{len(self.decoders)}.bin", self.limits.max_attachment_bytes
            )
            self.decoders.append(decoder)
            node.attachment_file = decoder
            self._decoder = decoder

    def end(self, tag: str) -> None:
        if self.skip_depth:
            self.skip_depth -= 1
            return
        node = self.stack.pop()
        if node.attachment_file is not None:
            node.attachment_file.finish()
            self._decoder = None
        elif node.children:
            node.parts.clear()  # indentation between child elements
            node.chars = 0

    def data(self, text: str) -> None:
        if self.skip_depth or not self.stack:
            return
        if self._decoder is not None:
            self._decoder.feed(text)
            return
        node = self.stack[-1]
        self.header_chars += len(text)
        if self.header_chars > self.limits.max_header_chars:
            raise _fail(contract.EDXML_TOO_LARGE, "header text too long")
        node.chars += len(text)
        if node.chars > self.limits.max_text_chars:
            raise _fail(contract.EDXML_TOO_LARGE, f"text of <{node.name}> too long")
        node.parts.append(text)

    def comment(self, _: str) -> None:
        return None

    def pi(self, *_: object) -> None:
        return None

    def close(self) -> _Node | None:
        return self.root


class _LazyDir:
    """The temporary directory of one parse, made only when an attachment needs it."""

    def __init__(self, parent: Path | None) -> None:
        self.parent = parent
        self._path: Path | None = None

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = Path(tempfile.mkdtemp(prefix="edxml-", dir=self.parent))
        return self._path

    def remove(self) -> None:
        if self._path is not None:
            shutil.rmtree(self._path, ignore_errors=True)
            self._path = None


class ParsedPacket:
    """A parsed packet and the temporary files holding its attachments (close() removes them)."""

    def __init__(self, packet: EdocPacket | StatusPacket, workdir: _LazyDir) -> None:
        self.packet = packet
        self._workdir = workdir

    def close(self) -> None:
        self._workdir.remove()

    def __enter__(self) -> ParsedPacket:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@contextmanager
def _opened(source: Path | str | bytes | BinaryIO) -> Iterator[IO[bytes]]:
    if isinstance(source, bytes | bytearray):
        import io

        yield io.BytesIO(source)
    elif isinstance(source, Path | str):
        with Path(source).open("rb") as handle:
            yield handle
    else:
        yield source


def parse(
    source: Path | str | bytes | BinaryIO,
    *,
    limits: ParseLimits | None = None,
    workdir: Path | None = None,
    attachments: bool = True,
) -> ParsedPacket:
    """Parse a packet; raises AppError with an interop.edxml_* code when it cannot.

    With `attachments=False` only the header is read (the attachment bodies are skipped
    unread), which is what routing a packet needs.
    """
    limits = limits or ParseLimits()
    work = _LazyDir(workdir)
    try:
        tree = _read_tree(source, limits, work, attachments)
        packet = _interpret(tree, work, limits)
    except BaseException:
        work.remove()
        raise
    return ParsedPacket(packet, work)


def _read_tree(
    source: Path | str | bytes | BinaryIO, limits: ParseLimits, work: _LazyDir, attachments: bool
) -> _Node:
    target = _Target(work, limits, attachments=attachments)
    parser = etree.XMLParser(
        target=target,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    total = 0
    try:
        with _opened(source) as handle:
            while chunk := handle.read(FEED_CHUNK):
                total += len(chunk)
                if total > limits.max_packet_bytes:
                    raise _fail(
                        contract.EDXML_TOO_LARGE, f"packet larger than {limits.max_packet_bytes} bytes"
                    )
                parser.feed(chunk)
        if total == 0:
            raise _fail(contract.EDXML_MALFORMED, "empty packet")
        root = parser.close()
    except _Refused as refused:
        for decoder in target.decoders:
            decoder.abort()
        raise refused.error from None
    except etree.XMLSyntaxError as exc:
        for decoder in target.decoders:
            decoder.abort()
        reason = str(exc).splitlines()[0] if str(exc) else "syntax error"
        if "entity" in reason.lower() or "doctype" in reason.lower():
            raise AppError(contract.EDXML_FORBIDDEN, {"reason": reason}) from None
        raise AppError(contract.EDXML_MALFORMED, {"reason": reason}) from None
    if root is None:
        raise AppError(contract.EDXML_MALFORMED, {"reason": "no root element"})
    return root


# -- from the tree to the model ------------------------------------------------------------


def _organ(node: _Node | None) -> Organ:
    if node is None:
        return Organ()
    return Organ(
        organ_id=node.value("organid"),
        organ_name=node.value("organname"),
        organization_in_charge=node.value("organizationincharge"),
        organ_add=node.value("organadd"),
        email=node.value("email"),
        telephone=node.value("telephone"),
        fax=node.value("fax"),
        website=node.value("website"),
    )


def _response_for(node: _Node) -> ResponseFor:
    return ResponseFor(
        organ_id=node.value("organid"),
        code=node.value("code"),
        promulgation_date=read_date(node.value("promulgationdate")),
        document_id=node.value("documentid"),
    )


def _staff(node: _Node | None) -> StaffInfo | None:
    if node is None:
        return None
    return StaffInfo(
        department=node.value("department"),
        staff=node.value("staff"),
        mobile=node.value("mobile"),
        email=node.value("email"),
    )


def _is_empty(node: _Node) -> bool:
    return not node.text and all(_is_empty(c) for c in node.children)


def _business(node: _Node | None) -> Business:
    if node is None:
        return Business()  # packets re-serialised by the axis may drop it: treat as new
    info = node.child("bussinessdocumentinfo")
    receivers: list[Receiver] = []
    if info is not None:
        receiver_list = info.child("receiverlist")
        for item in receiver_list.all("receiver") if receiver_list is not None else []:
            receivers.append(
                Receiver(organ_id=item.value("organid"), receiver_type=read_int(item.value("receivertype")))
            )
    replacements = []
    replacement_list = node.child("replacementinfolist")
    for item in replacement_list.all("replacementinfo") if replacement_list is not None else []:
        organs = item.child("organidlist")
        replacements.append(
            Replacement(
                document_id=item.value("documentid"),
                organ_ids=[o.text for o in organs.all("organid")] if organs is not None else [],
            )
        )
    doc_type = read_int(node.value("bussinessdoctype"))
    return Business(
        doc_type=doc_type if doc_type in (0, 1, 2, 3) else 0,
        reason=node.value("bussinessdocreason"),
        paper=read_int(node.value("paper")),
        document_id=node.value("documentid"),
        document_info=read_int(info.value("documentinfo")) if info is not None else None,
        document_receiver=read_int(info.value("documentreceiver")) if info is not None else None,
        receivers=receivers,
        replacements=replacements,
        staff=_staff(node.child("staffinfo")),
    )


def _interpret(root: _Node, work: _LazyDir, limits: ParseLimits) -> EdocPacket | StatusPacket:
    header = root.find("messageheader")
    if header is None:
        raise AppError(contract.EDXML_INVALID, {"reason": "no MessageHeader"})
    if header.child("from") is None:
        raise AppError(contract.EDXML_INVALID, {"reason": "no From"})
    if header.child("statuscode") is not None:
        return _status(header)
    return _edoc(root, header, work, limits)


def _status(header: _Node) -> StatusPacket:
    response = header.child("responsefor")
    return StatusPacket(
        from_=_organ(header.child("from")),
        response_for=_response_for(response) if response is not None else ResponseFor(),
        staff=_staff(header.child("staffinfo")),
        status_code=status_code(header.value("statuscode")),
        description=header.value("description"),
        timestamp=read_time(header.value("timestamp")),
    )


def _edoc(root: _Node, header: _Node, work: _LazyDir, limits: ParseLimits) -> EdocPacket:
    code = header.child("code")
    promulgation = header.child("promulgationinfo")
    doc_type = header.child("documenttype")
    signer = header.child("signerinfo")
    other = header.child("otherinfo")
    places = header.child("toplaces")
    traces = root.find("traceheaderlist")
    business = root.find("bussiness")
    appendixes = other.child("appendixes") if other is not None else None
    packet = EdocPacket(
        from_=_organ(header.child("from")),
        to=[_organ(t) for t in header.all("to") if not _is_empty(t)],
        document_id=header.value("documentid"),
        code_number=code.value("codenumber") if code is not None else None,
        code_notation=code.value("codenotation") if code is not None else None,
        promulgation_place=promulgation.value("place") if promulgation is not None else None,
        promulgation_date=read_date(promulgation.value("promulgationdate"))
        if promulgation is not None
        else None,
        type=read_int(doc_type.value("type")) if doc_type is not None else None,
        type_detail=read_int(doc_type.value("typedetail")) if doc_type is not None else None,
        type_name=doc_type.value("typename") if doc_type is not None else None,
        subject=header.value("subject"),
        content=header.value("content"),
        signer_competence=signer.value("competence") if signer is not None else None,
        signer_position=signer.value("position") if signer is not None else None,
        signer_full_name=signer.value("fullname") if signer is not None else None,
        due_date=read_date(header.value("duedate")),
        other=OtherInfo(
            priority=read_int(other.value("priority")),
            sphere_of_promulgation=other.value("sphereofpromulgation"),
            typer_notation=other.value("typernotation"),
            promulgation_amount=read_int(other.value("promulgationamount")),
            page_amount=read_int(other.value("pageamount")),
            direction=read_bool(other.value("direction")),
            appendixes=[a.text for a in appendixes.all("appendix")] if appendixes is not None else [],
        )
        if other is not None
        else OtherInfo(),
        response_for=[_response_for(r) for r in header.all("responsefor") if not _is_empty(r)],
        steering_type=read_int(header.value("steeringtype")),
        to_places=[p.text for p in places.all("place")] if places is not None else [],
        trace=[
            Trace(organ_id=t.value("organid"), timestamp=read_time(t.value("timestamp")))
            for t in (traces.all("traceheader") if traces is not None else [])
        ],
        business=_business(business),
        attachments=_attachments(root, work, limits),
    )
    return packet


def _attachments(root: _Node, work: _LazyDir, limits: ParseLimits) -> list[Attachment]:
    manifest = root.find("edxmlmanifest")
    references = {
        strip_cid(ref.value("contentid")) or f"#{i}": ref
        for i, ref in enumerate(manifest.all("reference") if manifest is not None else [])
    }
    encoded = root.find("attachmentencoded")
    result: list[Attachment] = []
    for index, item in enumerate(encoded.all("attachment") if encoded is not None else []):
        content_id = strip_cid(item.value("contentid"))
        reference = references.get(content_id or "") or references.get(f"#{index}")
        name = item.value("attachmentname") or (reference.value("attachmentname") if reference else None)
        body = item.child("contenttransferencoded")
        decoded = body.attachment_file if body is not None else None
        if decoded is None:
            continue
        result.append(
            _finish_attachment(
                decoded,
                work.path / f"file{index}",
                name=name or f"attachment-{index + 1}",
                content_id=content_id,
                description=item.value("description")
                or (reference.value("description") if reference else None),
                declared_types=(
                    reference.value("contenttype") if reference is not None else None,
                    item.value("contenttype"),
                ),
                limit=limits.max_attachment_bytes,
            )
        )
    return result


def _finish_attachment(
    decoded: _DecodedFile,
    target: Path,
    *,
    name: str,
    content_id: str | None,
    description: str | None,
    declared_types: tuple[str | None, str | None],
    limit: int,
) -> Attachment:
    zipped = False
    sha256, size = decoded.sha256, decoded.size
    if decoded.head.startswith(files.ZIP_MAGIC):
        entry = files.single_entry(decoded.path, name)
        if entry is not None:
            try:
                with target.open("wb") as sink:
                    digest = files.unzip_entry(decoded.path, entry, sink, limit)
            except files.ZipTooLarge:
                raise AppError(
                    contract.EDXML_TOO_LARGE, {"reason": f"unzipped attachment over {limit} bytes"}
                ) from None
            except files.UNZIP_ERRORS as exc:
                # A corrupt wrapper: bad CRC or deflate data, an unknown method, a lying header.
                reason = f"bad ZIP: {type(exc).__name__}: {str(exc)[:200]}"
                raise AppError(contract.EDXML_ATTACHMENT_INVALID, {"reason": reason}) from None
            decoded.path.unlink()
            zipped = True
            sha256, size = digest.sha256, digest.size
    if not zipped:
        decoded.path.rename(target)
        if sha256 is None:  # a real ZIP attachment: hash it now
            digest = files.file_digest(target)
            sha256, size = digest.sha256, digest.size
    with target.open("rb") as handle:
        head = handle.read(8)
    content_type = None
    for declared in declared_types:
        normalized = files.normalize_content_type(declared)
        if normalized and (not files.is_zip_type(normalized) or head.startswith(files.ZIP_MAGIC)):
            content_type = normalized
            break
    return Attachment(
        name=name,
        content_type=content_type or files.guess_content_type(name, head),
        content_id=content_id,
        description=description,
        path=target,
        size=size,
        sha256=sha256,
        zipped=zipped,
    )
