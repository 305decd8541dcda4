"""Hashing while writing, verifying while reading: the streaming core both adapters share.

Blocking work (file writes, hashing megabytes) runs in worker threads so the
event loop keeps serving other requests while a large upload is received.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import BinaryIO

from vanthu_contracts.errors import INTEGRITY, PAYLOAD_TOO_LARGE
from vanthu_runtime.errors import AppError
from vanthu_runtime.objectstore.port import PutSource

# Read and write granularity. Chunks from an async source are gathered up to this
# size before one trip to a worker thread, so tiny chunks do not cost a thread hop each.
CHUNK_BYTES = 1024 * 1024
# How much of an upload stays in memory before the spool moves it to a temporary file.
SPOOL_MEMORY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Received:
    sha256: str
    size: int


class _DigestingWriter:
    """Writes to a sink while computing SHA-256 and enforcing the size limit (blocking)."""

    def __init__(self, sink: BinaryIO, max_bytes: int | None) -> None:
        self._sink = sink
        self._max_bytes = max_bytes
        self._digest = hashlib.sha256()
        self.size = 0

    def refuse_if_over(self, size: int) -> None:
        if self._max_bytes is not None and size > self._max_bytes:
            raise AppError(PAYLOAD_TOO_LARGE, details={"limit": self._max_bytes})

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.refuse_if_over(self.size + len(data))
        self._digest.update(data)
        self._sink.write(data)
        self.size += len(data)

    def copy_file(self, source: BinaryIO) -> None:
        while chunk := source.read(CHUNK_BYTES):
            self.write(chunk)

    def result(self) -> Received:
        self._sink.flush()
        return Received(sha256=self._digest.hexdigest(), size=self.size)


def receive_file(source: BinaryIO, sink: BinaryIO, *, max_bytes: int | None) -> Received:
    """`receive` for a binary file, blocking: the whole copy in one trip to a worker thread."""
    writer = _DigestingWriter(sink, max_bytes)
    writer.copy_file(source)
    return writer.result()


async def receive(source: PutSource, sink: BinaryIO, *, max_bytes: int | None) -> Received:
    """Copy `source` into `sink`, hashing as it goes; never holds more than a chunk or two.

    Raises `AppError(PAYLOAD_TOO_LARGE)` as soon as the limit is passed and stops
    reading the source; the caller discards the partly written sink.
    """
    writer = _DigestingWriter(sink, max_bytes)
    if isinstance(source, bytes | bytearray | memoryview):
        writer.refuse_if_over(len(source))
        await asyncio.to_thread(writer.write, source)
    elif hasattr(source, "__aiter__"):
        await _receive_async(source, writer)  # type: ignore[arg-type]
    elif hasattr(source, "read"):
        return await asyncio.to_thread(receive_file, source, sink, max_bytes=max_bytes)  # type: ignore[arg-type]
    else:
        raise TypeError(f"cannot store a {type(source).__name__}; give bytes, a binary file or chunks")
    return await asyncio.to_thread(writer.result)


async def _receive_async(chunks: AsyncIterator[bytes], writer: _DigestingWriter) -> None:
    pending = bytearray()
    async for chunk in chunks:
        # Checked per chunk, before buffering, so an oversized upload is cut off early.
        writer.refuse_if_over(writer.size + len(pending) + len(chunk))
        if len(chunk) >= CHUNK_BYTES:
            if pending:
                await asyncio.to_thread(writer.write, pending)
                pending.clear()
            await asyncio.to_thread(writer.write, chunk)
            continue
        pending += chunk
        if len(pending) >= CHUNK_BYTES:
            await asyncio.to_thread(writer.write, pending)
            pending.clear()
    if pending:
        await asyncio.to_thread(writer.write, pending)


class VerifyingReader:
    """Reads an object in chunks, hashing what it returns (blocking; call in a thread)."""

    def __init__(self, read: Callable[[int], bytes], close: Callable[[], None]) -> None:
        self._read = read
        self._close = close
        self._digest = hashlib.sha256()

    def read_chunk(self) -> bytes:
        chunk = self._read(CHUNK_BYTES)
        self._digest.update(chunk)
        return chunk

    def hexdigest(self) -> str:
        return self._digest.hexdigest()

    def close(self) -> None:
        self._close()


async def verified_chunks(sha256: str, open_reader: Callable[[], VerifyingReader]) -> AsyncIterator[bytes]:
    """Yield an object's chunks, checking the SHA-256 before the last one is handed over.

    One chunk is held back: if the bytes turn out not to match, the consumer gets
    `AppError(INTEGRITY)` instead of the final chunk, so it never has the whole
    (altered) content and an HTTP client sees a short, failed response. The
    reader is opened lazily, inside the iteration, so an iterator that is never
    consumed holds no file or connection.
    """
    reader = await asyncio.to_thread(open_reader)
    try:
        held = await asyncio.to_thread(reader.read_chunk)
        while held:
            following = await asyncio.to_thread(reader.read_chunk)
            if not following:
                break
            yield held
            held = following
        actual = reader.hexdigest()
        if actual != sha256:
            raise AppError(INTEGRITY, details={"sha256": sha256, "actual_sha256": actual})
        if held:
            yield held
    finally:
        reader.close()
