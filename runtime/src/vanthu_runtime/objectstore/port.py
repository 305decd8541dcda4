"""The object-store port: content-addressed file storage that services depend on.

A stored object's key is the SHA-256 of its bytes (64 lowercase hex digits), so a
put is idempotent and a read can prove it got back what was written. Adapters:
`S3ObjectStore` (any S3-compatible server) and `LocalObjectStore` (a directory).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import BinaryIO, TypeAlias

from vanthu_contracts.errors import OBJECT_MISSING, PAYLOAD_TOO_LARGE, VALIDATION
from vanthu_runtime.errors import AppError

# What `put` accepts: bytes already in memory, an async stream of chunks (an upload
# being received), or a readable binary file.
PutSource: TypeAlias = bytes | bytearray | memoryview | AsyncIterator[bytes] | BinaryIO

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def too_large(size: int, max_bytes: int) -> None:
    """Refuse a stored object bigger than the reader's limit (before it is read into memory)."""
    if size > max_bytes:
        raise AppError(PAYLOAD_TOO_LARGE, details={"size": size, "limit": max_bytes})


@dataclass(frozen=True, slots=True)
class StoredObject:
    sha256: str
    size: int
    content_type: str
    # False when the same bytes were already stored: puts are idempotent.
    created: bool = False


def check_sha256(sha256: str) -> str:
    """Refuse anything that is not a SHA-256 hex digest.

    Keys become file paths and object names, so this is also what stops a
    caller-supplied key from walking out of the store (`../..`).
    """
    if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
        raise AppError(VALIDATION, details={"sha256": "expected 64 lowercase hexadecimal characters"})
    return sha256


class ObjectStore(ABC):
    """Content-addressed storage. Every method may be called from the event loop."""

    @abstractmethod
    async def prepare(self) -> None:
        """Create what the store needs (directory, bucket). Call once at startup."""

    @abstractmethod
    async def put(
        self, source: PutSource, *, content_type: str, max_bytes: int | None = None
    ) -> StoredObject:
        """Store the bytes under their SHA-256, streaming; nothing is stored on failure.

        Raises `AppError(PAYLOAD_TOO_LARGE, details={"limit": max_bytes})` as soon as
        the source yields more than `max_bytes`.
        """

    @abstractmethod
    async def open(self, sha256: str) -> AsyncIterator[bytes]:
        """Stream the object's bytes (`async for chunk in await store.open(h)`).

        Raises `AppError(OBJECT_MISSING)` here, before streaming starts. The
        iterator raises `AppError(INTEGRITY)` instead of yielding the last chunk
        when the bytes do not hash to `sha256`, so a consumer never holds the
        complete content of a tampered object.
        """

    @abstractmethod
    async def stat(self, sha256: str) -> StoredObject | None:
        """The object's size and content type, or None when it is not stored."""

    @abstractmethod
    async def delete(self, sha256: str) -> None:
        """Remove the object; `AppError(OBJECT_MISSING)` when it is not stored."""

    @abstractmethod
    async def signed_url(self, sha256: str, *, filename: str | None, ttl_s: int) -> str:
        """A URL that downloads the object without credentials until `ttl_s` seconds pass.

        `filename` (Vietnamese allowed) is what the browser saves it as.
        Raises `AppError(OBJECT_MISSING)` when the object is not stored.
        """

    @abstractmethod
    async def check(self) -> None:
        """Readiness: return when the store is usable, raise `AppError(UNAVAILABLE)` otherwise."""

    async def get(self, sha256: str, *, max_bytes: int | None = None) -> bytes:
        """The whole object, verified. Only for objects known to be small, or with `max_bytes`:
        `AppError(PAYLOAD_TOO_LARGE, details={"size", "limit"})` for a bigger one, before reading it."""
        if max_bytes is not None:
            found = await self.stat(sha256)
            if found is None:
                raise AppError(OBJECT_MISSING, details={"sha256": sha256})
            too_large(found.size, max_bytes)
        content = bytearray()
        async for chunk in await self.open(sha256):
            content += chunk
        return bytes(content)

    async def exists(self, sha256: str) -> bool:
        return await self.stat(sha256) is not None
