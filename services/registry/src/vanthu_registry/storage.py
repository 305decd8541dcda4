"""File versions over the content-addressed object store: PDF checks, page count, text layer.

A stored object is only kept when the row that names it commits: `StoredFile.discard`
removes an object this request created if the transaction that was to reference it
failed and no other row references the same bytes.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import func, select

from vanthu_contracts.errors import PAYLOAD_TOO_LARGE
from vanthu_contracts.events import registry as contract
from vanthu_registry.tables import document_files
from vanthu_runtime.errors import AppError
from vanthu_runtime.objectstore import ObjectStore
from vanthu_runtime.uow import UnitOfWork

if TYPE_CHECKING:
    from pypdf import PdfReader

log = logging.getLogger("vanthu.registry.storage")
PDF = "application/pdf"
MAX_PAGES = 10_000  # a scanned register runs to hundreds of pages, a long text PDF to a few thousand
MAX_PAGE_TREE_DEPTH = 64
MAX_PAGE_CONTENT = 1 << 20  # a dense page of text is tens of kilobytes
MAX_INDEXED_CONTENT = 16 << 20
MAX_INDEXING_S = 5.0


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    name: str
    page_count: int | None
    content_type: str = PDF
    created: bool = False  # this request put the bytes in the store


def count_pages(data: BinaryIO | bytes) -> int:
    """Pages of a PDF; raises AppError(FILE_NOT_PDF) when it is not one, FILE_ENCRYPTED when it
    cannot be opened without a password."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    stream.seek(0)
    if stream.read(5) != b"%PDF-":
        raise AppError(contract.FILE_NOT_PDF, {"reason": "no %PDF- header"})
    stream.seek(0)
    try:
        reader = PdfReader(stream, strict=False)
        _check_page_tree(reader)
        pages = len(reader.pages)
    except AppError:
        raise
    except FileNotDecryptedError as exc:
        raise AppError(contract.FILE_ENCRYPTED) from exc
    except Exception as exc:
        # pypdf meets a damaged file with PdfReadError, KeyError, RecursionError on a cyclic
        # structure …: all of them mean the upload is not a PDF we can keep.
        raise AppError(contract.FILE_NOT_PDF, {"reason": type(exc).__name__}) from exc
    finally:
        stream.seek(0)
    if pages < 1:
        raise AppError(contract.FILE_NOT_PDF, {"reason": "no pages"})
    return pages


def _check_page_tree(reader: PdfReader) -> None:
    """Walk the page tree without trusting /Count, stopping at MAX_PAGES: a tree that loops,
    repeats a node or is absurdly deep or wide is refused before pypdf flattens all of it
    (a few bytes per page reference make millions of pages in a 50 MB file)."""
    stack: list[tuple[Any, int]] = [(reader.root_object["/Pages"], 0)]
    seen: set[int] = set()
    pages = 0
    while stack:
        reference, depth = stack.pop()
        number = getattr(reference, "idnum", None)
        if number is not None:
            if number in seen:
                raise AppError(contract.FILE_NOT_PDF, {"reason": "the page tree repeats a node"})
            seen.add(number)
        node = reference.get_object()
        kids = node.get("/Kids")
        if kids is None:
            pages += 1
            if pages > MAX_PAGES:
                raise AppError(contract.FILE_TOO_MANY_PAGES, {"limit": MAX_PAGES}, limit=MAX_PAGES)
        elif depth >= MAX_PAGE_TREE_DEPTH:
            raise AppError(contract.FILE_NOT_PDF, {"reason": "the page tree is too deep"})
        else:
            stack.extend((kid, depth + 1) for kid in kids.get_object())


def extract_text(data: bytes, max_chars: int = 200_000) -> str:
    """The PDF's text layer (scans without OCR have none).

    pypdf reads about a megabyte of page content a second: a page with more content than
    any text page has (drawings, a hostile file) is skipped, and reading stops after
    MAX_INDEXED_CONTENT bytes or MAX_INDEXING_S, so one file cannot hold the indexer for minutes.
    """
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    parts: list[str] = []
    size = 0
    content = 0
    deadline = time.monotonic() + MAX_INDEXING_S
    for page in reader.pages:
        if time.monotonic() > deadline:
            break  # what was read so far is indexed; the rest of a huge file is not searchable
        page_content = page.get_contents()
        page_size = len(page_content.get_data()) if page_content is not None else 0
        content += page_size
        if content > MAX_INDEXED_CONTENT:
            break
        if page_size > MAX_PAGE_CONTENT:
            continue
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size >= max_chars:
            break
    return "\n".join(parts)[:max_chars]


class FileStorage:
    def __init__(self, store: ObjectStore, max_bytes: int) -> None:
        self.store = store
        self.max_bytes = max_bytes

    async def put_pdf(self, source: BinaryIO | bytes, name: str, size: int | None = None) -> StoredFile:
        """Check and store one PDF version; nothing is stored when it is refused."""
        if size is None:
            size = len(source) if isinstance(source, bytes | bytearray) else _size_of(source)
        if size > self.max_bytes:
            raise AppError(contract.FILE_TOO_LARGE, {"limit": self.max_bytes, "size": size}, limit=self.max_bytes)
        if size == 0:
            raise AppError(contract.FILE_NOT_PDF, {"reason": "empty"})
        pages = await asyncio.to_thread(count_pages, source)
        try:
            stored = await self.store.put(source, content_type=PDF, max_bytes=self.max_bytes)
        except AppError as exc:
            if exc.error is PAYLOAD_TOO_LARGE:
                raise AppError(contract.FILE_TOO_LARGE, {"limit": self.max_bytes}, limit=self.max_bytes) from exc
            raise
        return StoredFile(stored.sha256, stored.size, name[:500] or "document.pdf", pages, PDF, stored.created)

    async def referenced_pdf(self, sha256: str, name: str) -> StoredFile:
        """A PDF another service already stored (signing, interop): must exist and be a PDF."""
        stat = await self.store.stat(sha256)
        if stat is None:
            raise AppError(contract.FILE_NOT_STORED, {"sha256": sha256})
        if stat.size > self.max_bytes:
            raise AppError(contract.FILE_TOO_LARGE, {"limit": self.max_bytes}, limit=self.max_bytes)
        data = await self.store.get(sha256)
        pages = await asyncio.to_thread(count_pages, data)
        return StoredFile(sha256, stat.size, name[:500] or "document.pdf", pages, PDF, False)

    async def discard(self, uow: UnitOfWork, files: list[StoredFile]) -> None:
        """Compensation after a failed transaction: drop the objects no row names."""
        for stored in files:
            if not stored.created:
                continue
            try:
                async with uow.read() as session:
                    refs = (
                        await session.execute(
                            select(func.count()).select_from(document_files).where(document_files.c.sha256 == stored.sha256)
                        )
                    ).scalar_one()
                if refs == 0:
                    await self.store.delete(stored.sha256)
            except Exception:  # the original error matters more; the sweep can retry
                log.exception("could not discard object %s after a failed registration", stored.sha256)


def _size_of(stream: BinaryIO) -> int:
    position = stream.tell()
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(position)
    return size
