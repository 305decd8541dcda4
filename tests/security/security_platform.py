"""The five services in this process, on one private nats-server, for the security tests.

Each service is built through its own composition root (`create_app`) and started with its
lifespan, exactly as its own tests do: registry on PostgreSQL with the demo province H99
seeded (six agencies, one user per role each), routing on PostgreSQL, signing, interop and
analytics on SQLite, one shared content-addressed object store (as `vanthu up` and
production have), and interop connected to the axis simulator (a test double served by
uvicorn on loopback, whose state the tests inspect).

A private nats-server keeps the durable consumers of other test modules from meeting the
events this platform produces.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import nats
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select

from vanthu_analytics.app import create_app as create_analytics
from vanthu_analytics.settings import AnalyticsSettings
from vanthu_interop.app import create_app as create_interop
from vanthu_interop.settings import InteropSettings
from vanthu_interop.simulator.app import create_sim_app
from vanthu_interop.simulator.state import AxisState, SimAgency
from vanthu_registry.app import create_app as create_registry
from vanthu_registry.demo import _id as demo_id
from vanthu_registry.demo import load_demo
from vanthu_registry.settings import RegistrySettings
from vanthu_routing.app import create_app as create_routing
from vanthu_routing.settings import RoutingSettings
from vanthu_runtime.auth import DevTokenIssuer, Principal, ensure_dev_keypair
from vanthu_runtime.messaging.provision import provision
from vanthu_signing.app import create_app as create_signing
from vanthu_signing.settings import SigningSettings
from vanthu_testing._process import reserve_free_ports
from vanthu_testing.nats_server import NatsServer
from vanthu_testing.postgres import PostgresDatabase

T = TypeVar("T")

SERVICES = ("registry", "routing", "signing", "interop", "analytics")
PROVINCE = "000.00.00.H99"  # UBND tỉnh: the parent of every demo agency
AGENCY_A = "000.00.12.H99"  # Sở Xây dựng (slug sxd)
AGENCY_B = "000.00.13.H99"  # Sở Tài chính (slug stc)
SLUGS = {PROVINCE: "ubnd", AGENCY_A: "sxd", AGENCY_B: "stc"}
VPCP = "000.00.00.G22"  # Văn phòng Chính phủ: outside the province, reached over the axis

AXIS_SYSTEM, AXIS_SECRET = "00.99.W00", "c2VjdXJpdHktdGVzdHMtYXhpcy1zZWNyZXQtSDk5LTAwMQ=="
VPCP_SYSTEM, VPCP_SECRET = "00.22.W00", "dnBjcC1zeXN0ZW0tc2VjcmV0LWZvci1zZWN1cml0eS10ZXN0cw=="


@dataclass
class Person:
    key: str  # "sxd.vanthu"
    principal: Principal


@dataclass
class SecurityPlatform:
    root: Path
    nats: NatsServer
    issuer: DevTokenIssuer
    apps: dict[str, FastAPI]
    clients: dict[str, httpx.AsyncClient]
    axis: AxisState
    axis_url: str
    people: dict[str, Person] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)

    def person(self, agency: str, suffix: str) -> Principal:
        return self.people[f"{SLUGS[agency]}.{suffix}"].principal

    def auth(self, agency: str, suffix: str) -> dict[str, str]:
        """Bearer header of a demo user, e.g. auth(AGENCY_A, "vanthu")."""
        return {"Authorization": f"Bearer {self.issuer.mint(self.person(agency, suffix))}"}

    def state(self, service: str) -> Any:
        return self.apps[service].state

    def uow(self, service: str) -> Any:
        return self.apps[service].state.runtime.uow

    async def request(
        self, service: str, method: str, url: str, agency: str, suffix: str, **kwargs: Any
    ) -> httpx.Response:
        headers = self.auth(agency, suffix) | kwargs.pop("headers", {})
        return await self.clients[service].request(method, url, headers=headers, **kwargs)


def demo_people() -> dict[str, Person]:
    """Every demo user as the registry seeds them (ids are UUIDv5 of the names, so known up front)."""
    data = load_demo()
    people: dict[str, Person] = {}
    for agency in data["agencies"]:
        units = [demo_id(agency["code"], abbreviation) for _, abbreviation in agency["units"]]
        for person in data["people"]:
            key = f"{agency['slug']}.{person['suffix']}"
            principal = Principal(
                user_id=demo_id(agency["code"], person["suffix"]),
                agency=agency["code"],
                unit=units[person["unit"]] if person["unit"] is not None else None,
                roles=[person["role"]],
                name=person["name"],
            )
            people[key] = Person(key, principal)
    return people


async def eventually(check: Callable[[], Awaitable[T]], what: str, timeout: float = 30.0) -> T:
    """Poll `check` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


def _axis_state(directory: Path) -> AxisState:
    state = AxisState(directory)
    state.add_system(AXIS_SYSTEM, AXIS_SECRET, routes=["H99"])
    state.add_system(VPCP_SYSTEM, VPCP_SECRET, routes=["G22"])
    state.add_agency(SimAgency(code=VPCP, name="Văn phòng Chính phủ", system_id=VPCP_SYSTEM))
    return state


