"""Pure rules: types, numbering, folding, metadata checks, access, the audit chain, work files."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from vanthu_contracts.events.common import Role, Secrecy
from vanthu_registry.domain import access, audit, metadata, numbering, text, workfiles
from vanthu_registry.domain.doctypes import UnknownDocumentType, all_types, document_type
from vanthu_registry.domain.documents import DocState, IllegalTransition, move


def test_the_decree_lists_29_types_and_three_copy_kinds() -> None:
    kinds = [t for t in all_types() if not t.is_copy]
    assert len(kinds) == 29
    assert [t.abbreviation for t in all_types() if t.is_copy] == ["SY", "TrS", "SL"]
    assert [t.name for t in kinds if t.abbreviation is None] == ["Công văn", "Thư công"]


@pytest.mark.parametrize("key", ["QyĐ", "CTr", "TTr", "TrS"])
def test_mixed_case_abbreviations_are_exact(key: str) -> None:
    assert document_type(key).abbreviation == key
    with pytest.raises(UnknownDocumentType):
        document_type(key.upper())


def test_lookup_by_code_name_and_abbreviation() -> None:
    assert document_type("quyet_dinh") is document_type("QĐ") is document_type("quyết định")
    with pytest.raises(UnknownDocumentType):
        document_type("Nghị định thư")


def test_symbols_as_the_decree_writes_them() -> None:
    qd = document_type("QĐ")
    assert numbering.symbol(15, numbering.code_notation(qd, "UBND")) == "15/QĐ-UBND"
    cv = document_type("cong_van")
    assert numbering.symbol(5, numbering.code_notation(cv, "UBND", "VP")) == "05/UBND-VP"
    assert numbering.symbol(3, numbering.code_notation(document_type("QyĐ"), "SXD")) == "03/QyĐ-SXD"
    assert numbering.symbol(120, numbering.code_notation(document_type("TTr"), "SXD")) == "120/TTr-SXD"
    with pytest.raises(numbering.NumberingRuleBroken):
        numbering.code_notation(cv, "UBND")
    with pytest.raises(numbering.NumberingRuleBroken):
        numbering.format_number(0)


def test_axis_document_id() -> None:
    assert (
        numbering.axis_document_id("000.00.12.H99", date(2026, 1, 5), 7, "QĐ-SXD")
        == "000.00.12.H99,2026/01/05,07/QĐ-SXD"
    )


def test_folding_drops_diacritics_and_d_bar() -> None:
    assert text.fold("Quyết định ĐÀO TẠO") == "quyet dinh dao tao"
    assert text.tokens("Số: 15/QĐ-UBND") == ["so", "15", "qd", "ubnd"]
    assert text.query_tokens("quyet dinh quyet") == ["quyet", "dinh"]
    assert text.search_body("Kế hoạch", None, "Đề án") == "ke hoach de an"


def _meta(**kw: object) -> metadata.DocumentMetadata:
    base = metadata.DocumentMetadata(type_code="cong_van", subject="V/v báo cáo", organ_name="Bộ Xây dựng")
    return replace(base, **kw)


def test_metadata_rules() -> None:
    today = date(2026, 11, 21)
    ok = metadata.check(_meta(), today=today, type_known=True, incoming=True)
    assert ok == []
    rules = {
        v.rule
        for v in metadata.check(
            _meta(
                subject=" ",
                code_number="12a",
                issued_date=date(2026, 11, 22),
                organ_id="12.34",
                signer_name="x" * 51,
                page_amount=1000,
            ),
            today=today,
            type_known=False,
            incoming=True,
        )
    }
    assert rules == {
        "unknown_document_type",
        "subject_required",
        "code_number_invalid",
        "future_date",
        "agency_code_invalid",
        "field_too_long",
        "number_out_of_range",
    }
    assert [v.rule for v in metadata.check(_meta(organ_name=""), today=today, type_known=True, incoming=True)] == [
        "issuer_required"
    ]
    assert metadata.check(_meta(code_number="30/2020"), today=today, type_known=True, incoming=True) == []


def test_incoming_states() -> None:
    assert move("received", DocState.REGISTERED) is DocState.REGISTERED
    assert move("received", DocState.RETURNED) is DocState.RETURNED
    with pytest.raises(IllegalTransition):
        move("registered", DocState.RETURNED)
    with pytest.raises(IllegalTransition):
        move("returned", DocState.REGISTERED)


def _viewer(role: Role, user: str = "u1", unit: str | None = "kt", agency: str = "A") -> access.Viewer:
    return access.Viewer(user, agency, unit, frozenset({str(role)}))


def test_access_rules() -> None:
    none: list[access.Grant] = []
    assert access.can_see(_viewer(Role.CLERK), "A", Secrecy.NORMAL, none)
    assert access.can_see(_viewer(Role.HEAD), "A", Secrecy.NORMAL, none)
    assert not access.can_see(_viewer(Role.CLERK, agency="B"), "A", Secrecy.NORMAL, none)
    assert not access.can_see(_viewer(Role.SPECIALIST), "A", Secrecy.NORMAL, none)
    assigned = [access.Grant("user", "u1", access.GrantKind.ASSIGNED)]
    assert access.can_see(_viewer(Role.SPECIALIST), "A", Secrecy.NORMAL, assigned)
    unit = [access.Grant("unit", "kt", access.GrantKind.ASSIGNED)]
    assert access.can_see(_viewer(Role.UNIT_HEAD), "A", Secrecy.NORMAL, unit)
    assert not access.can_see(_viewer(Role.SPECIALIST), "A", Secrecy.NORMAL, unit)
    # Secret: even the head needs an explicit grant; an assignment is not enough.
    assert not access.can_see(_viewer(Role.HEAD), "A", Secrecy.CONFIDENTIAL, assigned)
    secret = [access.Grant("user", "u1", access.GrantKind.SECRET)]
    assert access.can_see(_viewer(Role.SPECIALIST), "A", Secrecy.TOP_SECRET, secret)


def _chain(n: int) -> list[audit.AuditEntry]:
    entries = []
    prev = audit.GENESIS
    for seq in range(1, n + 1):
        entry = audit.AuditEntry(
            seq, datetime(2026, 1, 1, tzinfo=UTC), "u", None, "A", "document.read", "document", f"d{seq}", "1.2.3.4", {}, prev
        )
        entry = replace(entry, hash=audit.chain_hash(prev, entry))
        entries.append(entry)
        prev = entry.hash
    return entries


def test_audit_chain_detects_each_kind_of_tampering() -> None:
    entries = _chain(5)
    head = (5, entries[-1].hash)
    assert audit.verify(entries, *head) == []
    modified = [*entries[:2], replace(entries[2], actor="someone else"), *entries[3:]]
    assert [p.kind for p in audit.verify(modified, *head)] == ["modified"]
    deleted = entries[:2] + entries[3:]
    assert "deleted" in {p.kind for p in audit.verify(deleted, *head)}
    swapped = [entries[0], entries[2], entries[1], *entries[3:]]
    assert "reordered" in {p.kind for p in audit.verify(swapped, *head)}
    assert [p.kind for p in audit.verify(entries[:4], *head)] == ["truncated"]


def test_anchors_check_only_their_own_log() -> None:
    entries = _chain(5)
    hashes = {e.seq: e.hash for e in entries}
    at = datetime(2026, 1, 1, tzinfo=UTC)
    ours = [audit.Anchor(entries[0].hash, seq, entries[seq - 1].hash, at) for seq in (2, 5)]
    other = audit.Anchor("f" * 64, 9, "e" * 64, at)  # another registry on the same event stream
    assert audit.check_anchors(hashes, [*ours, other]) == (2, [])
    assert [p.kind for p in audit.check_anchors(hashes, [])[1]] == ["unanchored"]  # anchors removed
    forged = {**hashes, 2: "0" * 64}
    assert [p.kind for p in audit.check_anchors(forged, ours)[1]] == ["rewritten"]
    assert [p.kind for p in audit.check_anchors({s: h for s, h in hashes.items() if s < 5}, ours)[1]] == ["truncated"]
    assert [p.kind for p in audit.check_anchors({**hashes, 1: "1" * 64}, ours)[1]] == ["unanchored"]
    assert audit.check_anchors({}, [other]) == (0, [])  # an empty log has nothing to anchor


def test_work_file_codes() -> None:
    assert workfiles.file_notation(1, "TCCB") == "01.TCCB"
    assert workfiles.roman(14) == "XIV"
    assert workfiles.check_file_fields({"notation": "1-TCCB", "title": ""}) == [
        ("file_notation_invalid", "notation"),
        ("title_required", "title"),
    ]
