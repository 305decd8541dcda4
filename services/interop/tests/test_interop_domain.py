"""The pure rules: recipients, keys, tracking, mapping packets and issued documents."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from interop_edxml_samples import axis_2019_packet

from vanthu_contracts.events.common import Secrecy, Urgency
from vanthu_interop.domain import outgoing as out
from vanthu_interop.domain import tracking
from vanthu_interop.domain.incoming import (
    IncomingStatus,
    addressed_to_us,
    fit,
    from_edoc,
    problems,
    receipt_key,
)
from vanthu_interop.edxml import parse
from vanthu_interop.edxml.model import Organ

FACTS = {
    "document_id": "doc-1",
    "agency_code": "000.00.00.H99",
    "type_name": "Công văn",
    "code_number": "45",
    "code_notation": "UBND-VP",
    "symbol": "45/UBND-VP",
    "issued_date": "2026-03-02",
    "due_date": "2026-03-20",
    "subject": "V/v báo cáo",
    "urgency": "khan",
    "secrecy": "thuong",
    "signer_position": "Chủ tịch",
    "signer_name": "Trần Văn A",
    "signer_competence": "TM.",
    "axis_document_id": "000.00.00.H99,2026/03/02,45/UBND-VP",
    "internal_recipients": [{"organ_id": "000.00.12.H99", "organ_name": "Sở Tài chính"}],
    "external_recipients": [
        {"organ_id": "000.00.00.G22", "organ_name": "Văn phòng Chính phủ"},
        {"organ_id": "000.00.13.H99", "organ_name": "Sở TT&TT"},
        {"organ_id": "000.00.00.G22", "organ_name": "Văn phòng Chính phủ"},
    ],
    "files": [],
    "response_for": ["000.00.00.G22,2026/02/20,7816/VPCP-TTĐT"],
}


def test_mixed_recipient_lists_are_split_and_deduplicated() -> None:
    recipients = out.split_recipients(
        FACTS["internal_recipients"], FACTS["external_recipients"], {"000.00.13.H99"}
    )
    assert [(r.code, r.internal) for r in recipients] == [
        ("000.00.12.H99", True),
        ("000.00.00.G22", False),
        ("000.00.13.H99", True),  # listed as external, but hosted here: delivered over NATS
    ]


@pytest.mark.parametrize("secrecy, allowed", [(Secrecy.NORMAL, True), (Secrecy.CONFIDENTIAL, False),
                                               (Secrecy.SECRET, False), (Secrecy.TOP_SECRET, False)])  # fmt: skip
def test_only_normal_documents_use_the_axis(secrecy: Secrecy, allowed: bool) -> None:
    assert out.can_use_axis(secrecy) is allowed


def test_idempotency_keys_differ_by_document_recipient_and_version() -> None:
    keys = {
        out.edoc_key("doc-1", "000.00.00.G22", 0, 0),
        out.edoc_key("doc-1", "000.00.00.G22", 1, 2),
        out.edoc_key("doc-1", "000.00.00.H41", 0, 0),
        out.edoc_key("doc-2", "000.00.00.G22", 0, 0),
    }
    assert len(keys) == 4
    assert out.edoc_key("doc-1", "000.00.00.G22", 0, 0) == out.edoc_key("doc-1", "000.00.00.G22", 0, 0)


def test_tracking_only_moves_forward_and_keeps_every_report() -> None:
    shown = tracking.Tracking(None, "", [])
    assert shown.label_vi == "Đã gửi"
    assert tracking.Tracking(None, "", [], "sending").label_vi == "Đang gửi"
    assert tracking.Tracking(None, "", [], "failed").label_vi == "Gửi không thành công"
    assert tracking.Tracking(None, "", [], "sent").label_vi == "Đã gửi"
    for code in ("01", "04", "03", "05"):  # 03 arrives late
        shown = tracking.apply(shown, code, f"r{code}", "2026-03-02T10:00:00")
    assert shown.code == "05" and shown.label_vi == "Đang xử lý"
    assert [h["code"] for h in shown.history] == ["01", "04", "03", "05"]
    shown = tracking.apply(shown, "02", "Sai thẩm quyền", "t")
    assert (
        shown.code == "02" and shown.description == "Sai thẩm quyền" and shown.label_vi == "Từ chối tiếp nhận"
    )
    shown = tracking.apply(shown, "06", "", "t")
    assert shown.code == "02"
    shown = tracking.apply(shown, "15", "Đồng ý thu hồi", "t")
    assert shown.code == "15"


def test_an_axis_packet_maps_to_an_incoming_document() -> None:
    with parse(axis_2019_packet()) as parsed:
        document = from_edoc(parsed.packet)
    assert document.external_document_id == "9fbfbad2-6c4b-4b8e-a3a4-2f7b0e9d1c55"
    assert document.sender["organ_id"] == "01.02.G22" and document.recipients == [
        ("000.00.00.H41", "UBND Tỉnh Nghệ An")
    ]
    assert document.symbol == "3805/VPCP-HC" and document.urgency is Urgency.NORMAL
    assert document.business_doc_type == 0 and problems(document) == []
    assert addressed_to_us(document, {"000.00.00.H41", "000.00.00.H99"}) == ["000.00.00.H41"]
    assert addressed_to_us(document, {"000.00.00.H99"}) == []


def test_receipt_keys_make_a_resent_document_the_same_and_an_update_new() -> None:
    with parse(axis_2019_packet()) as parsed:
        first = from_edoc(parsed.packet)
    with parse(
        axis_2019_packet().replace(b"V/v th\xe1\xbb\xad nghi\xe1\xbb\x87m", b"V/v kh\xc3\xa1c")
    ) as parsed:
        reserialised = from_edoc(parsed.packet)
    assert receipt_key("000.00.00.H41", first) == receipt_key("000.00.00.H41", reserialised)
    assert receipt_key("000.00.00.H41", first) != receipt_key("000.00.00.H14", first)
    reserialised.business_doc_type = 2
    assert receipt_key("000.00.00.H41", first) != receipt_key("000.00.00.H41", reserialised)


def test_issued_facts_become_the_same_incoming_document_over_nats() -> None:
    sender = Organ(organ_id="000.00.00.H99", organ_name="UBND tỉnh H99")
    document = out.as_incoming(FACTS, sender=sender, business_doc_type=0, reason="", related=[])
    assert document.external_document_id == FACTS["axis_document_id"]
    assert document.symbol == "45/UBND-VP" and document.issued_date == date(2026, 3, 2)
    assert document.urgency is Urgency.URGENT and document.business_reason == "Văn bản điện tử mới"
    assert document.response_for == FACTS["response_for"]
    assert ("000.00.12.H99", "Sở Tài chính") in document.recipients


def test_inside_the_province_a_document_is_its_registry_id_not_its_document_id() -> None:
    """A secret document numbered in its own series repeats an ordinary one's DocumentId."""
    sender = Organ(organ_id="000.00.00.H99", organ_name="UBND tỉnh H99")
    ordinary = out.as_incoming(FACTS, sender=sender, business_doc_type=0, reason="", related=[])
    secret_facts = FACTS | {"document_id": "doc-2", "secrecy": "mat"}
    secret = out.as_incoming(secret_facts, sender=sender, business_doc_type=0, reason="", related=[])
    assert ordinary.external_document_id == secret.external_document_id
    assert (ordinary.source_document_id, ordinary.secrecy) == ("doc-1", Secrecy.NORMAL)
    assert (secret.source_document_id, secret.secrecy) == ("doc-2", Secrecy.CONFIDENTIAL)
    assert receipt_key("000.00.12.H99", ordinary) != receipt_key("000.00.12.H99", secret)
    delivered_again = out.as_incoming(FACTS, sender=sender, business_doc_type=0, reason="", related=[])
    assert receipt_key("000.00.12.H99", ordinary) == receipt_key("000.00.12.H99", delivered_again)
    # Their statuses are told apart too, even sent in the same second with the same words.
    about = {"organ_id": "000.00.12.H99"}, FACTS["axis_document_id"], "000.00.00.H99", "01"
    at = datetime(2026, 3, 2, 9, 0)
    assert (
        IncomingStatus(*about, reported_at=at, document_id="doc-1").key
        != IncomingStatus(*about, reported_at=at, document_id="doc-2").key
    )


