"""Polling the axis for documents and statuses, importing each packet exactly once.

For every listed packet: download (streamed), parse (bounded memory), store its files, import
it in one transaction together with the row that remembers the axis docId, wait until the
import's events have left through the outbox, and only then acknowledge it to the axis with
`updateStatus done`. A crash anywhere before the acknowledgement leaves the packet listed, and
the next poll finds the remembered docId (or, for a copy under a new docId, the receipt's
DocumentId key) and only acknowledges it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update

from vanthu_contracts.events.interop import EDXML_INVALID
from vanthu_contracts.events.registry import Channel
from vanthu_interop.axis.client import AxisClient, AxisError, ReceivedEntry
from vanthu_interop.domain.incoming import (
    IncomingDocument,
    IncomingStatus,
    addressed_to_us,
    from_edoc,
    from_status,
    problems,
    status_problems,
)
from vanthu_interop.edxml import EdocPacket, ParsedPacket, ParseLimits, StatusPacket, parse
from vanthu_interop.repository import axis_packets, insert_once, outbox
from vanthu_interop.usecases.context import Context
from vanthu_interop.usecases.receiving import Imported, Receiving
from vanthu_runtime.errors import AppError

log = logging.getLogger("vanthu.interop.poller")


@dataclass
class PollReport:
    imported: int = 0
    duplicates: int = 0
    acknowledged: int = 0
    rejected: int = 0
    ignored: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)


class AxisPoller:
    def __init__(self, ctx: Context, axis: AxisClient) -> None:
        self.ctx = ctx
        self.axis = axis
        self.receiving = Receiving(ctx)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            busy = False
            try:
                report = await self.poll_once()
                # Packets waiting on the relay, or a full round: look again at once.
                busy = bool(report.imported or report.duplicates or report.waiting)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("axis poll failed; trying again next interval")
            if busy:
                await asyncio.sleep(min(self.ctx.settings.poll_interval_s, 0.05))
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.ctx.settings.poll_interval_s)
            except TimeoutError:
                pass
            self._wake.clear()

    async def poll_once(self) -> PollReport:
        """One round: list documents and statuses, import what is new, then acknowledge in bulk."""
        report = await self._round()
        _log_round(report)
        return report

    async def _round(self) -> PollReport:
        report = PollReport()
        listed = await asyncio.gather(*(self._list(t, report) for t in ("edoc", "status")))
        entries = list({e.doc_id: e for batch in listed for e in batch}.values())  # listed twice: once
        if not entries:
            return report
        async with self.ctx.uow.read() as session:
            rows = await session.execute(
                select(axis_packets).where(axis_packets.c.axis_doc_id.in_([e.doc_id for e in entries]))
            )
            known = {row["axis_doc_id"]: row for row in rows.mappings()}
        to_ack = [(doc_id, row["outcome"], list(row["event_ids"])) for doc_id, row in known.items()]
        report.duplicates += len(known)
        gate = asyncio.Semaphore(self.ctx.settings.poll_concurrency)
        workdir = self.ctx.workdir()

        async def one(entry: ReceivedEntry) -> None:
            async with gate:
                try:
                    done = await self._process(entry, report, workdir)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one bad packet (or a storage hiccup) must not stop the round
                    log.warning("axis packet %s not imported this round: %r", entry.doc_id, exc)
                    report.errors.append(f"{entry.doc_id}: {exc}")
                    return
                if done is not None:
                    to_ack.append(done)

        try:
            await asyncio.gather(*(one(e) for e in entries if e.doc_id not in known))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        await self._acknowledge(to_ack, report)
        return report

    async def _list(self, message_type: str, report: PollReport) -> list[ReceivedEntry]:
        try:
            return await self.axis.get_received_edoc_list(message_type)
        except AxisError as exc:
            report.errors.append(str(exc))
            return []

    # -- one packet ------------------------------------------------------------------------------

    async def _process(
        self, entry: ReceivedEntry, report: PollReport, workdir: Path
    ) -> tuple[str, str, list[str]] | None:
        """Download and import one new packet; returns what to acknowledge, or None to leave it."""
        # The docId comes from the axis: never let it name a path.
        target = workdir / f"{hashlib.sha256(entry.doc_id.encode()).hexdigest()[:32]}.edxml"
        try:
            await self.axis.get_edoc(entry.doc_id, target)
            outcome, detail, imported = await self._import(entry, target, workdir)
        finally:
            target.unlink(missing_ok=True)
        if outcome == "not_for_us":
            # Perhaps an agency we have not heard of yet: leave it listed and look again later.
            report.ignored += 1
            log.warning("axis packet %s is addressed to none of our agencies (%s)", entry.doc_id, detail)
            return None
        if outcome == "imported":
            report.imported += 1
        elif outcome == "rejected":
            report.rejected += 1
        else:
            report.duplicates += 1
        return entry.doc_id, outcome, imported.event_ids if imported else []

    async def _import(
        self, entry: ReceivedEntry, path: Path, workdir: Path
    ) -> tuple[str, str, Imported | None]:
        try:
            parsed, incoming = await asyncio.to_thread(
                read_packet, path, self.ctx.settings.max_packet_bytes, workdir
            )
        except AppError as exc:
            detail = f"{exc.code}: {exc.details.get('reason', '')}"
            log.warning("axis packet %s refused: %s", entry.doc_id, detail)
            await self._remember(entry, "rejected", detail, None)
            return "rejected", detail, None
        with parsed:
            packet = parsed.packet
            if isinstance(incoming, IncomingStatus):
                async with self.ctx.uow.begin() as tx:
                    if not await self._claim(tx, entry, "imported"):
                        return "duplicate", "", None
                    imported = await self.receiving.import_status(tx, incoming, channel=Channel.AXIS)
                    await self._record(tx, entry, imported)
                return _outcome(imported), "", imported
            assert isinstance(packet, EdocPacket) and isinstance(incoming, IncomingDocument)
            document = incoming
            async with self.ctx.uow.read() as session:
                hosted = await self.ctx.hosted_codes(session)
            if not addressed_to_us(document, hosted):
                return "not_for_us", ", ".join(code for code, _ in document.recipients), None
            assert self.ctx.files is not None
            files = await self.ctx.files.put_attachments(packet.attachments)
            packet_sha256 = await self.ctx.files.put_file(path, "application/xml")
            async with self.ctx.uow.begin() as tx:
                if not await self._claim(tx, entry, "imported"):
                    return "duplicate", "", None
                imported = await self.receiving.import_document(
                    tx,
                    document,
                    channel=Channel.AXIS,
                    files=files,
                    axis_doc_id=entry.doc_id,
                    packet_sha256=packet_sha256,
                )
                await self._record(tx, entry, imported)
            return _outcome(imported), "", imported

    async def _claim(self, tx: object, entry: ReceivedEntry, outcome: str) -> bool:
        """Remember the docId in the import's transaction; False if another replica has it."""
        return await insert_once(
            tx.session,  # type: ignore[attr-defined]
            axis_packets,
            {
                "axis_doc_id": entry.doc_id,
                "message_type": entry.message_type,
                "outcome": outcome,
                "detail": "",
                "event_ids": [],
                "received_at": self.ctx.utcnow(),
            },
        )

    async def _record(self, tx: object, entry: ReceivedEntry, imported: Imported) -> None:
        await tx.session.execute(  # type: ignore[attr-defined]
            update(axis_packets)
            .where(axis_packets.c.axis_doc_id == entry.doc_id)
            .values(outcome=_outcome(imported), event_ids=imported.event_ids)
        )

    async def _remember(
        self, entry: ReceivedEntry, outcome: str, detail: str, imported: Imported | None
    ) -> None:
        async with self.ctx.uow.begin() as tx:
            if await self._claim(tx, entry, outcome):
                await tx.session.execute(
                    update(axis_packets)
                    .where(axis_packets.c.axis_doc_id == entry.doc_id)
                    .values(detail=detail[:2000])
                )

    async def _acknowledge(self, packets: list[tuple[str, str, list[str]]], report: PollReport) -> None:
        """updateStatus for every packet whose import's events have left through the outbox."""
        if not packets:
            return
        unpublished = await self._unpublished([i for _, _, ids in packets for i in ids])
        ready = [(doc_id, outcome) for doc_id, outcome, ids in packets if not unpublished.intersection(ids)]
        report.waiting += len(packets) - len(ready)  # acknowledged on a later round
        gate = asyncio.Semaphore(self.ctx.settings.poll_concurrency)
        acked: list[str] = []

        async def ack(doc_id: str, outcome: str) -> None:
            async with gate:
                try:
                    await self.axis.update_status(doc_id, "fail" if outcome == "rejected" else "done")
                except AxisError as exc:
                    report.errors.append(f"{doc_id}: {exc}")
                    return
                acked.append(doc_id)

        await asyncio.gather(*(ack(doc_id, outcome) for doc_id, outcome in ready))
        report.acknowledged += len(acked)
        if acked:
            async with self.ctx.uow.begin() as tx:
                await tx.session.execute(
                    update(axis_packets)
                    .where(axis_packets.c.axis_doc_id.in_(acked))
                    .values(acked_at=self.ctx.utcnow())
                )

    async def _unpublished(self, event_ids: list[str]) -> set[str]:
        """Event ids still waiting in the outbox, after waiting a little for the relay."""
        if not event_ids:
            return set()
        deadline = asyncio.get_running_loop().time() + self.ctx.settings.ack_publish_wait_s
        delay = 0.01
        while True:
            async with self.ctx.uow.read() as session:
                pending = {
                    row[0]
                    for row in await session.execute(
                        select(outbox.c.id)
                        .where(outbox.c.id.in_(event_ids))
                        .where(outbox.c.published_at.is_(None))
                    )
                }
            if not pending or asyncio.get_running_loop().time() >= deadline:
                return pending
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)


