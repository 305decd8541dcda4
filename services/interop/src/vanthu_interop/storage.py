"""Files of exchanged documents in the content-addressed object store (streamed both ways)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from vanthu_contracts.events.registry import FileRef
from vanthu_interop.edxml.model import Attachment
from vanthu_runtime.objectstore import ObjectStore


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

    async def fetch(self, refs: list[FileRef], directory: Path) -> list[Attachment]:
        """Copy stored files to `directory` (verified while streaming) for building a packet."""
        attachments = []
        for index, ref in enumerate(refs):
            target = directory / f"f{index}"
            sink = await asyncio.to_thread(target.open, "wb")
            try:
                async for chunk in await self.store.open(ref.sha256):
                    await asyncio.to_thread(sink.write, chunk)
            finally:
                await asyncio.to_thread(sink.close)
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
