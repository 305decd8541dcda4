"""PDFs and images in the content-addressed object store, with the checks jobs need."""

from __future__ import annotations

from vanthu_contracts import errors as common
from vanthu_contracts.events import signing as contract
from vanthu_runtime.errors import AppError
from vanthu_runtime.objectstore import ObjectStore, StoredObject


class PdfStorage:
    def __init__(self, store: ObjectStore, max_bytes: int) -> None:
        self.store = store
        self.max_bytes = max_bytes

    async def fetch(self, sha256: str, expected_size: int | None = None) -> bytes:
        """The verified bytes of the object; stable signing.* codes for what can go wrong."""
        try:
            # One call: the store checks the size against the limit before reading anything.
            data = await self.store.get(sha256, max_bytes=self.max_bytes)
        except AppError as exc:
            if exc.code == common.PAYLOAD_TOO_LARGE.code:
                size = exc.details["size"]
                raise AppError(
                    contract.FILE_TOO_LARGE, {"size": size, "limit": self.max_bytes}, limit=self.max_bytes
                ) from exc
            if exc.code == common.INTEGRITY.code:
                raise AppError(contract.HASH_MISMATCH, {"sha256": sha256}) from exc
            if exc.code == common.OBJECT_MISSING.code:
                raise AppError(contract.FILE_MISSING, {"sha256": sha256}) from exc
            raise
        if expected_size is not None and expected_size != len(data):
            raise AppError(contract.HASH_MISMATCH, {"expected_size": expected_size, "size": len(data)})
        return data

    async def put_pdf(self, data: bytes) -> StoredObject:
        return await self.store.put(data, content_type="application/pdf")

    async def put_image(self, data: bytes) -> StoredObject:
        return await self.store.put(data, content_type="image/png", max_bytes=5 * 1024 * 1024)

    async def discard(self, stored: StoredObject) -> None:
        """Remove an object this job created and will not reference (nothing half-written)."""
        if stored.created:
            try:
                await self.store.delete(stored.sha256)
            except AppError:
                pass
