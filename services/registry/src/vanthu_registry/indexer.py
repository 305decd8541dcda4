"""Background indexing of the PDF text layer, off the registration path.

Registration commits the metadata at once; this loop then reads each pending
file version from the object store, extracts its text with pypdf in a thread, and
adds the folded text to the document's search entry. Progress lives in the rows
(`text_state`), so a restart picks up where it stopped and replicas can share the
work (each update is conditional on the row still being pending).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select, update

from vanthu_registry import documents as docs
from vanthu_registry.storage import extract_text
from vanthu_registry.tables import document_files
from vanthu_runtime.objectstore import ObjectStore
from vanthu_runtime.uow import UnitOfWork

log = logging.getLogger("vanthu.registry.indexer")


class TextIndexer:
    def __init__(self, uow: UnitOfWork, store: ObjectStore, interval_s: float = 1.0, batch: int = 20) -> None:
        self.uow = uow
        self.store = store
        self.interval_s = interval_s
        self.batch = batch

    async def run(self) -> None:
        while True:
            try:
                done = await self.index_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("text indexing pass failed")
                done = 0
            if done == 0:
                await asyncio.sleep(self.interval_s)

    async def index_once(self) -> int:
        async with self.uow.read() as session:
            pending = (
                await session.execute(
                    select(document_files.c.id, document_files.c.document_id, document_files.c.sha256)
                    .where(document_files.c.text_state == "pending")
                    .order_by(document_files.c.uploaded_at)
                    .limit(self.batch)
                )
            ).all()
        for row in pending:
            try:
                data = await self.store.get(row.sha256)
                content = await asyncio.to_thread(extract_text, data)
                state = "done" if content.strip() else "none"
            except Exception as exc:  # a broken text layer must not stop the others
                log.warning("no text from %s: %r", row.sha256, exc)
                content, state = "", "none"
            async with self.uow.begin() as tx:
                claimed = await tx.session.execute(
                    update(document_files)
                    .where(document_files.c.id == row.id, document_files.c.text_state == "pending")
                    .values(text_state=state)
                )
                if claimed.rowcount == 1 and content.strip():
                    await docs.set_content(tx.session, row.document_id, content)
        return len(pending)
