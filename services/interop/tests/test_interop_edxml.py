"""The edXML codec: strict building, identical round trips, lenient and safe parsing."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from interop_edxml_samples import PDF, axis_2019_packet, dotnet_style_packet, status_packet, zipped
from lxml import etree

from vanthu_interop.edxml import BuildOptions, build, build_file, from_json, parse, to_json
from vanthu_interop.edxml.model import NS
from vanthu_interop.edxml.parse import ParseLimits
from vanthu_runtime.errors import AppError

DATA = Path(__file__).parent / "data"

EDOC_SPEC = {
    "kind": "edoc",
    "from": {
        "organ_id": "000.00.00.H99",
        "organ_name": "UBND tỉnh Hòa Bình Xanh",
        "organization_in_charge": "UBND tỉnh Hòa Bình Xanh",
        "organ_add": "Số 1 đường Trần Hưng Đạo",
        "email": "ubnd@h99.gov.vn",
        "telephone": "0218 3852 000",
        "fax": "",
        "website": "h99.gov.vn",
    },
    "to": [
        {
            "organ_id": "000.00.00.G22",
            "organ_name": "Văn phòng Chính phủ",
            "organization_in_charge": None,
            "organ_add": "Số 1 Hoàng Hoa Thám, Ba Đình, Hà Nội",
            "email": "vpcp@gov.vn",
            "telephone": "8043100",
            "fax": "048989898789",
            "website": "vpcp.vn",
        },
        {
            "organ_id": "000.00.00.H41",
            "organ_name": "UBND Tỉnh Nghệ An",
            "organization_in_charge": "UBND Tỉnh Nghệ An",
            "organ_add": "",
            "email": None,
            "telephone": None,
            "fax": None,
            "website": None,
        },
    ],
    "document_id": "000.00.00.H99,2026/03/02,45/UBND-VP",
    "code": {"number": "45", "notation": "UBND-VP"},
    "promulgation": {"place": "Hòa Bình Xanh", "date": "2026-03-02"},
    "document_type": {"type": 1, "type_detail": 0, "type_name": "Công văn"},
    "subject": "V/v báo cáo tình hình <thực hiện> & kết quả",
    "content": "V/v báo cáo tình hình thực hiện",
    "signer": {"competence": "KT. CHỦ TỊCH", "position": "Phó Chủ tịch", "full_name": "Trần Thị Bình"},
    "due_date": "2026-03-16",
    "priority": 1,
    "steering_type": 1,
    "to_places": ["Như trên", "Lưu: VT, VP"],
    "response_for": [
        {
            "organ_id": "000.00.00.G22",
            "code": "7816/VPCP-TTĐT",
            "promulgation_date": "2026-02-20",
            "document_id": "000.00.00.G22,2026/02/20,7816/VPCP-TTĐT",
        }
    ],
    "business": {
        "doc_type": 2,
        "reason": "Cập nhật văn bản điện tử",
        "paper": 0,
        "document_id": "000.00.00.H99,2026/03/01,44/UBND-VP",
        "document_info": 1,
        "document_receiver": 1,
        "receivers": [
            {"organ_id": "000.00.00.G22", "receiver_type": 0},
            {"organ_id": "000.00.00.H41", "receiver_type": 1},
        ],
        "replacements": [
            {"document_id": "000.00.00.H99,2026/01/30,7/UBND-VP", "organ_ids": ["000.00.00.G22"]}
        ],
        "staff": {
            "department": "Văn thư",
            "staff": "Nguyễn Thị Ngọc Trâm",
            "mobile": "84912000001",
            "email": "vt@h99.gov.vn",
        },
    },
    "trace": [{"organ_id": "000.00.00.H99", "timestamp": "2026-03-02T09:30:15"}],
    "attachments": [
        {
            "content_id": "c0ffee00-0000-4000-8000-000000000001",
            "name": "45-UBND-VP.signed.pdf",
            "content_type": "application/pdf",
        },
        {
            "content_id": "c0ffee00-0000-4000-8000-000000000002",
            "name": "Phụ lục số liệu.xlsx",
            "content_type": None,
        },
    ],
    "status": None,
}


@pytest.fixture
def attachment_files(tmp_path: Path) -> list[Path]:
    pdf = tmp_path / "main.pdf"
    pdf.write_bytes(PDF * 50)
    xlsx = tmp_path / "table.xlsx"
    xlsx.write_bytes(zipped("xl/workbook.xml", b"<workbook/>"))  # an xlsx is itself a ZIP
    return [pdf, xlsx]


def _expected(spec: dict, files: list[Path]) -> dict:
    expected = copy.deepcopy(spec)
    for item, path in zip(expected["attachments"], files, strict=True):
        data = path.read_bytes()
        item["size"] = len(data)
        item["sha256"] = hashlib.sha256(data).hexdigest()
        item.setdefault("content_type", None)
    expected["attachments"][1]["content_type"] = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return expected


@pytest.mark.parametrize("options", [BuildOptions(), BuildOptions(zip_attachments=False, cid_prefix=False)])
def test_a_built_document_packet_parses_back_identically(
    tmp_path: Path, attachment_files: list[Path], options: BuildOptions
) -> None:
    out = tmp_path / "out.edxml"
    result = build_file(from_json(EDOC_SPEC, attachment_files), out, options)
    assert result.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    with parse(out) as parsed:
        assert to_json(parsed.packet) == _expected(EDOC_SPEC, attachment_files)
        assert [a.zipped for a in parsed.packet.attachments] == [
            options.zip_attachments,
            options.zip_attachments,
        ]
        assert parsed.packet.attachments[0].path.read_bytes() == attachment_files[0].read_bytes()


@pytest.mark.parametrize("options", [BuildOptions(), BuildOptions(zip_attachments=False, cid_prefix=False)])
def test_a_packet_built_from_bytes_in_memory_parses_back_like_one_built_from_files(
    tmp_path: Path, attachment_files: list[Path], options: BuildOptions
) -> None:
    packet = from_json(EDOC_SPEC, attachment_files)
    in_memory = replace(
        packet,
        attachments=[replace(a, path=None, data=f.read_bytes()) for a, f in zip(packet.attachments, attachment_files, strict=True)],
    )  # fmt: skip
    out = tmp_path / "out.edxml"
    build_file(in_memory, out, options)
    with parse(out) as parsed:
        assert to_json(parsed.packet) == _expected(EDOC_SPEC, attachment_files)
        for got, source in zip(parsed.packet.attachments, attachment_files, strict=True):
            assert got.path.read_bytes() == source.read_bytes()


def test_a_built_status_packet_parses_back_identically() -> None:
    spec = {
        "kind": "status",
        "from": {"organ_id": "000.00.00.H41", "organ_name": "UBND Tỉnh Nghệ An", "organization_in_charge": "UBND Tỉnh Nghệ An",
                 "organ_add": "Vinh", "email": "nghean@gov.vn", "telephone": "0383 840418", "fax": "0383 843049", "website": "www.nghean.vn"},
        "to": [], "document_id": None, "code": None, "promulgation": None, "document_type": None,
        "subject": None, "content": None, "signer": None, "due_date": None, "priority": None,
        "steering_type": None, "to_places": [],
        "response_for": [{"organ_id": "000.00.00.G22", "code": "7816/VPCP-TTĐT", "promulgation_date": "2015-09-30",
                          "document_id": "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"}],
        "business": None, "trace": [], "attachments": [],
        "status": {"code": "05", "description": "Đang xử lý văn bản đến", "timestamp": "2015-09-20T11:08:36",
                   "staff": "Nguyễn Thị Ngọc Trâm"},
    }  # fmt: skip
    sink = io.BytesIO()
    build(from_json(spec), sink)
    with parse(sink.getvalue()) as parsed:
        assert to_json(parsed.packet) == spec


def _children(element: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in element if isinstance(c.tag, str)]


def test_built_packets_have_the_vnpt_prefixes_and_element_order(
    tmp_path: Path, attachment_files: list[Path]
) -> None:
    out = tmp_path / "out.edxml"
    build_file(from_json(EDOC_SPEC, attachment_files), out)
    text = out.read_text("utf-8")
    assert text.startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">'
    )
    assert '<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">' in text
    assert "Trần Thị Bình" in text  # UTF-8 as is, not escaped
    root = etree.fromstring(out.read_bytes())
    assert root.tag == f"{{{NS}}}edXML" and root.prefix is None
    envelope, encoded = list(root)
    for element in envelope.iter():
        assert element.prefix == "edXML", element.tag
    for element in encoded.iter():
        expected = "edXML" if etree.QName(element).localname == "ContentTransferEncoded" else None
        assert element.prefix == expected, element.tag
    assert "<edXML:ContentTransferEncoded xmlns:edXML=" in text
    header = envelope.find(f"{{{NS}}}edXMLHeader/{{{NS}}}MessageHeader")
    assert _children(header) == [
        "From", "To", "To", "DocumentId", "Code", "PromulgationInfo", "DocumentType", "Subject", "Content",
        "SignerInfo", "DueDate", "OtherInfo", "ResponseFor", "SteeringType", "ToPlaces",
    ]  # fmt: skip
    assert _children(header[0]) == [
        "OrganId", "OrganizationInCharge", "OrganName", "OrganAdd", "Email", "Telephone", "Fax", "Website",
    ]  # fmt: skip
    # None is left out, "" is an empty element.
    assert _children(header[2]) == ["OrganId", "OrganizationInCharge", "OrganName", "OrganAdd"]
    business = envelope.find(f".//{{{NS}}}Bussiness")
    assert _children(business) == [
        "DocumentId", "BussinessDocType", "BussinessDocReason", "Paper", "BussinessDocumentInfo",
        "ReplacementInfoList", "StaffInfo",
    ]  # fmt: skip
    attachment = encoded[0]
    assert _children(attachment) == ["ContentId", "AttachmentName", "ContentType", "ContentTransferEncoded"]
    assert attachment[0].text == "cid:c0ffee00-0000-4000-8000-000000000001"
    assert attachment[2].text == "application/zip"
    payload = base64.b64decode(attachment[3].text)
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        [entry] = archive.namelist()
        assert entry.endswith(".pdf") and len(entry) == 36 + 4  # <uuid>.<ext>


def test_official_status_sample_parses() -> None:
    with parse(DATA / "status_processing_05.edxml") as parsed:
        data = to_json(parsed.packet)
    assert data["kind"] == "status"
    assert data["from"]["organ_id"] == "000.00.00.H41"
    assert data["status"] == {
        "code": "05",
        "description": "Đang xử lý văn bản đến",
        "timestamp": "2015-09-20T11:08:36",
        "staff": "Nguyen thi ngoc tram",
    }
    assert data["response_for"] == [
        {
            "organ_id": "000.00.00.G22",
            "code": "7816/VPCP-TTĐT",
            "promulgation_date": "2015-09-30",
            "document_id": "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT",
        }
    ]


def test_official_update_sample_parses_with_its_signature_and_zipped_doc() -> None:
    with parse(DATA / "edoc_update.edxml") as parsed:
        data = to_json(parsed.packet)
    assert data["business"]["doc_type"] == 2
    assert data["business"]["receivers"] == [
        {"organ_id": "000.00.00.H41", "receiver_type": 0},
        {"organ_id": "000.00.00.H14", "receiver_type": 1},
    ]
    assert data["business"]["staff"]["staff"] == "Nguyễn Thị Ngọc Trâm"
    assert data["from"]["organization_in_charge"] == "Văn phòng Chính phủ"
    assert data["document_type"] == {"type": 1, "type_detail": 0, "type_name": "Công văn"}
    [attachment] = data["attachments"]
    assert attachment["content_id"] == "209" and attachment["name"] == "1896_QD-TTg_m_294779.doc"
    assert attachment["content_type"] == "application/msword"  # the ZIP label is not the file's type
    assert attachment["size"] == 4 + 50 * len("Quyết định 1896/QĐ-TTg".encode())


def test_axis_delivered_packet_is_read_leniently() -> None:
    with parse(axis_2019_packet()) as parsed:
        data = to_json(parsed.packet)
        [attachment] = parsed.packet.attachments
        assert attachment.path.read_bytes() == PDF and attachment.zipped
    assert data["document_id"] == "9fbfbad2-6c4b-4b8e-a3a4-2f7b0e9d1c55"
    assert data["to"][0]["organization_in_charge"] is None and data["to"][0]["email"] == ""
    assert data["response_for"] == []  # the collapsed empty <ResponseFor />
    assert data["business"]["doc_type"] == 0  # no Bussiness: a new document
    assert [t["organ_id"] for t in data["trace"]] == ["01.02.G22", "001.00.20.TT2"]
    assert data["attachments"][0]["content_type"] == "application/pdf"
    assert data["attachments"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert data["due_date"] is None and data["priority"] == 0


def test_other_vendors_forms_are_read() -> None:
    with parse(dotnet_style_packet()) as parsed:
        data = to_json(parsed.packet)
        assert parsed.packet.attachments[0].zipped is False
    assert data["document_id"] == "000.00.00.G17,2020/10/30,45/BXD-KTXD"
    assert data["from"]["organ_id"] == "000.00.00.G17"
    assert [o["organ_id"] for o in data["to"]] == ["000.00.00.H53", "000.00.12.H53"]
    assert data["code"] == {"number": "45", "notation": "BXD-KTXD"}
    assert data["promulgation"] == {"place": "Hà Nội", "date": "2020-10-30"}
    assert data["document_type"]["type"] == 18 and data["document_type"]["type_detail"] is None
    assert data["due_date"] is None and data["steering_type"] is None
    assert data["priority"] == 2 and data["to_places"] == ["Như trên"]
    assert data["business"]["doc_type"] == 0 and data["business"]["reason"] == "Văn bản điện tử mới"
    assert data["trace"] == [{"organ_id": "000.00.00.G17", "timestamp": "2020-10-30T08:15:00"}]
    assert data["attachments"][0] | {"sha256": None} == {
        "content_id": "f1", "name": "45-BXD-KTXD.pdf", "content_type": "application/pdf",
        "size": len(PDF), "sha256": None,
    }  # fmt: skip


@pytest.mark.parametrize("code, prefixed", [("5", True), ("05", False), (" 3 ", True), ("13", False)])
def test_status_codes_in_either_form_and_any_order(code: str, prefixed: bool) -> None:
    with parse(status_packet(code, prefixed=prefixed)) as parsed:
        data = to_json(parsed.packet)
    assert data["status"]["code"] == f"{int(code):02d}"
    assert data["status"]["timestamp"] == "2015-09-20T11:08:36"
    assert data["response_for"][0]["code"] == "7816/VPCP-TTĐT"


def test_a_real_zip_attachment_is_not_unwrapped(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(zipped("inside.pdf", PDF))
    out = io.BytesIO()
    spec = copy.deepcopy(EDOC_SPEC) | {
        "attachments": [{"name": "Hồ sơ.zip", "content_type": "application/zip"}]
    }
    build(from_json(spec, [archive]), out, BuildOptions(zip_attachments=False))
    with parse(out.getvalue()) as parsed:
        [item] = parsed.packet.attachments
        assert item.path.read_bytes() == archive.read_bytes()
        assert item.content_type == "application/zip" and item.zipped is False


# -- safety ---------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><Subject>&lol9;</Subject></edXML>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope><edXMLHeader><MessageHeader>
<From><OrganId>&xxe;</OrganId></From><StatusCode>01</StatusCode></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<edXML/>"""