@contextlib.asynccontextmanager
async def _served_simulator(state: AxisState) -> AsyncIterator[str]:
    """The axis simulator over real HTTP on loopback: interop's axis client opens its own connections."""
    import uvicorn

    [port] = reserve_free_ports(1)
    server = uvicorn.Server(
        uvicorn.Config(
            create_sim_app(state), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError("the axis simulator did not start")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def _settings(root: Path, nats_url: str, databases: dict[str, str], axis_url: str) -> dict[str, Any]:
    private_key, public_key = ensure_dev_keypair(root / "keys")
    common: dict[str, Any] = {
        "nats_url": nats_url,
        "jwt_public_key_file": public_key,
        "object_store": "local",
        "object_store_dir": root / "objects",
        "log_json": True,
        "log_level": "WARNING",
        "outbox_poll_interval_s": 0.05,
        "otel_exporter": f"jsonl:{root / 'spans.jsonl'}",
        "province_agency": PROVINCE,  # its administrators run the province-wide operations
    }
    return {
        "registry": RegistrySettings(
            **common,
            database_url=databases["registry"],
            jwt_private_key_file=private_key,
            seed_demo=True,
            public_url="http://registry",
            instance="registry-security",
            text_index_interval_s=0.5,
        ),
        "routing": RoutingSettings(
            **common, database_url=databases["routing"], reminder_interval_s=0, instance="routing-security"
        ),
        "signing": SigningSettings(
            **common, database_url=databases["signing"], worker_instances=1, instance="signing-security"
        ),
        "interop": InteropSettings(
            **common,
            database_url=databases["interop"],
            instance="interop-security",
            axis_enabled=True,
            axis_endpoint=axis_url,
            axis_system_id=AXIS_SYSTEM,
            axis_secret=AXIS_SECRET,
            axis_store_path=str(root / "edoc"),
            axis_timeout_s=5,
            poll_interval_s=0.5,
            partner_sync_interval_s=0,
            send_backoff_s=[0.1, 0.2, 0.2],
        ),
        "analytics": AnalyticsSettings(
            **common, database_url=databases["analytics"], instance="analytics-security"
        ),
    }


FACTORIES: dict[str, Callable[[Any], FastAPI]] = {
    "registry": create_registry,
    "routing": create_routing,
    "signing": create_signing,
    "interop": create_interop,
    "analytics": create_analytics,
}


async def _directory_projected(platform: SecurityPlatform) -> None:
    """Routing has every demo user, interop every demo agency: what registry's events carry."""
    from vanthu_interop.repository import hosted_agencies
    from vanthu_routing.repository import dir_users

    async def routing_knows_everyone() -> bool:
        async with platform.uow("routing").read() as session:
            count = (await session.execute(select(func.count()).select_from(dir_users))).scalar_one()
        return count >= len(platform.people)

    async def interop_hosts_the_province() -> bool:
        async with platform.uow("interop").read() as session:
            rows = (await session.execute(select(hosted_agencies.c.code))).scalars().all()
        return {PROVINCE, AGENCY_A, AGENCY_B} <= set(rows)

    await eventually(routing_knows_everyone, "routing's directory projection", 60)
    await eventually(interop_hosts_the_province, "interop's hosted agencies", 60)


@contextlib.asynccontextmanager
async def security_platform(root: Path, postgres_server_dsn: str) -> AsyncIterator[SecurityPlatform]:
    root.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        server = NatsServer(root / "nats")
        server.start()
        stack.callback(server.stop)
        nc = await nats.connect(server.url)
        report = await provision(nc.jetstream())
        await nc.close()
        assert report.ok, report.errors

        databases: dict[str, str] = {}
        for name in ("registry", "routing"):
            database = PostgresDatabase(server_dsn=postgres_server_dsn, name_prefix=f"vanthu_security_{name}")
            database.start()
            stack.callback(database.stop)
            databases[name] = database.url
        for name in ("signing", "interop", "analytics"):
            databases[name] = f"sqlite+aiosqlite:///{root / f'{name}.db'}"

        axis = _axis_state(root / "axis")
        axis_url = await stack.enter_async_context(_served_simulator(axis))
        settings = _settings(root, server.url, databases, axis_url)
        apps: dict[str, FastAPI] = {}
        clients: dict[str, httpx.AsyncClient] = {}
        for name in SERVICES:
            app = FACTORIES[name](settings[name])
            await stack.enter_async_context(LifespanManager(app, startup_timeout=90, shutdown_timeout=30))
            apps[name] = app
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url=f"http://{name}", timeout=60
                )
            )
        registry_settings = settings["registry"]
        issuer = DevTokenIssuer(
            registry_settings.jwt_private_key_file.read_bytes(),
            issuer=registry_settings.jwt_issuer,
            audience=registry_settings.jwt_audience,
        )
        platform = SecurityPlatform(
            root, server, issuer, apps, clients, axis, axis_url, demo_people(), databases
        )
        await _directory_projected(platform)
        yield platform
