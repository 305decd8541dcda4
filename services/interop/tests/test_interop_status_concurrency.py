"""Statuses of one recipient imported at the same time, on PostgreSQL: none is lost.

A poll lists every status packet waiting on the axis and imports them in parallel; a recipient
often reports 01 and 03 in the same poll. Each import reads the recipient's tracking row, adds its
report to the history and writes it back; without a row lock the last writer wins on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from interop_harness import connect, issued, publish

from vanthu_contracts.events.common import Role
from vanthu_contracts.events.registry import Channel
from vanthu_interop.app import create_app
from vanthu_interop.domain.incoming import IncomingStatus
from vanthu_interop.settings import InteropSettings, OwnAgency
from vanthu_runtime.auth import DevTokenIssuer, Principal, ensure_dev_keypair
from vanthu_testing.nats_server import NatsServer

pytestmark = [pytest.mark.nats, pytest.mark.postgres]

PROVINCE = "000.00.00.H99"
MINISTRY = "000.00.00.G22"


@pytest.fixture
async def served(tmp_path: Path, postgres_url: str) -> AsyncIterator[dict[str, Any]]:
    nats = NatsServer(tmp_path / "nats")  # its own: the interop_* durables see only this test
    nats.start()
    private_key, public_key = ensure_dev_keypair(tmp_path / "keys")
    settings = InteropSettings(
        database_url=postgres_url,
        nats_url=nats.url,
        object_store_dir=tmp_path / "objects",
        jwt_public_key_file=public_key,
        agencies=[OwnAgency(code=PROVINCE, name="UBND tỉnh Hòa Bình Xanh")],
        send_backoff_s=[60.0],  # no axis here: the one send attempt fails and waits
        outbox_poll_interval_s=0.05,
        log_json=False,
        log_level="WARNING",
    )
    nc, _log = await connect(nats.url)
    app = create_app(settings)
    clerk = DevTokenIssuer(
        private_key.read_bytes(), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    ).mint(Principal(user_id="u-clerk", agency=PROVINCE, roles=[str(Role.CLERK)]))
    try:
        async with LifespanManager(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://interop"
            ) as client:
                yield {"app": app, "nc": nc, "client": client, "auth": {"Authorization": f"Bearer {clerk}"}}
    finally:
        await nc.close()
        nats.stop()


async def test_parallel_statuses_of_one_recipient_all_reach_its_history(served: dict[str, Any]) -> None:
    document = issued(PROVINCE, 12, external=[(MINISTRY, "Văn phòng Chính phủ")])
    await publish(served["nc"], "registry.document.issued", document, source="registry", agency=PROVINCE)
    url = f"/api/v1/outgoing/{document.document_id}/recipients"
    for _ in range(100):  # the recipient's row is written when the send is planned
        response = await served["client"].get(url, headers=served["auth"])
        if response.status_code == 200 and response.json():
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail(f"the send was never planned: {response.status_code} {response.text}")

    interop = served["app"].state.interop
    codes = ["01", "03", "04", "05"]

    async def report(code: str) -> None:
        status = IncomingStatus(
            reporter={"organ_id": MINISTRY, "organ_name": "Văn phòng Chính phủ"},
            external_document_id=document.axis_document_id,
            addressee=PROVINCE,
            code=code,
            description=f"trạng thái {code}",
            reported_at=datetime(2026, 3, 2, 9, int(code)),
        )
        async with interop.ctx.uow.begin() as tx:
            await interop.receiving.import_status(tx, status, channel=Channel.AXIS)

    for _ in range(3):  # several rounds: one lucky ordering must not hide a lost update
        await asyncio.gather(*(report(code) for code in codes))
    [row] = (await served["client"].get(url, headers=served["auth"])).json()
    assert sorted(h["code"] for h in row["history"]) == codes  # each report once (the rest are duplicates)
    assert row["code"] == "05" and row["label_vi"] == "Đang xử lý"
