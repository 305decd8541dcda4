"""OpenAPI, series configuration rules, file versions, directory events."""

from __future__ import annotations

import pytest
from registry_pdfs import make_pdf
from registry_support import Harness, register

pytestmark = [pytest.mark.nats]


async def test_openapi_lists_the_document_endpoints(sqlite_registry: Harness) -> None:
    paths = (await sqlite_registry.client.get("/openapi.json")).json()["paths"]
    for path in ("/api/v1/incoming", "/api/v1/outgoing", "/api/v1/documents", "/api/v1/work-files",
                 "/api/v1/registers/print", "/api/v1/series/{direction}"):
        assert path in paths


async def test_series_setup_rules(sqlite_registry: Harness) -> None:
    h = sqlite_registry
    twice = [{"series": "a", "name": "A", "types": ["QĐ"]}, {"series": "b", "name": "B", "types": ["quyet_dinh"]},
             {"series": "c", "name": "C", "types": []}, {"series": "m", "name": "M", "types": [], "secret": True}]
    r = await h.client.put("/api/v1/series/incoming", headers=h.auth("vanthu"), json=twice)
    assert r.status_code == 422 and r.json()["code"] == "registry.series_invalid"
    no_secret = [{"series": "c", "name": "C", "types": []}]
    r = await h.client.put("/api/v1/series/incoming", headers=h.auth("vanthu"), json=no_secret)
    assert r.status_code == 422 and r.json()["code"] == "registry.series_invalid"
    unknown = [{"series": "c", "name": "C", "types": ["XYZ"]}, {"series": "m", "name": "M", "types": [], "secret": True}]
    r = await h.client.put("/api/v1/series/incoming", headers=h.auth("vanthu"), json=unknown)
    assert r.status_code == 422 and r.json()["code"] == "registry.unknown_document_type"
    r = await h.client.put("/api/v1/series/incoming", headers=h.auth("chuyenvien"), json=no_secret)
    assert r.status_code == 403
    listed = (await h.client.get("/api/v1/series/incoming", headers=h.auth("vanthu"))).json()
    assert {s["series"] for s in listed} == {"den", "den-mat"}  # unchanged defaults


async def test_file_versions_are_kept(sqlite_registry: Harness) -> None:
    h = sqlite_registry
    doc = (await register(h, code_number="1201")).json()
    r = await h.client.post(
        f"/api/v1/documents/{doc['id']}/files",
        headers=h.auth("vanthu"),
        files={"file": ("phu-luc.pdf", make_pdf("Phụ lục", pages=3), "application/pdf")},
        data={"role": "attachment"},
    )
    assert r.status_code == 201, r.text
    versions = r.json()
    assert [v["version"] for v in versions] == [1, 2] and versions[1]["page_count"] == 3
    assert versions[0]["sha256"] == doc["files"][0]["sha256"]
    bad = await h.client.post(
        f"/api/v1/documents/{doc['id']}/files", headers=h.auth("vanthu"), files={"file": ("x.docx", b"PK\x03\x04", "application/zip")}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "registry.file_not_pdf"
    other = await h.client.post(
        f"/api/v1/documents/{doc['id']}/files", headers=h.auth("stc.vanthu"), files={"file": ("y.pdf", make_pdf("khác"), "application/pdf")}
    )
    assert other.status_code == 404
