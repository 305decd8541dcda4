"""The normalized JSON form of a packet (`vanthu edxml parse --json`) and back (`edxml build`).

Keys are fixed: kind, from, to, document_id, code, promulgation, document_type, subject,
content, signer, due_date, priority, steering_type, to_places, response_for, business,
trace, attachments, status. Dates are ISO; absent values are null.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from vanthu_contracts.events import interop as contract
from vanthu_interop.edxml.model import (
    Attachment,
    Business,
    EdocPacket,
    Organ,
    OtherInfo,
    Receiver,
    Replacement,
    ResponseFor,
    StaffInfo,
    StatusPacket,
    Trace,
)
from vanthu_interop.edxml.values import read_date, read_time, status_code
from vanthu_runtime.errors import AppError

ORGAN_KEYS = (
    "organ_id",
    "organ_name",
    "organization_in_charge",
    "organ_add",
    "email",
    "telephone",
    "fax",
    "website",
)


def _iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _iso_time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _organ(organ: Organ) -> dict[str, Any]:
    return {key: getattr(organ, key) for key in ORGAN_KEYS}


def _response_for(item: ResponseFor) -> dict[str, Any]:
    return {
        "organ_id": item.organ_id,
        "code": item.code,
        "promulgation_date": _iso_date(item.promulgation_date),
        "document_id": item.document_id,
    }


def _staff(staff: StaffInfo | None) -> dict[str, Any] | None:
    if staff is None:
        return None
    return {
        "department": staff.department,
        "staff": staff.staff,
        "mobile": staff.mobile,
        "email": staff.email,
    }


def _business(business: Business) -> dict[str, Any]:
    return {
        "doc_type": business.doc_type,
        "reason": business.reason,
        "paper": business.paper,
        "document_id": business.document_id,
        "document_info": business.document_info,
        "document_receiver": business.document_receiver,
        "receivers": [{"organ_id": r.organ_id, "receiver_type": r.receiver_type} for r in business.receivers],
        "replacements": [
            {"document_id": r.document_id, "organ_ids": list(r.organ_ids)} for r in business.replacements
        ],
        "staff": _staff(business.staff),
    }


def to_json(packet: EdocPacket | StatusPacket) -> dict[str, Any]:
    if isinstance(packet, StatusPacket):
        return {
            "kind": "status",
            "from": _organ(packet.from_),
            "to": [],
            "document_id": None,
            "code": None,
            "promulgation": None,
            "document_type": None,
            "subject": None,
            "content": None,
            "signer": None,
            "due_date": None,
            "priority": None,
            "steering_type": None,
            "to_places": [],
            "response_for": [_response_for(packet.response_for)],
            "business": None,
            "trace": [],
            "attachments": [],
            "status": {
                "code": packet.status_code,
                "description": packet.description,
                "timestamp": _iso_time(packet.timestamp),
                # The shape has one `staff` key: the name of the reporting staff member.
                "staff": packet.staff.staff if packet.staff is not None else None,
            },
        }
    return {
        "kind": "edoc",
        "from": _organ(packet.from_),
        "to": [_organ(o) for o in packet.to],
        "document_id": packet.document_id,
        "code": {"number": packet.code_number, "notation": packet.code_notation},
        "promulgation": {"place": packet.promulgation_place, "date": _iso_date(packet.promulgation_date)},
        "document_type": {
            "type": packet.type,
            "type_detail": packet.type_detail,
            "type_name": packet.type_name,
        },
        "subject": packet.subject,
        "content": packet.content,
        "signer": {
            "competence": packet.signer_competence,
            "position": packet.signer_position,
            "full_name": packet.signer_full_name,
        },
        "due_date": _iso_date(packet.due_date),
        "priority": packet.other.priority,
        "steering_type": packet.steering_type,
        "to_places": list(packet.to_places),
        "response_for": [_response_for(r) for r in packet.response_for],
        "business": _business(packet.business or Business()),
        "trace": [{"organ_id": t.organ_id, "timestamp": _iso_time(t.timestamp)} for t in packet.trace],
        "attachments": [
            {
                "content_id": a.content_id,
                "name": a.name,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in packet.attachments
        ],
        "status": None,
    }


# -- from the JSON shape (a build spec) -----------------------------------------------------


def _bad(reason: str) -> AppError:
    return AppError(contract.BUILD_SPEC_INVALID, {"reason": reason})


def _obj(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(f"{where} must be an object")
    return value


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(f"{where} must be an integer") from None


def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    parsed = read_date(str(value))
    if parsed is None:
        raise _bad(f"{where} is not a date")
    return parsed


def _time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    parsed = read_time(str(value))
    if parsed is None:
        raise _bad(f"{where} is not a date and time")
    return parsed


def _organ_from(value: Any, where: str) -> Organ:
    data = _obj(value, where)
    return Organ(**{key: _text(data.get(key)) for key in ORGAN_KEYS})


def _response_from(value: Any, where: str) -> ResponseFor:
    data = _obj(value, where)
    return ResponseFor(
        organ_id=_text(data.get("organ_id")),
        code=_text(data.get("code")),
        promulgation_date=_date(data.get("promulgation_date"), f"{where}.promulgation_date"),
        document_id=_text(data.get("document_id")),
    )


def _staff_from(value: Any, where: str) -> StaffInfo | None:
    if value is None:
        return None
    data = _obj(value, where)
    return StaffInfo(
        department=_text(data.get("department")),
        staff=_text(data.get("staff")),
        mobile=_text(data.get("mobile")),
        email=_text(data.get("email")),
    )


def _business_from(value: Any) -> Business | None:
    if value is None:
        return None
    data = _obj(value, "business")
    doc_type = _int(data.get("doc_type", 0), "business.doc_type") or 0
    if doc_type not in (0, 1, 2, 3):
        raise _bad("business.doc_type must be 0, 1, 2 or 3")
    return Business(
        doc_type=doc_type,
        reason=_text(data.get("reason")),
        paper=_int(data.get("paper"), "business.paper"),
        document_id=_text(data.get("document_id")),
        document_info=_int(data.get("document_info"), "business.document_info"),
        document_receiver=_int(data.get("document_receiver"), "business.document_receiver"),
        receivers=[
            Receiver(
                organ_id=_text(_obj(r, "business.receivers[]").get("organ_id")),
                receiver_type=_int(r.get("receiver_type"), "receiver_type"),
            )
            for r in data.get("receivers") or []
        ],
        replacements=[
            Replacement(
                document_id=_text(_obj(r, "business.replacements[]").get("document_id")),
                organ_ids=[str(o) for o in r.get("organ_ids") or []],
            )
            for r in data.get("replacements") or []
        ],
        staff=_staff_from(data.get("staff"), "business.staff"),
    )


def from_json(spec: Any, files: list[Path] | None = None) -> EdocPacket | StatusPacket:
    """A packet from the JSON shape; `files` are the attachments, in the order of spec.attachments."""
    data = _obj(spec, "the spec")
    kind = data.get("kind", "edoc")
    if kind == "status":
        status = _obj(data.get("status"), "status")
        responses = data.get("response_for") or [{}]
        if not isinstance(responses, list) or len(responses) != 1:
            raise _bad("a status packet answers exactly one response_for")
        code = status_code(_text(status.get("code")))
        if code is None:
            raise _bad("status.code is required")
        return StatusPacket(
            from_=_organ_from(data.get("from"), "from"),
            response_for=_response_from(responses[0], "response_for[0]"),
            staff=StaffInfo(staff=_text(status.get("staff"))) if status.get("staff") is not None else None,
            status_code=code,
            description=_text(status.get("description")),
            timestamp=_time(status.get("timestamp"), "status.timestamp"),
        )
    if kind != "edoc":
        raise _bad("kind must be edoc or status")
    code = _obj(data.get("code"), "code")
    promulgation = _obj(data.get("promulgation"), "promulgation")
    doc_type = _obj(data.get("document_type"), "document_type")
    signer = _obj(data.get("signer"), "signer")
    to = data.get("to") or []
    if not isinstance(to, list):
        raise _bad("to must be a list")
    declared = data.get("attachments") or []
    files = list(files or [])
    if declared and len(declared) != len(files):
        raise _bad(f"the spec lists {len(declared)} attachments but {len(files)} files were given")
    attachments = []
    for index, path in enumerate(files):
        meta = _obj(declared[index], f"attachments[{index}]") if declared else {}
        attachments.append(
            Attachment(
                name=_text(meta.get("name")) or path.name,
                content_type=_text(meta.get("content_type")),
                content_id=_text(meta.get("content_id")),
                description=_text(meta.get("description")),
                path=path,
            )
        )
    return EdocPacket(
        from_=_organ_from(data.get("from"), "from"),
        to=[_organ_from(o, f"to[{i}]") for i, o in enumerate(to)],
        document_id=_text(data.get("document_id")),
        code_number=_text(code.get("number")),
        code_notation=_text(code.get("notation")),
        promulgation_place=_text(promulgation.get("place")),
        promulgation_date=_date(promulgation.get("date"), "promulgation.date"),
        type=_int(doc_type.get("type"), "document_type.type"),
        type_detail=_int(doc_type.get("type_detail"), "document_type.type_detail"),
        type_name=_text(doc_type.get("type_name")),
        subject=_text(data.get("subject")),
        content=_text(data.get("content")),
        signer_competence=_text(signer.get("competence")),
        signer_position=_text(signer.get("position")),
        signer_full_name=_text(signer.get("full_name")),
        due_date=_date(data.get("due_date"), "due_date"),
        other=OtherInfo(priority=_int(data.get("priority"), "priority")),
        response_for=[
            _response_from(r, f"response_for[{i}]") for i, r in enumerate(data.get("response_for") or [])
        ],
        steering_type=_int(data.get("steering_type"), "steering_type"),
        to_places=[str(p) for p in data.get("to_places") or []],
        trace=[
            Trace(
                organ_id=_text(_obj(t, f"trace[{i}]").get("organ_id")),
                timestamp=_time(t.get("timestamp"), f"trace[{i}].timestamp"),
            )
            for i, t in enumerate(data.get("trace") or [])
        ],
        business=_business_from(data.get("business")),
        attachments=attachments,
    )
