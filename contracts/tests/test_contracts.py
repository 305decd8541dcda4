"""The contract rules: subject naming, envelope shape, error codes, stable export."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from uuid import UUID

import pytest
from pydantic import BaseModel, ValidationError

from vanthu_contracts import errors
from vanthu_contracts.envelope import Envelope, RawEnvelope, new_event_id
from vanthu_contracts.export import asyncapi, rendered_files
from vanthu_contracts.spec import events, jobs, rpcs
from vanthu_contracts.streams import STREAMS, consumers
from vanthu_contracts.subjects import (
    event_subject,
    event_type_of,
    is_valid_subject,
    job_subject,
)

EXPORT_DIR = Path(__file__).resolve().parents[1] / "exported"


def test_every_declared_subject_follows_the_naming_rule() -> None:
    subjects = [s.subject for s in events().values()]
    subjects += [s.subject for s in jobs().values()]
    subjects += [s.subject for s in rpcs().values()]
    assert subjects, "the catalog declares no messages"
    bad = [s for s in subjects if not is_valid_subject(s)]
    assert bad == []


def test_every_event_subject_is_captured_by_exactly_one_stream() -> None:
    def captured(subject: str, pattern: str) -> bool:
        tokens = ["[^.]+" if t == "*" else ".+" if t == ">" else re.escape(t) for t in pattern.split(".")]
        return re.match("^" + r"\.".join(tokens) + "$", subject) is not None

    for spec in list(events().values()) + list(jobs().values()):
        owners = [s.name for s in STREAMS if any(captured(spec.subject, p) for p in s.subjects)]
        assert len(owners) == 1, (spec.subject, owners)


def test_consumers_filter_subjects_inside_their_stream() -> None:
    stream_subjects = {s.name: s.subjects for s in STREAMS}
    for c in consumers():
        assert "." not in c.durable and re.match(r"^[a-z][a-z0-9_]*$", c.durable), c.durable
        for f in c.filter_subjects:
            prefix = f.split(">")[0].split("*")[0]
            assert any(prefix.startswith(p.rstrip(">")) for p in stream_subjects[c.stream]), (c.durable, f)


@pytest.mark.parametrize(
    "subject",
    [
        "vanthu.evt.registry.Document.registered",  # upper case
        "vanthu.evt.nobody.document.registered",  # unknown service
        "vanthu.evt.registry.document",  # missing verb
        "vanthu.job.signing",  # missing operation
        "vanthu.evt.registry.document.registered.extra",
        "vanthu.evt.registry.document-x.registered",
    ],
)
def test_naming_rule_rejects(subject: str) -> None:
    assert not is_valid_subject(subject)


def test_event_type_and_subject_round_trip() -> None:
    subject = event_subject("registry.document.registered")
    assert subject == "vanthu.evt.registry.document.registered"
    assert event_type_of(subject) == "registry.document.registered"
    with pytest.raises(ValueError):
        event_subject("registry.document")
    with pytest.raises(ValueError):
        job_subject("signing", "Sign")


class _Payload(BaseModel):
    subject: str


def test_envelope_ids_are_uuid7_and_time_ordered() -> None:
    ids = [new_event_id() for _ in range(200)]
    assert all(isinstance(i, UUID) and i.version == 7 for i in ids)
    assert ids == sorted(ids)


def test_envelope_round_trips_with_vietnamese_text() -> None:
    env = Envelope[_Payload](
        type="registry.document.registered",
        source="registry",
        agency="000.00.00.H99",
        actor="u1",
        payload=_Payload(subject="V/v triển khai Quyết định số 15/QĐ-UBND"),
    )
    raw = env.model_dump_json()
    assert "Quyết định" in raw  # UTF-8, not \u escapes
    back = RawEnvelope.model_validate_json(raw)
    assert back.id == env.id and back.payload["subject"] == env.payload.subject
    assert back.msg_id == str(env.id)


def test_envelope_refuses_naive_time_and_unknown_source() -> None:
    with pytest.raises(ValidationError):
        Envelope[_Payload](
            type="registry.document.registered",
            source="registry",
            occurred_at=datetime(2026, 1, 1),
            payload=_Payload(subject="x"),
        )
    with pytest.raises(ValidationError):
        Envelope[_Payload](type="registry.document.registered", source="nobody", payload=_Payload(subject="x"))


def test_error_codes_are_stable_and_bilingual() -> None:
    codes = errors.all_codes()
    assert len(codes) >= 10
    for code in codes.values():
        assert re.match(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$", code.code), code.code
        assert code.message_vi.strip() and code.message_en.strip()
        assert code.message_vi != code.message_en
        assert 400 <= code.http_status <= 599
    body = errors.NOT_FOUND.body({"id": "x"})
    assert body.model_dump() == {
        "code": "not_found",
        "message_vi": errors.NOT_FOUND.message_vi,
        "message_en": errors.NOT_FOUND.message_en,
        "details": {"id": "x"},
    }


def test_asyncapi_document_names_every_event_channel() -> None:
    doc = asyncapi()
    assert doc["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in doc["channels"].values()}
    assert {s.subject for s in events().values()} <= addresses
    for message in doc["components"]["messages"].values():
        ref = message["payload"]["$ref"].split("/")[-1]
        assert ref in doc["components"]["schemas"]


def test_error_codes_are_declared_only_in_contracts() -> None:
    """A code defined by a service module would make the export depend on what was imported."""
    import subprocess
    import sys

    script = (
        "from vanthu_contracts.errors import all_codes; a = set(all_codes());"
        "import vanthu_runtime.http, vanthu_registry.app, vanthu_routing.app, vanthu_signing.app,"
        " vanthu_interop.app, vanthu_analytics.app;"
        "from vanthu_contracts.errors import all_codes as again; print(sorted(set(again()) - a))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_export_is_stable() -> None:
    """The committed export is what the contracts produce now.

    A change to a contract must be deliberate: regenerate with
    `vanthu contracts export contracts/exported` and review the diff.
    """
    fresh = rendered_files()
    committed = {
        str(p.relative_to(EXPORT_DIR)): p.read_text("utf-8") for p in EXPORT_DIR.rglob("*.json")
    }
    assert sorted(committed) == sorted(fresh), "files added or removed: re-export the contracts"
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert changed == [], f"contracts changed without re-export: {changed}"
    assert rendered_files() == fresh  # deterministic


def test_a_secret_documents_events_are_published_under_their_own_prefix() -> None:
    from vanthu_contracts.events.common import Secrecy
    from vanthu_contracts.events.interop import DocumentReceived
    from vanthu_contracts.events.registry import SecretAccessGranted, publish_subject
    from vanthu_contracts.subjects import event_type_of

    facts = {"document_id": "d1", "agency_code": "000.00.00.H99", "type_name": "Công văn", "subject": "Về việc X"}
    received = DocumentReceived.model_construct(**facts, secrecy=Secrecy.NORMAL)
    assert publish_subject("interop.document.received", received) == "vanthu.evt.interop.document.received"
    for secrecy in (Secrecy.CONFIDENTIAL, Secrecy.SECRET, Secrecy.TOP_SECRET):
        secret = received.model_copy(update={"secrecy": secrecy})
        subject = publish_subject("interop.document.received", secret)
        assert subject == "vanthu.evt.secret.interop.document.received"
        assert event_type_of(subject) == "interop.document.received"
    # A grant names the secrecy but holds no subject: it stays where routing's readers are.
    grant = SecretAccessGranted.model_construct(secrecy=Secrecy.SECRET)
    assert publish_subject("registry.document.secret_granted", grant).startswith("vanthu.evt.registry.")
    # Every consumer of a document event that can be secret hears both subjects.
    by_durable = {c.durable: set(c.filter_subjects) for c in consumers()}
    assert "vanthu.evt.secret.registry.document.registered" in by_durable["routing_documents"]
    assert "vanthu.evt.secret.registry.document.issued" in by_durable["routing_documents"]
    assert "vanthu.evt.secret.registry.document.issued" in by_durable["interop_issued"]
    assert "vanthu.evt.secret.interop.document.received" in by_durable["registry_interop_received"]
