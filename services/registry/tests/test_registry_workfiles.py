"""Work files: Danh mục hồ sơ, file codes, one document in several files, close, export PDF + XML."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from registry_pdfs import make_pdf
from registry_support import Harness, register

from vanthu_testing.clock import local_today

pytestmark = [pytest.mark.nats]
YEAR = local_today().year


async def test_work_file_lifecycle_and_export(sqlite_registry: Harness) -> None:
    h = sqlite_registry
    auth = h.auth("vanthu")
    heading = await h.client.post(
        f"/api/v1/work-files/catalog/{YEAR}/headings",
        headers=auth,
        json={"abbreviation": "TCCB", "title": "Tổ chức cán bộ"},
    )
    assert heading.status_code == 201 and heading.json()["numeral"] == "I"
    first = await h.client.post(
        "/api/v1/work-files",
        headers=auth,
        json={
            "year": YEAR,
            "title": "Hồ sơ tuyển dụng viên chức",
            "heading_abbreviation": "TCCB",
            "maintenance": "Vĩnh viễn",
        },
    )
    assert first.status_code == 201, first.text
    assert first.json()["notation"] == "01.TCCB" and first.json()["state"] == "open"
    second = await h.client.post(
        "/api/v1/work-files",
        headers=auth,
        json={
            "year": YEAR,
            "title": "Hồ sơ đào tạo",
            "heading_abbreviation": "TCCB",
            "maintenance": "10 năm",
        },
    )
    assert second.json()["notation"] == "02.TCCB"
    dup = await h.client.post(
        "/api/v1/work-files", headers=auth, json={"year": YEAR, "title": "Trùng", "notation": "01.TCCB"}
    )
    assert dup.status_code == 409 and dup.json()["code"] == "registry.work_file_exists"
    bad = await h.client.post(
        "/api/v1/work-files", headers=auth, json={"year": YEAR, "title": "Sai", "notation": "1/TCCB"}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "registry.file_notation_invalid"

    older = (
        await register(
            h,
            code_number="901",
            issued_date=str(date(YEAR, 1, 2)),
            subject="Văn bản thứ nhất",
            pdf=make_pdf("Thứ nhất", pages=2),
        )
    ).json()
    newer = (
        await register(
            h,
            code_number="902",
            issued_date=str(date(YEAR, 1, 5)),
            subject="Văn bản thứ hai",
            pdf=make_pdf("Thứ hai", pages=1),
        )
    ).json()
    file_id, other_id = first.json()["id"], second.json()["id"]
    for doc in (newer, older):
        r = await h.client.post(
            f"/api/v1/work-files/{file_id}/documents", headers=auth, json={"document_id": doc["id"]}
        )
        assert r.status_code == 200, r.text
    # The same document in a second file: linked, not copied.
    shared = await h.client.post(
        f"/api/v1/work-files/{other_id}/documents", headers=auth, json={"document_id": older["id"]}
    )
    assert shared.json()["ordinal"] == 1
    early = await h.client.get(f"/api/v1/work-files/{file_id}/export.pdf", headers=auth)
    assert early.status_code == 409 and early.json()["code"] == "registry.work_file_open"

    closed = await h.client.post(f"/api/v1/work-files/{file_id}/close", headers=auth)
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    late = await h.client.post(
        f"/api/v1/work-files/{file_id}/documents", headers=auth, json={"document_id": newer["id"]}
    )
    assert late.status_code == 409 and late.json()["code"] == "registry.work_file_closed"

    details = (await h.client.get(f"/api/v1/work-files/{file_id}", headers=auth)).json()
    assert details["doc_total"] == 2 and details["page_total"] == 3
    assert [d["id"] for d in details["documents"]] == [older["id"], newer["id"]]  # time order

    xml = await h.client.get(f"/api/v1/work-files/{file_id}/export.xml", headers=auth)
    root = ET.fromstring(xml.content)
    assert root.findtext("FileCode/FileNotation") == "01.TCCB" and root.findtext("DocTotal") == "2"
    assert [d.findtext("Subject") for d in root.iter("Document")] == ["Văn bản thứ nhất", "Văn bản thứ hai"]
    assert root.findtext("Documents/Document/ArrivalNumber") == str(older["number"])

    exported = await h.client.get(f"/api/v1/work-files/{file_id}/export.pdf", headers=auth)
    reader = PdfReader(io.BytesIO(exported.content))
    assert len(reader.pages) == 1 + 2 + 1
    assert "MỤC LỤC" in reader.pages[0].extract_text()
    assert "Thứ nhất" in reader.pages[1].extract_text() and "Thứ hai" in reader.pages[3].extract_text()

    catalog = (await h.client.get(f"/api/v1/work-files/catalog/{YEAR}", headers=auth)).json()
    assert [f["notation"] for f in catalog["headings"][0]["files"]] == ["01.TCCB", "02.TCCB"]


async def test_register_prints(sqlite_registry: Harness) -> None:
    h = sqlite_registry
    doc = (await register(h, code_number="950", subject="Báo cáo tổng kết công tác văn thư")).json()
    params = {"direction": "incoming", "from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"}
    xlsx = await h.client.get(
        "/api/v1/registers/print", headers=h.auth("vanthu"), params=params | {"format": "xlsx"}
    )
    assert xlsx.status_code == 200, xlsx.text
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A1"].value == "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"
    assert [c.value for c in sheet[4]] == [
        "Ngày đến",
        "Số đến",
        "Tác giả",
        "Số, ký hiệu",
        "Ngày tháng văn bản",
        "Tên loại và trích yếu nội dung",
        "Đơn vị hoặc người nhận",
        "Ngày chuyển",
        "Ký nhận",
        "Ghi chú",
    ]
    numbers = [row[1].value for row in sheet.iter_rows(min_row=6)]
    assert f"{doc['number']:02d}" in numbers
    pdf = await h.client.get("/api/v1/registers/print", headers=h.auth("vanthu"), params=params)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" in text and "tổng kết công tác văn thư" in " ".join(text.split())
    out = await h.client.get(
        "/api/v1/registers/print", headers=h.auth("vanthu"), params=params | {"direction": "outgoing"}
    )
    assert out.status_code == 200
    denied = await h.client.get("/api/v1/registers/print", headers=h.auth("chuyenvien"), params=params)
    assert denied.status_code == 403
    backwards = await h.client.get(
        "/api/v1/registers/print",
        headers=h.auth("vanthu"),
        params=params | {"from": f"{YEAR}-12-31", "to": f"{YEAR}-01-01"},
    )
    assert backwards.status_code == 422 and backwards.json()["code"] == "registry.period_invalid"
