"""Gapless numbering under concurrency, and no number consumed by a failed registration."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from registry_pdfs import make_pdf
from registry_support import Harness, meta

pytestmark = [pytest.mark.nats]

CONCURRENT = 60


async def _register(h: Harness, i: int, pdf: bytes, client: Any = None) -> Any:
    return await (client or h.client).post(
        "/api/v1/incoming",
        headers=h.auth("vanthu"),
        data={"metadata": json.dumps(meta(code_number=str(20000 + i), type="bao_cao"))},
        files={"file": ("scan.pdf", pdf, "application/pdf")},
    )


async def test_concurrent_registrations_get_consecutive_numbers(registry: Harness) -> None:
    pdfs = [make_pdf(f"Báo cáo số {i}") for i in range(CONCURRENT)]
    responses = await asyncio.gather(*(_register(registry, i, pdfs[i]) for i in range(CONCURRENT)))
    assert [r.status_code for r in responses] == [201] * CONCURRENT, [r.text for r in responses if r.status_code != 201]
    numbers = sorted(r.json()["number"] for r in responses)
    assert numbers == list(range(numbers[0], numbers[0] + CONCURRENT)), numbers
    assert len({r.json()["register_id"] for r in responses}) == 1


async def test_a_failed_registration_consumes_no_number_and_leaves_no_file(
    registry: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vanthu_registry import incoming

    before = await _register(registry, 900, make_pdf("trước"))
    real_number = incoming.number_documents

    async def number_then_fail(*args: Any, **kw: Any) -> Any:
        # Fault injection after the number was taken: the whole transaction must roll back.
        await real_number(*args, **kw)
        raise RuntimeError("disk full")

    monkeypatch.setattr(incoming, "number_documents", number_then_fail)
    lost_pdf = make_pdf("Văn bản không được lưu")
    import hashlib

    from vanthu_registry.storage import FileStorage

    lost_sha = hashlib.sha256(lost_pdf).hexdigest()
    import httpx

    transport = httpx.ASGITransport(app=registry.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        failed = await _register(registry, 901, lost_pdf, client)
    assert failed.status_code == 500 and failed.json()["code"] == "internal_error"
    monkeypatch.setattr(incoming, "number_documents", real_number)
    after = await _register(registry, 902, make_pdf("sau"))
    assert after.json()["number"] == before.json()["number"] + 1
    store = registry.services.storage.store
    assert isinstance(registry.services.storage, FileStorage)
    assert not await store.exists(lost_sha), "the object of the failed registration is still stored"
