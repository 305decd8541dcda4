"""Search with or without diacritics over metadata and the PDF text layer, on SQLite FTS5 and PostgreSQL."""

from __future__ import annotations

import pytest
from registry_pdfs import make_pdf
from registry_support import Harness, eventually, register

pytestmark = [pytest.mark.nats]


async def search(h: Harness, who: str = "vanthu", **params: object) -> dict:
    r = await h.client.get("/api/v1/documents", headers=h.auth(who), params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_accent_insensitive_search_over_metadata(registry: Harness) -> None:
    h = registry
    qd = (await register(h, type="QĐ", code_number="301", code_notation="QĐ-UBND",
                         subject="Quyết định về việc phê duyệt dự án đầu tư xây dựng", organ_name="Ủy ban nhân dân tỉnh Lạng Sơn")).json()
    kh = (await register(h, type="KH", code_number="302", code_notation="KH-SGD", subject="Kế hoạch đào tạo cán bộ năm 2026",
                         organ_name="Sở Giáo dục và Đào tạo")).json()
    for q in ("quyet dinh phe duyet", "Quyết định phê duyệt", "QUYET DINH", "quyet din"):
        assert [i["id"] for i in (await search(h, q=q))["items"]] == [qd["id"]], q
    assert [i["id"] for i in (await search(h, q="dao tao can bo"))["items"]] == [kh["id"]]
    assert [i["id"] for i in (await search(h, q="lang son"))["items"]] == [qd["id"]]  # the issuer's name
    assert [i["id"] for i in (await search(h, q="301/QĐ-UBND"))["items"]] == [qd["id"]]  # số, ký hiệu
    assert (await search(h, q="quyet dinh khong ton tai xyz"))["items"] == []


async def test_pdf_text_layer_is_searchable(registry: Harness) -> None:
    h = registry
    doc = (await register(h, code_number="303", pdf=make_pdf("Đề nghị bố trí kinh phí Zyxwvu cho Bình Minh"))).json()

    async def found() -> bool:
        items = (await search(h, q="binh minh zyxwvu"))["items"]
        return [i["id"] for i in items] == [doc["id"]]

    await eventually(found)


async def test_filters_sorting_paging_and_columns(registry: Harness) -> None:
    h = registry
    ids = [(await register(h, type="TB", code_number=str(400 + i), code_notation="TB-STP", subject=f"Thông báo lịch họp tuần {i}")).json()
           for i in range(5)]
    page1 = await search(h, q="thong bao lich hop", sort="number", size=2, columns="number,subject")
    assert page1["total"] == 5 and page1["total_is_exact"] is True
    assert [i["id"] for i in page1["items"]] == [ids[0]["id"], ids[1]["id"]]
    assert set(page1["items"][0]) == {"id", "number", "subject"}
    page3 = await search(h, q="thong bao lich hop", sort="number", size=2, page=3)
    assert [i["id"] for i in page3["items"]] == [ids[4]["id"]]
    newest = await search(h, q="thong bao lich hop", sort="-number", size=1)
    assert newest["items"][0]["id"] == ids[4]["id"]
    exact = await search(h, code_number="402", type_code="thong_bao")
    assert [i["id"] for i in exact["items"]] == [ids[2]["id"]]
    contains = await search(h, subject__contains="tuần 3")
    assert [i["id"] for i in contains["items"]] == [ids[3]["id"]]
    dated = await search(h, q="thong bao lich hop", arrival_date__from="2000-01-01", arrival_date__to="2000-12-31")
    assert dated["items"] == []
    r = await h.client.get("/api/v1/documents", headers=h.auth("vanthu"), params={"columns": "subject,password_hash"})
    assert r.status_code == 422 and r.json()["code"] == "registry.search_field_unknown"
    r = await h.client.get("/api/v1/documents", headers=h.auth("vanthu"), params={"sort": "-nope"})
    assert r.status_code == 422
