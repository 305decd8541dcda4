"""Helpers for the interop service tests: events in and out of a real NATS, issued documents."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import nats
from nats.aio.client import Client as NATS

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events.registry import (
    AgencyUpserted,
    FileRef,
    OrganRef,
    OutgoingIssued,
    publish_subject,
)
from vanthu_runtime.messaging.provision import provision
from vanthu_testing.clock import local_today


class EventLog:
    """Every interop event on a platform's NATS, collected by an ordered consumer."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def of(self, type_: str, **match: Any) -> list[dict[str, Any]]:
        found = []
        for event in self.events:
            if event["type"] != type_:
                continue
            if all(event["payload"].get(k) == v for k, v in match.items()):
                found.append(event)
        return found

    async def wait_for(
        self, type_: str, count: int = 1, timeout: float = 30.0, **match: Any
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(type_, **match)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        seen = [(e["type"], {k: e["payload"].get(k) for k in match}) for e in self.events]
        raise AssertionError(f"timed out waiting for {count} × {type_} {match}; seen {seen}")


async def connect(url: str) -> tuple[NATS, EventLog]:
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    report = await provision(js)
    assert report.ok, report.errors
    log = EventLog()

    async def collect(msg: Any) -> None:
        log.events.append({**json.loads(msg.data), "subject": msg.subject})

    await js.subscribe("vanthu.evt.interop.>", cb=collect, ordered_consumer=True)
    # A secret document's received/updated/replaced events travel under the secret prefix.
    await js.subscribe("vanthu.evt.secret.interop.>", cb=collect, ordered_consumer=True)
    return nc, log


async def publish(nc: NATS, type_: str, payload: Any, *, source: str, agency: str | None = None) -> str:
    envelope = Envelope[Any](type=type_, source=source, agency=agency, payload=payload)
    await nc.jetstream().publish(
        publish_subject(type_, payload),  # as the platform's outbox does: secret documents apart
        envelope.model_dump_json().encode(),
        headers={"Nats-Msg-Id": envelope.msg_id},
    )
    return envelope.msg_id


async def announce_agency(nc: NATS, code: str, name: str, hosted: bool = True) -> None:
    agency = AgencyUpserted(code=code, name=name, abbreviation="UBND", hosted=hosted)
    await publish(nc, "registry.agency.upserted", agency, source="registry", agency=code)


def issued(
    agency: str,
    number: int,
    *,
    internal: list[tuple[str, str]] = (),  # type: ignore[assignment]
    external: list[tuple[str, str]] = (),  # type: ignore[assignment]
    files: list[FileRef] | None = None,
    secrecy: str = "thuong",
    notation: str = "UBND-VP",
) -> OutgoingIssued:
    today = local_today()
    code_number = f"{number:02d}"
    return OutgoingIssued(
        document_id=str(uuid.uuid4()),
        agency_code=agency,
        type_name="Công văn",
        code_number=code_number,
        code_notation=notation,
        issued_date=today,
        issuer=OrganRef(organ_id=agency, organ_name="UBND"),
        subject=f"V/v thử nghiệm liên thông số {code_number}",
        secrecy=secrecy,
        files=files or [],
        register_id="di-2026",
        register_year=today.year,
        number=number,
        symbol=f"{code_number}/{notation}",
        axis_document_id=f"{agency},{today:%Y/%m/%d},{code_number}/{notation}",
        issued_at=datetime.now(UTC),
        internal_recipients=[OrganRef(organ_id=c, organ_name=n) for c, n in internal],
        external_recipients=[OrganRef(organ_id=c, organ_name=n) for c, n in external],
    )


def handling(receipt: dict[str, Any], code: str | None, *, reason: str = "") -> dict[str, Any]:
    """A routing handling event about a document we received (routing's HandlingRef fields)."""
    payload = {
        "handling_id": str(uuid.uuid4()),
        "document_id": receipt["document_id"],
        "agency_code": receipt["agency_code"],
        "channel": receipt["channel"],
        "sender": {"organ_id": receipt["sender"]["organ_id"], "organ_name": receipt["sender"]["organ_name"]},
        "external_document_id": receipt["external_document_id"],
        "status_code": code,
    }
    if reason:
        payload["reason"] = reason
    return payload


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)
