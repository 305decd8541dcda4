"""Polling the axis for documents and statuses, importing each packet exactly once.

For every listed packet: download (streamed), parse (bounded memory), store its files, import
it in a transaction together with the row that remembers the axis docId, wait until the
import's events have left through the outbox, and only then acknowledge it to the axis with
`updateStatus done`. A crash anywhere before the acknowledgement leaves the packet listed, and
the next poll finds the remembered docId (or, for a copy under a new docId, the receipt's
DocumentId key) and only acknowledges it.

The packets of a round are downloaded and stored concurrently, then imported together in one
transaction (a transaction costs as much as several statements); if that transaction fails,
each packet is imported alone, so one bad packet never holds back the others. Every import
starts with an insert on a key of the packet's content (the receipt's or the status's
de-duplication key) that does nothing when the key is taken, so importing a packet that
another replica imported at the same time changes nothing; the docId row is therefore written
at the end, with the outcome, in one statement for the whole batch.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update

from vanthu_contracts.events.interop import EDXML_INVALID
from vanthu_contracts.events.registry import Channel, FileRef
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
from vanthu_interop.repository import axis_packets, insert_many_once, insert_once, outbox
from vanthu_interop.usecases.context import INLINE_BYTES, Context
from vanthu_interop.usecases.receiving import Imported, Receiving
from vanthu_runtime.errors import AppError
from vanthu_runtime.groupcommit import GroupCommit, Work
from vanthu_runtime.uow import Tx

log = logging.getLogger("vanthu.interop.poller")
# Packets imported in one transaction. A round lists everything waiting, which can be thousands
# after an outage: a bounded batch keeps each transaction, and what a failure redoes, short.
IMPORT_BATCH = 32


@dataclass
class PollReport:
    imported: int = 0
    duplicates: int = 0
    acknowledged: int = 0
    rejected: int = 0
    ignored: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Ready:
    """A downloaded packet, read and with its files stored: what its import needs."""

    entry: ReceivedEntry
    incoming: IncomingDocument | IncomingStatus
    files: list[FileRef] = field(default_factory=list)
    packet_sha256: str | None = None


class _Import(Work):
    """One downloaded packet's import, a unit of the imports' group commit."""

    def __init__(self, receiving: Receiving, item: _Ready) -> None:
        self.receiving = receiving
        self.item = item
        self.imported: Imported | None = None

    async def apply(self, tx: Tx) -> None:
        item = self.item
        if isinstance(item.incoming, IncomingStatus):
            self.imported = await self.receiving.import_status(tx, item.incoming, channel=Channel.AXIS)
        else:
            self.imported = await self.receiving.import_document(
                tx,
                item.incoming,
                channel=Channel.AXIS,
                files=item.files,
                axis_doc_id=item.entry.doc_id,
                packet_sha256=item.packet_sha256,
            )


class AxisPoller:
    def __init__(self, ctx: Context, axis: AxisClient) -> None:
        self.ctx = ctx
        self.axis = axis
        self.receiving = Receiving(ctx)
        self._wake = asyncio.Event()
        # Without savepoints: an import rarely fails, and then every packet of its batch is
        # imported alone; the batch step writes the docId rows of the packets imported.
        self._imports: GroupCommit[_Import] = GroupCommit(
            ctx.uow, self._remember_packets, max_batch=IMPORT_BATCH, savepoints=False,
            name="interop-axis-imports",
        )  # fmt: skip

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
        ready: dict[int, _Ready] = {}

        async def one(index: int, entry: ReceivedEntry) -> None:
            async with gate:
                try:
                    prepared = await self._prepare(entry, report, workdir)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one bad packet (or a storage hiccup) must not stop the round
                    log.warning("axis packet %s not imported this round: %r", entry.doc_id, exc)
                    report.errors.append(f"{entry.doc_id}: {exc}")
                    return
                if isinstance(prepared, _Ready):
                    ready[index] = prepared
                elif prepared is not None:
                    to_ack.append(prepared)

        try:
            await asyncio.gather(*(one(i, e) for i, e in enumerate(entries) if e.doc_id not in known))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        # In the order the axis listed them: a recipient's statuses join its history in that order.
        to_ack += await self._import_all([ready[i] for i in sorted(ready)], report)
        await self._acknowledge(to_ack, report)
        return report

    async def _list(self, message_type: str, report: PollReport) -> list[ReceivedEntry]:
        try:
            return await self.axis.get_received_edoc_list(message_type)
        except AxisError as exc:
            report.errors.append(str(exc))
            return []

    # -- one packet ------------------------------------------------------------------------------

    async def _prepare(
        self, entry: ReceivedEntry, report: PollReport, workdir: Path
    ) -> _Ready | tuple[str, str, list[str]] | None:
        """Download, read and store one new packet. Returns what to import; or, for a packet
        refused here, what to acknowledge; or None to leave it listed."""
        # The docId comes from the axis: never let it name a path.
        target = workdir / f"{hashlib.sha256(entry.doc_id.encode()).hexdigest()[:32]}.edxml"
        try:
            await self.axis.get_edoc(entry.doc_id, target)
            return await self._read_and_store(entry, target, report, workdir)
        finally:
            target.unlink(missing_ok=True)

    async def _read_and_store(
        self, entry: ReceivedEntry, path: Path, report: PollReport, workdir: Path
    ) -> _Ready | tuple[str, str, list[str]] | None:
        try:
            if _small(path):
                parsed, incoming = read_packet(path, self.ctx.settings.max_packet_bytes, workdir)
            else:
                parsed, incoming = await asyncio.to_thread(
                    read_packet, path, self.ctx.settings.max_packet_bytes, workdir
                )
        except AppError as exc:
            detail = f"{exc.code}: {exc.details.get('reason', '')}"
            log.warning("axis packet %s refused: %s", entry.doc_id, detail)
            await self._remember_refusal(entry, detail)
            report.rejected += 1
            return entry.doc_id, "rejected", []
        with parsed:
            if isinstance(incoming, IncomingStatus):
                return _Ready(entry, incoming)
            packet = parsed.packet
            assert isinstance(packet, EdocPacket) and isinstance(incoming, IncomingDocument)
            if not addressed_to_us(incoming, await self.ctx.hosted_codes_now()):
                # Perhaps an agency we have not heard of yet: leave it listed and look again later.
                report.ignored += 1
                log.warning(
                    "axis packet %s is addressed to none of our agencies (%s)",
                    entry.doc_id, ", ".join(code for code, _ in incoming.recipients),
                )  # fmt: skip
                return None
            assert self.ctx.files is not None
            files = await self.ctx.files.put_attachments(packet.attachments)
            packet_sha256 = await self.ctx.files.put_file(path, "application/xml")
        return _Ready(entry, incoming, files, packet_sha256)

    async def _import_all(self, ready: list[_Ready], report: PollReport) -> list[tuple[str, str, list[str]]]:
        """Import the round's packets, IMPORT_BATCH to a transaction (runtime group commit: if
        one fails, each is imported alone). Queued in the order the axis listed them."""
        works = [_Import(self.receiving, item) for item in ready]
        outcomes = await asyncio.gather(
            *(self._imports.enqueue(work) for work in works), return_exceptions=True
        )
        to_ack: list[tuple[str, str, list[str]]] = []
        for work, outcome in zip(works, outcomes, strict=True):
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            if isinstance(outcome, BaseException):
                _import_failed(work.item, outcome, report)
                continue
            assert work.imported is not None
            outcome_name = _outcome(work.imported)
            if outcome_name == "imported":
                report.imported += 1
            else:
                report.duplicates += 1
            to_ack.append((work.item.entry.doc_id, outcome_name, work.imported.event_ids))
        return to_ack

    async def _remember_packets(self, tx: Tx, works: Sequence[_Import]) -> None:
        """The docIds, with what became of each, in the imports' transaction. A docId another
        replica recorded meanwhile is left as it is: its import here found every content key
        taken and wrote nothing."""
        await insert_many_once(
            tx.session,
            axis_packets,
            [
                {
                    "axis_doc_id": work.item.entry.doc_id,
                    "message_type": work.item.entry.message_type,
                    "outcome": _outcome(work.imported),
                    "detail": "",
                    "event_ids": work.imported.event_ids,
                    "received_at": self.ctx.utcnow(),
                }
                for work in works
                if work.imported is not None
            ],
        )

    async def aclose(self) -> None:
        await self._imports.aclose()

    async def _remember_refusal(self, entry: ReceivedEntry, detail: str) -> None:
        async with self.ctx.uow.begin() as tx:
            await insert_once(
                tx.session,
                axis_packets,
                {
                    "axis_doc_id": entry.doc_id,
                    "message_type": entry.message_type,
                    "outcome": "rejected",
                    "detail": detail[:2000],
                    "event_ids": [],
                    "received_at": self.ctx.utcnow(),
                },
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


def _small(path: Path) -> bool:
    """Whether a downloaded packet is small enough to read on the event loop (costs one stat)."""
    return path.stat().st_size <= INLINE_BYTES


def _import_failed(item: _Ready, exc: Exception, report: PollReport) -> None:
    # Left listed: the next round tries it again.
    log.warning("axis packet %s not imported this round: %r", item.entry.doc_id, exc)
    report.errors.append(f"{item.entry.doc_id}: {exc}")


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