UNDECLARED_ENTITY = (
    b"""<?xml version="1.0"?><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&xxe;</edXML>"""
)


@pytest.mark.parametrize("packet", [BILLION_LAUGHS, XXE, PARAMETER_ENTITY], ids=["bomb", "xxe", "parameter"])
def test_dtds_and_entities_are_refused(packet: bytes) -> None:
    with pytest.raises(AppError) as caught:
        parse(packet)
    assert caught.value.code == "interop.edxml_forbidden"


def test_an_undeclared_entity_is_not_resolved() -> None:
    with pytest.raises(AppError) as caught:
        parse(UNDECLARED_ENTITY)
    assert caught.value.code in ("interop.edxml_forbidden", "interop.edxml_malformed")


@pytest.mark.parametrize(
    "packet, code",
    [
        (b"", "interop.edxml_malformed"),
        (b"<edXML><MessageHeader>", "interop.edxml_malformed"),
        (b"<Manifest xmlns='http://www.go.vn/eDoc'/>", "interop.edxml_invalid"),
        (b"<edXML xmlns='http://www.mic.gov.vn/TBT/QCVN_102_2016'/>", "interop.edxml_invalid"),
        (b"\xff\xfe not xml at all", "interop.edxml_malformed"),
    ],
)
def test_unreadable_packets_get_a_stable_code(packet: bytes, code: str) -> None:
    with pytest.raises(AppError) as caught:
        parse(packet)
    assert caught.value.code == code


