"""Helpers of the registry tests: the app in-process with a small org chart, tokens for its people."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from registry_pdfs import make_pdf

from vanthu_contracts.events.common import Role
from vanthu_registry.app import create_app
from vanthu_registry.settings import RegistrySettings
from vanthu_runtime.auth import DevTokenIssuer, Principal, ensure_dev_keypair
from vanthu_testing.clock import local_today

PARENT = "000.00.00.H99"
AGENCY = "000.00.12.H99"  # Sở Xây dựng (SXD)
OTHER = "000.00.13.H99"  # Sở Tài chính (STC)
ROLES = {
    "vanthu": Role.CLERK,
    "lanhdao": Role.HEAD,
    "truongphong": Role.UNIT_HEAD,
    "chuyenvien": Role.SPECIALIST,
    "chuyenvien2": Role.SPECIALIST,
    "quantri": Role.ADMIN,
}


@dataclass
class Harness:
    app: Any
    client: httpx.AsyncClient
    settings: RegistrySettings
    issuer: DevTokenIssuer
    people: dict[str, Principal] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.mint(self.people[who])}"}

    @property
    def services(self) -> Any:
        return self.app.state.services


async def _seed(directory: Any) -> tuple[dict[str, Principal], dict[str, str]]:
    people: dict[str, Principal] = {}
    units: dict[str, str] = {}
    await directory.upsert_agency(
        None, {"code": PARENT, "name": "Ủy ban nhân dân tỉnh H99", "abbreviation": "UBND"}
    )
    for code, name, abbr, prefix in (
        (AGENCY, "Sở Xây dựng", "SXD", ""),
        (OTHER, "Sở Tài chính", "STC", "stc."),
    ):
        await directory.upsert_agency(
            None, {"code": code, "name": name, "abbreviation": abbr, "parent_code": PARENT}
        )
        office = await directory.upsert_unit(
            None, {"agency_code": code, "name": "Văn phòng", "abbreviation": "VP"}
        )
        tech = await directory.upsert_unit(
            None, {"agency_code": code, "name": "Phòng Kỹ thuật", "abbreviation": "KT"}
        )
        units[prefix + "VP"], units[prefix + "KT"] = office.id, tech.id
        for suffix, role in ROLES.items():
            unit = office.id if role in (Role.CLERK, Role.ADMIN) else tech.id if role != Role.HEAD else None
            user = await directory.upsert_user(
                None,
                {
                    "username": f"{prefix}{suffix}".replace(".", "-") if prefix else suffix,
                    "full_name": f"Người dùng {suffix}",
                    "agency_code": code,
                    "unit_id": unit,
                    "position": str(role),
                    "roles": [role],
                },
            )
            people[prefix + suffix] = Principal(
                user_id=user.id, agency=code, unit=unit, roles=[str(role)], name=user.full_name
            )
    return people, units


def registry_settings(tmp: Path, database_url: str, nats_url: str, **extra: Any) -> RegistrySettings:
    private_key, public_key = ensure_dev_keypair(tmp / "keys")
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "object_store": "local",
        "object_store_dir": tmp / "objects",
        "jwt_public_key_file": public_key,
        "jwt_private_key_file": private_key,
        "log_json": False,
        "log_level": "WARNING",
        "text_index_interval_s": 0.1,
        "public_url": "http://testserver",
        "instance": "test",
    }
    values.update(extra)
    return RegistrySettings(**values)


async def start_harness(settings: RegistrySettings) -> AsyncIterator[Harness]:
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            people, units = await _seed(app.state.directory)
            issuer = DevTokenIssuer(
                settings.jwt_private_key_file.read_bytes(),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            )
            yield Harness(app, client, settings, issuer, people, units)


async def publish_event(
    nats_url: str, type_: str, source: str, agency: str, payload: Any, actor: str = "system"
) -> str:
    """Publish one event to JetStream as its producing service would (envelope + Nats-Msg-Id)."""
    import nats

    from vanthu_contracts.envelope import Envelope
    from vanthu_contracts.subjects import event_subject

    envelope = Envelope(type=type_, source=source, agency=agency, actor=actor, payload=payload)
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(
            event_subject(type_),
            envelope.model_dump_json().encode(),
            headers={"Nats-Msg-Id": envelope.msg_id},
        )
    finally:
        await nc.close()
    return envelope.msg_id


async def eventually(check: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll an async check until it returns something truthy (bounded)."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


def meta(**kw: Any) -> dict[str, Any]:
    base = {
        "type": "cong_van",
        "subject": "V/v báo cáo tình hình thực hiện kế hoạch",
        "code_number": "123",
        "code_notation": "BXD-VP",
        "issued_date": str(local_today() - timedelta(days=2)),
        "organ_name": "Bộ Xây dựng",
        "signer_position": "Thứ trưởng",
        "signer_name": "Nguyễn Văn A",
    }
    base.update(kw)
    return base


async def register(h: Harness, who: str = "vanthu", pdf: bytes | None = None, **kw: Any) -> Any:
    return await h.client.post(
        "/api/v1/incoming",
        headers=h.auth(who),
        data={"metadata": json.dumps(meta(**kw))},
        files={"file": ("scan.pdf", pdf if pdf is not None else make_pdf(pages=2), "application/pdf")},
    )