def test_the_document_packet_we_send_for_an_issued_document() -> None:
    sender = Organ(organ_id="000.00.00.H99", organ_name="UBND tỉnh H99")
    packet = out.edoc_packet(
        FACTS, sender=sender, recipients=[Organ(organ_id="000.00.00.G22")], business_doc_type=3,
        reason=None, related_document_ids=["old-1"], attachments=[], sent_at=datetime(2026, 3, 2, 9, 0),
    )  # fmt: skip
    assert packet.document_id == FACTS["axis_document_id"] and packet.other.priority == 1
    assert packet.business.doc_type == 3 and packet.business.reason == "Văn bản thay thế"
    assert [r.document_id for r in packet.business.replacements] == ["old-1"]
    assert packet.trace[0].organ_id == "000.00.00.H99"
    status = out.status_packet(
        reporter=sender, addressee="000.00.00.G22", external_document_id="x", symbol="1/VPCP", promulgation_date=None,
        code="04", description="", staff="", reported_at=datetime(2026, 3, 2, 9, 0),
    )  # fmt: skip
    assert (
        status.description == "Lãnh đạo: Phân công xử lý" and status.response_for.organ_id == "000.00.00.G22"
    )


def test_status_keys_tell_reports_apart() -> None:
    base = IncomingStatus(
        {"organ_id": "000.00.00.H41"}, "doc", "000.00.00.H99", "05", reported_at=datetime(2026, 1, 1)
    )
    again = IncomingStatus(
        {"organ_id": "000.00.00.H41"}, "doc", "000.00.00.H99", "05", reported_at=datetime(2026, 1, 1)
    )
    later = IncomingStatus(
        {"organ_id": "000.00.00.H41"}, "doc", "000.00.00.H99", "06", reported_at=datetime(2026, 1, 1)
    )
    assert base.key == again.key != later.key


def test_fit_keeps_what_fits() -> None:
    assert fit("  abc ", 10) == "abc"
    assert fit("x" * 20, 10) == "x" * 9 + "…"
