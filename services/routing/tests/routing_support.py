"""Helpers of the routing tests: the harness, a seeded agency, contract payloads.

`Harness` drives the service like its neighbours do: it publishes the registry's contract
events on NATS, calls the REST API with real JWTs, and listens to what routing publishes.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from nats.aio.client import Client as NATS
from pydantic import BaseModel

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events import registry as reg
from vanthu_contracts.events.common import Role
from vanthu_routing.clock import FixedClock
from vanthu_runtime.auth import DevTokenIssuer, Principal


def random_agency() -> str:
    n = int.from_bytes(os.urandom(2), "big")
    return f"{n % 1000:03d}.{n // 1000 % 100:02d}.00.H{n % 97:02d}"


@dataclass
class Person:
    id: str
    unit: str | None
    roles: list[Role]
    name: str


@dataclass
class Harness:
    app: Any
    client: httpx.AsyncClient
    issuer: DevTokenIssuer
    nc: NATS
    agency: str
    clock: FixedClock
    received: list[dict[str, Any]] = field(default_factory=list)
    people: dict[str, Person] = field(default_factory=dict)

    def token(self, who: str, **extra: Any) -> dict[str, str]:
        p = self.people[who]
        principal = Principal(
            user_id=p.id, agency=self.agency, unit=p.unit, roles=[str(r) for r in p.roles], name=p.name
        )
        headers = {"Authorization": f"Bearer {self.issuer.mint(principal)}"}
        headers.update({k.replace("_", "-"): v for k, v in extra.items()})
        return headers

    async def call(self, method: str, url: str, who: str, expect: int = 200, **kwargs: Any) -> Any:
        headers = self.token(who) | kwargs.pop("headers", {})
        response = await self.client.request(method, url, headers=headers, **kwargs)
        assert response.status_code == expect, (response.status_code, response.text)
        return response.json()

    async def publish(self, type_: str, payload: BaseModel, actor: str = "system", source: str = "registry") -> Envelope:
        env = Envelope(type=type_, source=source, agency=self.agency, actor=actor, payload=payload)
        js = self.nc.jetstream()
        await js.publish(f"vanthu.evt.{type_}", env.model_dump_json().encode(), headers={"Nats-Msg-Id": str(env.id)})
        return env

    def events(self, type_prefix: str = "routing.", **match: Any) -> list[dict[str, Any]]:
        out = []
        for e in self.received:
            if not e["type"].startswith(type_prefix):
                continue
            if all(e["payload"].get(k) == v for k, v in match.items()):
                out.append(e)
        return out

    async def wait_for(self, predicate: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return result
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    async def wait_event(self, type_: str, timeout: float = 15.0, **match: Any) -> dict[str, Any]:
        found = await self.wait_for(lambda: self.events(type_, **match), type_, timeout)
        return found[-1]

    async def add_unit(self, unit_id: str, parent: str | None = None) -> None:
        await self.publish(
            reg.UNIT_UPSERTED.type,
            reg.UnitUpserted(
                id=unit_id, agency_code=self.agency, name=f"Phòng {unit_id}", abbreviation=unit_id.upper()[:20],
                parent_unit_id=parent,
            ),
        )

    async def add_person(self, key: str, unit: str | None, *roles: Role, name: str = "") -> Person:
        person = Person(id=f"{key}-{self.agency}", unit=unit, roles=list(roles), name=name or key)
        self.people[key] = person
        payload = reg.UserUpserted(
            id=person.id,
            username=f"{key}.{os.urandom(3).hex()}",
            full_name=person.name[:50],
            agency_code=self.agency,
            unit_id=unit,
            position="",
            roles=list(roles),
        )
        await self.publish(reg.USER_UPSERTED.type, payload)
        return person


async def seed_agency(h: Harness) -> None:
    """A small agency: văn phòng, two units (one with a sub-unit), leaders, heads, specialists."""
    for unit, parent in (("vp", None), ("pa", None), ("pa1", "pa"), ("pb", None)):
        await h.add_unit(f"{unit}-{h.agency}", f"{parent}-{h.agency}" if parent else None)
    u = lambda k: f"{k}-{h.agency}"  # noqa: E731
    await h.add_person("leader", u("vp"), Role.HEAD, name="Nguyễn Văn Lãnh")
    await h.add_person("deputy", u("vp"), Role.DEPUTY_HEAD, name="Trần Thị Phó")
    await h.add_person("clerk", u("vp"), Role.CLERK, name="Lê Văn Thư")
    await h.add_person("head_a", u("pa"), Role.UNIT_HEAD, name="Phạm Trưởng A")
    await h.add_person("head_b", u("pb"), Role.UNIT_HEAD, name="Hoàng Trưởng B")
    await h.add_person("spec_a", u("pa"), Role.SPECIALIST, name="Vũ Chuyên A")
    await h.add_person("spec_a1", u("pa1"), Role.SPECIALIST, name="Đỗ Chuyên A1")
    await h.add_person("spec_b", u("pb"), Role.SPECIALIST, name="Bùi Chuyên B")
    ctx = h.app.state.routing
    from sqlalchemy import func, select

    from vanthu_routing.repository import dir_units, dir_users

    async def projected() -> bool:
        async with ctx.uow.read() as session:
            users = (await session.execute(select(func.count()).where(dir_users.c.agency_code == h.agency))).scalar_one()
            units = (await session.execute(select(func.count()).where(dir_units.c.agency_code == h.agency))).scalar_one()
        return users == 8 and units == 4

    await h.wait_for(projected, "the directory projection")


def unit_id(h: Harness, key: str) -> str:
    return f"{key}-{h.agency}"


def registered(agency: str, document_id: str, **overrides: Any) -> reg.IncomingRegistered:
    """A registry.document.registered payload, as the registry publishes it."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "document_id": document_id,
        "agency_code": agency,
        "type_name": "Công văn",
        "code_number": "123",
        "code_notation": "BNV-VP",
        "issued_date": now.date(),
        "issuer": reg.OrganRef(organ_id="000.00.00.G22", organ_name="Bộ Nội vụ"),
        "subject": "V/v báo cáo tình hình thực hiện cải cách hành chính",
        "register_id": "den-2026",
        "register_year": now.year,
        "incoming_number": 17,
        "received_at": now,
        "registered_at": now,
        "channel": reg.Channel.AXIS,
        "external_document_id": f"000.00.00.G22,{now:%Y/%m/%d},123/BNV-VP",
        "sender": reg.OrganRef(organ_id="000.00.00.G22", organ_name="Bộ Nội vụ"),
    }
    values.update(overrides)
    return reg.IncomingRegistered(**values)