def read_packet(
    path: Path, max_packet_bytes: int, workdir: Path
) -> tuple[ParsedPacket, IncomingDocument | IncomingStatus]:
    """Parse a packet from the axis and turn it into what is imported (blocking: run in a thread).

    Raises AppError with an interop.edxml_* code when the packet cannot be imported at all; the
    caller closes the returned ParsedPacket (it owns the attachments' temporary files).
    """
    limits = ParseLimits(max_packet_bytes=max_packet_bytes, max_attachment_bytes=max_packet_bytes)
    parsed = parse(path, limits=limits, workdir=workdir)
    try:
        packet = parsed.packet
        if isinstance(packet, StatusPacket):
            status = from_status(packet)
            wrong = status_problems(status)
            incoming: IncomingDocument | IncomingStatus = status
        else:
            incoming = from_edoc(packet)
            wrong = problems(incoming)
        if wrong:
            raise AppError(EDXML_INVALID, {"reason": "; ".join(wrong)})
    except BaseException:
        parsed.close()
        raise
    return parsed, incoming


def _log_round(report: PollReport) -> None:
    """A round that imported, refused or acknowledged something is news (INFO); an empty one
    comes every `poll_interval_s` and is not (DEBUG). Failures are logged where they happen."""
    if report.imported or report.rejected or report.acknowledged:
        log.info(
            "axis poll: %d imported, %d refused, %d acknowledged, %d already known, %d awaiting their events",
            report.imported, report.rejected, report.acknowledged, report.duplicates, report.waiting,
        )  # fmt: skip
    else:
        log.debug(
            "axis poll: nothing new (%d already known, %d awaiting their events, %d for no agency of ours)",
            report.duplicates, report.waiting, report.ignored,
        )  # fmt: skip


def _outcome(imported: Imported) -> str:
    return imported.outcome if imported.outcome in ("imported", "duplicate", "ignored") else "imported"
