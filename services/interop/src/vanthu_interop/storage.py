"""Files of exchanged documents in the content-addressed object store (streamed both ways)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from vanthu_contracts.events.registry import FileRef
from vanthu_interop.edxml.model import Attachment
from vanthu_runtime.objectstore import ObjectStore

# Files up to this size are read into memory whole when a packet is built from them.
READ_WHOLE_BYTES = 1024 * 1024


class FileStorage:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def put_file(self, path: Path, content_type: str) -> str:
        with path.open("rb") as source:
            stored = await self.store.put(source, content_type=content_type)
        return stored.sha256

    async def put_attachments(self, attachments: list[Attachment]) -> list[FileRef]:
        refs = []
        for index, item in enumerate(attachments):
            assert item.path is not None
            content_type = item.content_type or "application/octet-stream"
            sha256 = await self.put_file(item.path, content_type)
            refs.append(
                FileRef(
                    sha256=sha256,
                    name=(item.name or f"tep-{index + 1}")[:500],
                    content_type=content_type,
                    size=item.size if item.size is not None else item.path.stat().st_size,
                    role="main" if index == 0 else "attachment",
                )
            )
        return refs

    async def read(self, refs: list[FileRef]) -> list[Attachment]:
        """Stored files read whole into memory (each read verified), for building a small packet."""
        return [
            Attachment(
                name=ref.name,
                content_type=ref.content_type,
                data=await self.store.get(ref.sha256),
                size=ref.size,
                sha256=ref.sha256,
            )
            for ref in refs
        ]

    async def fetch(self, refs: list[FileRef], directory: Path) -> list[Attachment]:
        """Copy stored files to `directory` (verified) for building a packet.

        A small file is read whole (one verified read) and written in one go; a large one is
        streamed, so memory stays flat. Streaming costs a worker-thread trip per chunk plus
        four, which for the usual scanned letter was most of reading it."""
        attachments = []
        for index, ref in enumerate(refs):
            target = directory / f"f{index}"
            if ref.size is not None and ref.size <= READ_WHOLE_BYTES:
                await asyncio.to_thread(target.write_bytes, await self.store.get(ref.sha256))
            else:
                await self._stream_to(ref.sha256, target)
            attachments.append(
                Attachment(
                    name=ref.name,
                    content_type=ref.content_type,
                    path=target,
                    size=ref.size,
                    sha256=ref.sha256,
                )
            )
        return attachments

    async def _stream_to(self, sha256: str, target: Path) -> None:
        sink = await asyncio.to_thread(target.open, "wb")
        try:
            async for chunk in await self.store.open(sha256):
                await asyncio.to_thread(sink.write, chunk)
        finally:
            await asyncio.to_thread(sink.close)
