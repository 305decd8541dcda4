"""The local-directory adapter: the embedded default, one machine, no object server.

Layout: `root/ab/cd/<sha256>` holds the bytes and `root/ab/cd/<sha256>.json` the
content type. Writes go to `root/.incoming/` (same filesystem) and are fsynced,
then renamed into place, so a crash never leaves a half-written object under
its key. Downloads are HMAC-signed URLs served by the owning service through
`download_router`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, BinaryIO

from vanthu_contracts.errors import INTEGRITY, OBJECT_MISSING, PAYLOAD_TOO_LARGE, UNAVAILABLE
from vanthu_runtime.errors import AppError
from vanthu_runtime.objectstore.port import ObjectStore, PutSource, StoredObject, check_sha256, too_large
from vanthu_runtime.objectstore.streams import (
    Received,
    VerifyingReader,
    receive,
    receive_file,
    verified_chunks,
)
from vanthu_runtime.objectstore.url_signing import UrlSigner

DOWNLOAD_PREFIX = "/objects"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_INCOMING = ".incoming"
# Objects up to this size are read and verified where they are awaited: a worker-thread trip
# costs about 0.2 ms of CPU (waking a thread, the GIL handed back and forth), several times the
# read and hash of a typical letter. Larger ones go to a worker, so the loop never waits long.
INLINE_READ_BYTES = 256 << 10


class LocalObjectStore(ObjectStore):
    def __init__(
        self,
        root: Path,
        url_signer: UrlSigner,
        base_url: str,
        *,
        download_prefix: str = DOWNLOAD_PREFIX,
    ) -> None:
        """`base_url` is where the owning service is reached (its public URL); the
        download router is expected under `download_prefix` there."""
        self.root = Path(root)
        self._signer = url_signer
        self._download_base = base_url.rstrip("/") + "/" + download_prefix.strip("/")

    def path_for(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def prepare(self) -> None:
        await asyncio.to_thread((self.root / _INCOMING).mkdir, parents=True, exist_ok=True)

    async def put(
        self, source: PutSource, *, content_type: str, max_bytes: int | None = None
    ) -> StoredObject:
        if isinstance(source, bytes | bytearray | memoryview):
            # Already in memory: hash, write, fsync and commit in one trip to a worker thread,
            # not one per step (each trip wakes a thread and the event loop).
            if max_bytes is not None and len(source) > max_bytes:
                raise AppError(PAYLOAD_TOO_LARGE, details={"limit": max_bytes})
            return await asyncio.to_thread(self._put_bytes, source, content_type or DEFAULT_CONTENT_TYPE)
        if hasattr(source, "read") and not hasattr(source, "__aiter__"):
            # A binary file: copied, hashed, committed in one trip to a worker thread, as bytes are.
            file: BinaryIO = source  # type: ignore[assignment]
            return await asyncio.to_thread(
                self._put_file, file, content_type or DEFAULT_CONTENT_TYPE, max_bytes
            )
        incoming = await asyncio.to_thread(self._incoming_file)
        try:
            received = await receive(source, incoming, max_bytes=max_bytes)
            created = await asyncio.to_thread(
                self._commit, incoming, received.sha256, content_type or DEFAULT_CONTENT_TYPE
            )
        finally:
            await asyncio.to_thread(_discard, incoming)
        return await asyncio.to_thread(self._stored, received, content_type, created)

    async def get(self, sha256: str, *, max_bytes: int | None = None) -> bytes:
        path = self.path_for(sha256)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise AppError(OBJECT_MISSING, details={"sha256": sha256}) from None
        if max_bytes is not None:
            too_large(size, max_bytes)
        if size <= INLINE_READ_BYTES:
            return self._read_verified(path, sha256)
        # Read and verified in one trip to a worker thread, not a trip per chunk.
        return await asyncio.to_thread(self._read_verified, path, sha256)

    async def open(self, sha256: str) -> AsyncIterator[bytes]:
        path = self.path_for(sha256)
        if not await asyncio.to_thread(path.is_file):
            raise AppError(OBJECT_MISSING, details={"sha256": sha256})

        def open_reader() -> VerifyingReader:
            try:
                file = path.open("rb")
            except FileNotFoundError:
                raise AppError(OBJECT_MISSING, details={"sha256": sha256}) from None
            return VerifyingReader(file.read, file.close)

        return verified_chunks(sha256, open_reader)

    async def stat(self, sha256: str) -> StoredObject | None:
        return await asyncio.to_thread(self._stat, self.path_for(sha256))

    async def delete(self, sha256: str) -> None:
        path = self.path_for(sha256)
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            raise AppError(OBJECT_MISSING, details={"sha256": sha256}) from None
        await asyncio.to_thread(_meta_path(path).unlink, missing_ok=True)

    async def signed_url(self, sha256: str, *, filename: str | None, ttl_s: int) -> str:
        if not await self.exists(sha256):
            raise AppError(OBJECT_MISSING, details={"sha256": sha256})
        expires_at = int(time.time()) + ttl_s
        return f"{self._download_base}/{sha256}?{self._signer.sign(sha256, filename, expires_at)}"

    async def check(self) -> None:
        incoming = self.root / _INCOMING
        usable = await asyncio.to_thread(lambda: incoming.is_dir() and os.access(incoming, os.W_OK | os.X_OK))
        if not usable:
            raise AppError(
                UNAVAILABLE, details={"store": "local", "reason": f"{incoming} is not a writable directory"}
            )

    # Blocking helpers, run in worker threads.

    def _incoming_file(self) -> IO[bytes]:
        return tempfile.NamedTemporaryFile(dir=self.root / _INCOMING, prefix="put-", delete=False)

    def _put_bytes(self, data: bytes | bytearray | memoryview, content_type: str) -> StoredObject:
        sha256 = hashlib.sha256(data).hexdigest()
        created = False
        if not self.path_for(
            sha256
        ).is_file():  # the same bytes are stored once: a repeated put writes nothing
            incoming = self._incoming_file()
            try:
                incoming.write(data)
                incoming.flush()
                created = self._commit(incoming, sha256, content_type)
            finally:
                _discard(incoming)
        return self._stored(Received(sha256, len(data)), content_type, created)

    def _put_file(self, source: BinaryIO, content_type: str, max_bytes: int | None) -> StoredObject:
        incoming = self._incoming_file()
        try:
            received = receive_file(source, incoming, max_bytes=max_bytes)
            created = self._commit(incoming, received.sha256, content_type)
        finally:
            _discard(incoming)
        return self._stored(received, content_type, created)

    def _stored(self, received: Received, content_type: str, created: bool) -> StoredObject:
        if created:  # just written: nothing to read back
            return StoredObject(received.sha256, received.size, content_type, created)
        stored = self._stat(self.path_for(received.sha256))
        if stored is None:  # deleted by someone else in between; report what we wrote
            return StoredObject(received.sha256, received.size, content_type, created)
        return StoredObject(stored.sha256, stored.size, stored.content_type, created)

    def _read_verified(self, path: Path, sha256: str) -> bytes:
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise AppError(OBJECT_MISSING, details={"sha256": sha256}) from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise AppError(INTEGRITY, details={"sha256": sha256, "actual_sha256": actual})
        return data

    def _commit(self, incoming: IO[bytes], sha256: str, content_type: str) -> bool:
        final = self.path_for(sha256)
        if final.is_file():
            return False  # same bytes already stored: content addressing makes puts idempotent
        os.fsync(incoming.fileno())
        final.parent.mkdir(parents=True, exist_ok=True)
        # Metadata first: an object visible under its key always has its content type.
        _write_atomically(_meta_path(final), json.dumps({"content_type": content_type}).encode(), self.root)
        os.replace(incoming.name, final)
        _fsync_dir(final.parent)
        return True

    def _stat(self, path: Path) -> StoredObject | None:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        try:
            content_type = json.loads(_meta_path(path).read_bytes())["content_type"]
        except (FileNotFoundError, ValueError, KeyError):
            content_type = DEFAULT_CONTENT_TYPE
        return StoredObject(sha256=path.name, size=size, content_type=content_type)


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _write_atomically(target: Path, content: bytes, root: Path) -> None:
    with tempfile.NamedTemporaryFile(dir=root / _INCOMING, prefix="meta-", delete=False) as tmp:
        tmp.write(content)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, target)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry itself is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(incoming: IO[bytes]) -> None:
    incoming.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(incoming.name)