def test_limits_refuse_oversized_packets(tmp_path: Path, attachment_files: list[Path]) -> None:
    out = tmp_path / "out.edxml"
    build_file(from_json(EDOC_SPEC, attachment_files), out)
    with pytest.raises(AppError) as caught:
        parse(out, limits=ParseLimits(max_packet_bytes=4096))
    assert caught.value.code == "interop.edxml_too_large"
    with pytest.raises(AppError) as caught:
        parse(out, limits=ParseLimits(max_attachment_bytes=1000))
    assert caught.value.code == "interop.edxml_too_large"
    deep = b"<edXML>" + b"<a>" * 100 + b"</a>" * 100 + b"</edXML>"
    with pytest.raises(AppError) as caught:
        parse(deep)
    assert caught.value.code == "interop.edxml_too_large"
    long_subject = (
        b"<edXML><MessageHeader><Subject>" + b"x" * 2_000_000 + b"</Subject></MessageHeader></edXML>"
    )
    with pytest.raises(AppError) as caught:
        parse(long_subject)
    assert caught.value.code == "interop.edxml_too_large"


def test_a_zip_bomb_attachment_is_refused() -> None:
    bomb = zipped("a.pdf", b"\0" * (20 << 20))  # 20 MiB of zeros deflate to ~20 KiB
    packet = dotnet_style_packet().replace(base64.b64encode(PDF), base64.b64encode(bomb))
    with pytest.raises(AppError) as caught:
        parse(packet, limits=ParseLimits(max_attachment_bytes=1 << 20))
    assert caught.value.code == "interop.edxml_too_large"


