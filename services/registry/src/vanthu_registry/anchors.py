"""The audit log's anchors read back: from the event stream, or from a file a subscriber kept.

The registry publishes `registry.audit.sealed` as its audit log grows (audit.py). The events
stream keeps every event, so `vanthu audit verify --anchors nats` reads them there; a province
that archives events elsewhere (its log archive, a SIEM) passes that copy as a file instead:
one JSON object per line, either the whole event envelope or only its payload.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from vanthu_contracts.events import registry as contract
from vanthu_contracts.streams import EVENTS_STREAM
from vanthu_contracts.subjects import event_subject
from vanthu_registry.domain.audit import Anchor
from vanthu_runtime.errors import AppError


def _unreadable(reason: str) -> AppError:
    return AppError(contract.AUDIT_ANCHORS_UNREADABLE, {"reason": reason})


def _anchor(raw: str | bytes, where: str) -> Anchor:
    """One anchor from a whole event or its payload, as JSON; `where` names it in the error."""
    try:
        data = json.loads(raw)
        sealed = contract.AuditSealed.model_validate(data.get("payload", data))
    except (ValueError, ValidationError, AttributeError) as exc:
        raise _unreadable(f"{where}: {str(exc).splitlines()[0]}") from None
    return Anchor(chain=sealed.chain, seq=sealed.seq, hash=sealed.hash, sealed_at=sealed.sealed_at)


def from_file(path: Path) -> list[Anchor]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise _unreadable(f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
    return [_anchor(line, f"{path}:{number}") for number, line in enumerate(lines, start=1) if line.strip()]


async def from_stream(nats_url: str, creds_file: str | None = None, timeout_s: float = 10.0) -> list[Anchor]:
    """Every anchor in the events stream, oldest first."""
    from nats.errors import Error as NatsError
    from nats.js.api import DeliverPolicy
    from nats.js.errors import NotFoundError

    from vanthu_runtime.messaging.connection import connect_once

    subject = event_subject(contract.AUDIT_SEALED.type)
    try:
        nc = await connect_once(
            nats_url, name="vanthu-audit-verify", timeout_s=timeout_s, creds_file=creds_file
        )
    except (OSError, TimeoutError, NatsError) as exc:
        raise _unreadable(f"NATS {nats_url}: {exc or type(exc).__name__}") from None
    try:
        js = nc.jetstream()
        try:
            last = await js.get_last_msg(EVENTS_STREAM.name, subject)
        except NotFoundError:
            return []
        anchors = []
        subscription = await js.subscribe(subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
        try:
            while True:
                msg = await subscription.next_msg(timeout=timeout_s)
                anchors.append(_anchor(msg.data, f"{EVENTS_STREAM.name} #{msg.metadata.sequence.stream}"))
                if msg.metadata.sequence.stream >= last.seq:
                    return anchors
        finally:
            await subscription.unsubscribe()
    except TimeoutError:
        raise _unreadable(f"NATS {nats_url}: no answer within {timeout_s:g} s") from None
    finally:
        await nc.close()
