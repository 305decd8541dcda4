"""Publish envelopes to VANTHU_EVENTS in bounded batches (the generator, replays, the benchmark)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

from nats.js import JetStreamContext

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.subjects import event_subject

Wire = tuple[str, str, bytes]  # Nats-Msg-Id, subject, body


def to_wire(envelopes: Iterable[Envelope[Any]]) -> Iterator[Wire]:
    for envelope in envelopes:
        yield str(envelope.id), event_subject(envelope.type), envelope.model_dump_json().encode()


def record(wire: Iterable[Wire], path: Path) -> int:
    """Write a stream to a JSON-lines file (one envelope per line) to publish later, as often as wanted."""
    count = 0
    with path.open("wb") as out:
        for _, _, body in wire:
            out.write(body + b"\n")
            count += 1
    return count


def recorded(path: Path) -> Iterator[Wire]:
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                data = json.loads(line)
                yield str(data["id"]), event_subject(data["type"]), line.rstrip(b"\n")


async def publish(js: JetStreamContext, wire: Iterable[Wire], *, in_flight: int = 1000) -> AsyncIterator[int]:
    """Publish with at most `in_flight` unacknowledged messages; yield the running count per batch.

    The Nats-Msg-Id header is the envelope id, so publishing the same stream twice inside the
    stream's de-duplication window stores it once."""
    batch: list[Wire] = []
    sent = 0
    for item in wire:
        batch.append(item)
        if len(batch) >= in_flight:
            sent += await _send(js, batch)
            batch = []
            yield sent
    if batch:
        sent += await _send(js, batch)
        yield sent


async def _send(js: JetStreamContext, batch: list[Wire]) -> int:
    await asyncio.gather(
        *(js.publish(subject, body, headers={"Nats-Msg-Id": msg_id}) for msg_id, subject, body in batch)
    )
    return len(batch)