def test_corrupt_base64_is_refused() -> None:
    packet = dotnet_style_packet().replace(b"<ContentTransferEncoded>", b"<ContentTransferEncoded>@@!!")
    with pytest.raises(AppError) as caught:
        parse(packet)
    assert caught.value.code == "interop.edxml_attachment_invalid"


def test_parse_leaves_no_temporary_files_behind(tmp_path: Path) -> None:
    with parse(axis_2019_packet(), workdir=tmp_path) as parsed:
        assert any(tmp_path.iterdir())
        assert parsed.packet.attachments[0].path.exists()
    assert not any(tmp_path.iterdir())
    with pytest.raises(AppError):
        parse(dotnet_style_packet().replace(b"</edXML>", b""), workdir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_the_json_has_exactly_the_documented_keys() -> None:
    with parse(axis_2019_packet()) as parsed:
        data = to_json(parsed.packet)
    assert list(data) == [
        "kind", "from", "to", "document_id", "code", "promulgation", "document_type", "subject", "content",
        "signer", "due_date", "priority", "steering_type", "to_places", "response_for", "business", "trace",
        "attachments", "status",
    ]  # fmt: skip
    assert set(data["from"]) == {
        "organ_id", "organ_name", "organization_in_charge", "organ_add", "email", "telephone", "fax", "website",
    }  # fmt: skip
    assert set(data["attachments"][0]) == {"content_id", "name", "content_type", "size", "sha256"}
    json.dumps(data)  # serialisable as is
