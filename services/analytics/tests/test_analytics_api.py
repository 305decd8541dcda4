"""The REST reports in-process (real app, lifespan, NATS, SQLite), with real tokens."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import nats
import pytest
from analytics_scenarios import GOOD, GOOD_CHILD, PROVINCE, REG_ONLY, october_province
from asgi_lifespan import LifespanManager
from openpyxl import load_workbook

from vanthu_analytics.app import create_app
from vanthu_analytics.ingest import FactPipeline
from vanthu_analytics.settings import AnalyticsSettings
from vanthu_contracts.events.analytics import FACTS_CONSUMER
from vanthu_contracts.streams import STREAMS
from vanthu_runtime.auth import DevTokenIssuer, Principal, ensure_dev_keypair
from vanthu_runtime.messaging.provision import provision
from vanthu_runtime.uow import UnitOfWork
from vanthu_testing.nats_server import NatsServer

pytestmark = [pytest.mark.nats]


@pytest.fixture
async def client(
    tmp_path: Path, sqlite_uow: UnitOfWork, sqlite_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, DevTokenIssuer]]:
    events = october_province()
    await FactPipeline(sqlite_uow).apply(events)
    private_key, public_key = ensure_dev_keypair(tmp_path / "keys")
    issuer = DevTokenIssuer(private_key.read_bytes(), issuer="vanthu-dev", audience="vanthu")
    with NatsServer(tmp_path / "nats") as server:
        nc = await nats.connect(server.url)
        assert (await provision(nc.jetstream(), streams=STREAMS, consumer_specs=(FACTS_CONSUMER,))).ok
        await nc.close()
        settings = AnalyticsSettings(
            database_url=sqlite_url, nats_url=server.url, jwt_public_key_file=public_key, log_json=False
        )
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://analytics"
            ) as http:
                yield http, issuer


def _auth(issuer: DevTokenIssuer, agency: str, role: str = "lanh_dao") -> dict[str, str]:
    token = issuer.mint(Principal(user_id=f"{agency}:leader", agency=agency, roles=[role]), ttl_s=600)
    return {"Authorization": f"Bearer {token}"}


async def test_reports_over_rest(client) -> None:
    http, issuer = client
    province = _auth(issuer, PROVINCE)

    response = await http.get("/api/v1/analytics/province", params={"month": "2026-10"}, headers=province)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["incoming"], body["outgoing"]) == (23, 10)
    assert body["summary_vi"].startswith("Trong tháng 10/2026, toàn tỉnh có 23 văn bản đến, 10 văn bản đi")

    usage = await http.get(
        "/api/v1/analytics/usage",
        params={"month": "2026-10", "agency": GOOD, "group_by": "agency"},
        headers=province,
    )
    assert {r["agency"] for r in usage.json()["rows"]} == {GOOD, GOOD_CHILD}

    flags = await http.get("/api/v1/analytics/flags", params={"month": "2026-10"}, headers=province)
    kinds = {(f["kind"], f["agency"]) for f in flags.json()["flags"]}
    assert ("register_only", REG_ONLY) in kinds and ("register_only", GOOD) not in kinds

    xlsx = await http.get(
        "/api/v1/analytics/ranking", params={"month": "2026-10", "format": "xlsx"}, headers=province
    )
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A1"].value == "Hạng" and sheet["B2"].value == GOOD

    csv = await http.get(
        "/api/v1/analytics/usage",
        params={"start": "2026-10-01", "end": "2026-10-15", "format": "csv"},
        headers=province,
    )
    assert csv.headers["content-type"].startswith("text/csv") and csv.content.startswith(b"\xef\xbb\xbf")

    png = await http.get("/api/v1/analytics/monthly/2026-10/charts/volume_by_agency.png", headers=province)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    svg = await http.get("/api/v1/analytics/monthly/2026-10/charts/daily_volume.svg", headers=province)
    assert svg.headers["content-type"].startswith("image/svg+xml")

    status = await http.get("/api/v1/analytics/status", headers=province)
    assert status.json()["applied_events"] == len(october_province())


async def test_bad_input_gets_stable_codes(client) -> None:
    http, issuer = client
    good = _auth(issuer, GOOD)
    cases = [
        ({"month": "2026-13"}, "/api/v1/analytics/usage", 422, "analytics.bad_month"),
        (
            {"start": "2026-10-10", "end": "2026-10-01"},
            "/api/v1/analytics/usage",
            422,
            "analytics.bad_period",
        ),
        ({"month": "2026-10", "format": "pdf"}, "/api/v1/analytics/usage", 422, "analytics.unknown_format"),
        (
            {"month": "2026-10", "group_by": "planet"},
            "/api/v1/analytics/usage",
            422,
            "analytics.bad_grouping",
        ),
        ({"month": "2026-10", "agency": REG_ONLY}, "/api/v1/analytics/usage", 403, "analytics.outside_scope"),
        (
            {"month": "2026-10", "agency": "999.99.99.H99"},
            "/api/v1/analytics/usage",
            404,
            "analytics.unknown_agency",
        ),
        ({"month": "2026-10", "inactive_days": 0}, "/api/v1/analytics/flags", 422, "analytics.bad_threshold"),
    ]
    for params, path, status, code in cases:
        response = await http.get(path, params=params, headers=good)
        assert (response.status_code, response.json()["code"]) == (status, code), params
        assert response.json()["message_vi"] and response.json()["message_en"]
    chart = await http.get("/api/v1/analytics/monthly/2026-10/charts/pie.png", headers=good)
    assert chart.json()["code"] == "analytics.unknown_chart"
    specialist = _auth(issuer, GOOD, "chuyen_vien")
    assert (await http.get("/api/v1/analytics/usage", headers=specialist)).status_code == 403
    assert (await http.get("/api/v1/analytics/usage")).status_code == 401
