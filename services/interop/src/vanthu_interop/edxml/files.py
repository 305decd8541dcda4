"""Attachment bytes: ZIP wrapping and unwrapping, content types, hashing while copying.

The VNPT library wraps each file in a ZIP whose single entry is `<uuid>.<ext>` and labels
the Attachment `application/zip`; receivers check the magic bytes, not the label.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import shutil
import struct
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

COPY_CHUNK = 1 << 20
ZIP_MAGIC = b"PK\x03\x04"
# Formats that are ZIP archives themselves; a wrapper around one holds an entry of the same suffix.
ZIP_BASED_SUFFIXES = {
    ".zip",
    ".docx",
    ".xlsx",
    ".pptx",
    ".odt",
    ".ods",
    ".odp",
    ".epub",
    ".jar",
    ".xps",
    ".kmz",
}
ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/x-zip"}

# Typos and variants seen in the VNPT jar and in other vendors' packets.
_CONTENT_TYPE_FIXES = {
    "application/doc": "application/msword",
    "application/docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/xsl": "application/vnd.ms-excel",
    "application/xls": "application/vnd.ms-excel",
    "application/xslx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_EXTRA_TYPES = {
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".edxml": "application/xml",
}


# One entry's central-directory record is at most 46 bytes plus three 64 KiB fields; a larger
# directory is no single-file wrapper, and reading it (millions of entries) costs seconds.
MAX_WRAPPER_DIRECTORY = 46 + 3 * 0xFFFF
_END_OF_DIRECTORY = b"PK\x05\x06"
# What reading a hostile archive raises besides ZipTooLarge.
UNZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,  # an unsupported compression method
    RuntimeError,  # encrypted
    struct.error,
    OSError,
    ValueError,
    EOFError,
)


class ZipTooLarge(Exception):
    """The unzipped entry is larger than allowed (a zip bomb, or just too big)."""


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int


def normalize_content_type(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().lower().split(";")[0].strip()
    if not text:
        return None
    return _CONTENT_TYPE_FIXES.get(text, text)


def guess_content_type(name: str | None, head: bytes = b"") -> str:
    suffix = Path(name or "").suffix.lower()
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name or "", strict=False)
    if guessed:
        return guessed
    if head.startswith(b"%PDF"):
        return "application/pdf"
    if head.startswith(ZIP_MAGIC):
        return "application/zip"
    return "application/octet-stream"


def is_zip_type(content_type: str | None) -> bool:
    return normalize_content_type(content_type) in ZIP_TYPES


def copy_with_digest(source: BinaryIO, sink: BinaryIO, limit: int | None = None) -> Digest:
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(COPY_CHUNK):
        size += len(chunk)
        if limit is not None and size > limit:
            raise ZipTooLarge(size)
        digest.update(chunk)
        sink.write(chunk)
    return Digest(digest.hexdigest(), size)


def file_digest(path: Path) -> Digest:
    with path.open("rb") as source:
        digest = hashlib.sha256()
        size = 0
        while chunk := source.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Digest(digest.hexdigest(), size)


def open_content(content: Path | bytes) -> BinaryIO:
    """A binary reader over an attachment's content: its file, or its bytes in memory."""
    return io.BytesIO(content) if isinstance(content, bytes) else content.open("rb")


def _compressible(content: Path | bytes) -> bool:
    """Deflate only what shrinks: PDFs, DOCX and scans are already compressed.

    Deflating 20 MB of incompressible bytes costs far more than the transfer it saves.
    """
    with open_content(content) as source:
        sample = source.read(256 * 1024)
    if not sample:
        return False
    return len(zlib.compress(sample, 1)) < 0.9 * len(sample)


def zip_wrap(content: Path | bytes, name: str, sink: BinaryIO, *, compression: str = "auto") -> None:
    """Write a ZIP with one entry `<uuid>.<ext of name>` holding the file (streamed) or bytes."""
    suffix = Path(name).suffix
    entry = f"{uuid.uuid4()}{suffix}"
    if compression == "store" or (compression == "auto" and not _compressible(content)):
        method = zipfile.ZIP_STORED
    else:
        method = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(sink, "w", compression=method, compresslevel=6 if method else None) as archive:
        info = zipfile.ZipInfo(entry)
        info.compress_type = method
        # The size up front lets zipfile choose ZIP64 when needed.
        info.file_size = len(content) if isinstance(content, bytes) else content.stat().st_size
        with archive.open(info, "w") as target, open_content(content) as source:
            shutil.copyfileobj(source, target, COPY_CHUNK)


def single_entry(path: Path, attachment_name: str | None) -> zipfile.ZipInfo | None:
    """The entry to unwrap when `path` is a one-entry ZIP wrapper, else None.

    A real .zip attachment (several entries, or named .zip around a non-zip entry) is kept
    as it is: only a wrapper added by the sender's library is removed.
    """
    if not _small_directory(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            # Not ZipInfo.is_dir(): it raises IndexError on an entry with an empty name.
            entries = [i for i in archive.infolist() if not i.filename.endswith("/")]
    except UNZIP_ERRORS:
        return None
    if len(entries) != 1 or entries[0].flag_bits & 0x1:  # encrypted: leave it alone
        return None
    entry = entries[0]
    suffix = Path(attachment_name or "").suffix.lower()
    if suffix in ZIP_BASED_SUFFIXES and Path(entry.filename).suffix.lower() != suffix:
        return None  # the file itself is a ZIP (a .zip, an .xlsx …), not a wrapper around one
    return entry


def _small_directory(path: Path) -> bool:
    """Whether the end record announces a central directory small enough for one entry."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        tail_length = min(size, 22 + 0xFFFF)  # the end record, then at most a 64 KiB comment
        handle.seek(size - tail_length)
        tail = handle.read(tail_length)
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or len(tail) - at < 22:
        return False
    (directory_size,) = struct.unpack_from("<I", tail, at + 12)
    return directory_size <= MAX_WRAPPER_DIRECTORY


def unzip_entry(path: Path, entry: zipfile.ZipInfo, sink: BinaryIO, limit: int) -> Digest:
    with zipfile.ZipFile(path) as archive, archive.open(entry) as source:
        return copy_with_digest(source, sink, limit)
