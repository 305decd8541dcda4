"""The mapping table: which facts each known event type (and version) feeds.

One entry per event type: the highest payload version it understands and a function from the
event to its `Contribution`. Adding a service's new event is adding one entry here; a type with
no entry, or a version above the entry's, is counted and skipped by the pipeline. The functions
read the payload as the contract defines it (`vanthu_contracts.events.*`); a payload that does
not fit raises, and the pipeline skips that one event as invalid.

Measures are short snake_case names; `MEASURES` lists them with their Vietnamese labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from vanthu_analytics.domain.facts import (
    DOCUMENTS,
    DRAFTS,
    ISSUED,
    Contribution,
    DirectoryKind,
    DirectoryRow,
    Fact,
    TimelineDelta,
    epoch,
    local_day,
    parse_time,
)
from vanthu_contracts.envelope import RawEnvelope
from vanthu_contracts.events.registry import Channel
from vanthu_contracts.events.signing import SignatureKind

SYSTEM = "system"


class EventView(NamedTuple):
    """The envelope fields a mapping may use (`view()` makes one). `agency` is "" when the envelope
    names none; `person` is the actor unless that is the system."""

    id: str
    type: str
    version: int
    occurred_at: datetime
    agency: str
    actor: str
    person: str
    payload: dict[str, Any]


def view(
    event_id: str,
    event_type: str,
    version: int,
    occurred_at: datetime,
    agency: str | None,
    actor: str,
    payload: dict[str, Any],
) -> EventView:
    person = "" if actor in ("", SYSTEM) else actor
    return EventView(event_id, event_type, version, occurred_at, agency or "", actor, person, payload)


def view_of(envelope: RawEnvelope) -> EventView:
    e = envelope
    return view(str(e.id), e.type, e.version, e.occurred_at, e.agency, e.actor, e.payload)


Mapper = Callable[[EventView, dict[str, Any]], Contribution]


@dataclass(frozen=True)
class Mapping:
    max_version: int
    apply: Mapper
    summary: str


# -- measures ---------------------------------------------------------------------------

MEASURES: dict[str, str] = {
    "received_axis": "Văn bản đến qua trục liên thông",
    "received_internal": "Văn bản đến liên thông nội tỉnh",
    "received_paper": "Văn bản đến bản giấy (scan)",
    "registered": "Văn bản đến đã vào sổ",
    "returned": "Văn bản đến bị trả lại",
    "arrived_axis": "Văn bản điện tử đến qua trục",
    "arrived_internal": "Văn bản điện tử đến nội tỉnh",
    "routed": "Văn bản đến được phân công xử lý",
    "reassigned": "Lượt giao xử lý lại",
    "progressed": "Lượt cập nhật tiến độ",
    "completed_on_time": "Hoàn thành đúng hạn",
    "completed_late": "Hoàn thành quá hạn",
    "completed_no_deadline": "Hoàn thành (không có hạn)",
    "refused": "Văn bản đến bị từ chối",
    "drafted": "Dự thảo văn bản đi",
    "draft_submitted": "Dự thảo trình duyệt",
    "draft_reviewed": "Lượt xem xét dự thảo",
    "draft_returned": "Dự thảo bị trả lại",
    "approved": "Dự thảo được duyệt trên hệ thống",
    "signed_personal": "Ký số cá nhân",
    "signed_seal": "Ký số cơ quan (con dấu)",
    "signed_other": "Ký số phụ lục, bản sao",
    "signing_failed": "Ký số thất bại",
    "issued": "Văn bản đi đã phát hành",
    "issued_digitally_signed": "Văn bản đi có chữ ký số",
    "issued_without_draft": "Văn bản đi không có dự thảo trên hệ thống",
    "issued_to_axis": "Văn bản đi gửi qua trục",
    "issued_to_internal": "Văn bản đi gửi nội tỉnh",
    "sent_axis": "Lượt gửi qua trục liên thông",
    "sent_internal": "Lượt gửi nội tỉnh",
    "send_failed": "Lượt gửi thất bại",
    "statuses_received": "Trạng thái phản hồi nhận được",
    "statuses_sent": "Trạng thái phản hồi đã gửi",
    "recalled": "Văn bản bị thu hồi",
    "tasks_created": "Nhiệm vụ được giao",
    "tasks_done_on_time": "Nhiệm vụ hoàn thành đúng hạn",
    "tasks_done_late": "Nhiệm vụ hoàn thành quá hạn",
    "opinions_requested": "Lượt xin ý kiến",
    "opinions_answered": "Lượt cho ý kiến",
    "urged": "Lượt đôn đốc",
}


def _time(p: dict[str, Any], name: str, e: EventView) -> datetime:
    value = p.get(name)
    return parse_time(value) if value is not None else e.occurred_at


def _agency(e: EventView, p: dict[str, Any]) -> str:
    return str(p.get("agency_code") or e.agency or "")


def _one(
    e: EventView, p: dict[str, Any], measure: str, at: str | None = None, unit: str = ""
) -> Contribution:
    """The common shape: one counted fact on the day of `at` (or when the event occurred)."""
    moment = _time(p, at, e) if at else e.occurred_at
    person = e.person
    return Contribution(
        facts=(Fact(local_day(moment), _agency(e, p), unit, person, measure, 1, 1 if person else 0),)
    )


def _facts(
    e: EventView, p: dict[str, Any], moment: datetime, measures: list[str], unit: str = ""
) -> list[Fact]:
    """Facts of one event; the first carries the actor's action. With no measure, a person's act
    still counts as activity (measure "" feeds the activity tables only)."""
    day, agency, person = local_day(moment), _agency(e, p), e.person
    named = [m for m in measures if m] or ([""] if person else [])
    return [Fact(day, agency, unit, person, m, 1, 1 if person and i == 0 else 0) for i, m in enumerate(named)]


def counted(measure: str, at: str | None = None) -> Mapper:
    return lambda e, p: _one(e, p, measure, at)


_NOTHING = Contribution()


def ignored(_e: EventView, _p: dict[str, Any]) -> Contribution:
    """A known event that feeds no figure (notifications, directory sync of partners)."""
    return _NOTHING


def _natural_key(p: dict[str, Any]) -> str | None:
    """Issuer, number, notation and date: the same document scanned from paper has the same key."""
    issuer = (p.get("issuer") or {}).get("organ_id") or (p.get("sender") or {}).get("organ_id") or ""
    number, notation, issued = p.get("code_number"), p.get("code_notation"), p.get("issued_date")
    if not (number and notation):
        return None
    return "|".join(
        (
            issuer.strip().upper(),
            str(number).strip().lstrip("0"),
            str(notation).strip().upper(),
            str(issued or ""),
        )
    )


def _deadline(value: Any) -> int | None:
    return None if value is None else date.fromisoformat(str(value)).toordinal()


# -- registry -----------------------------------------------------------------------------


def _changed(e: EventView) -> str:
    """Orders descriptions of the same agency, unit or user: the event's time, then its id."""
    return f"{e.occurred_at.timestamp():020.6f}:{e.id}"


def agency_upserted(e: EventView, p: dict[str, Any]) -> Contribution:
    values = {k: p.get(k) for k in ("name", "abbreviation", "parent_code")} | {"changed_at": _changed(e)}
    values |= {"hosted": bool(p.get("hosted", True)), "active": bool(p.get("active", True))}
    return Contribution(directory=(DirectoryRow(DirectoryKind.AGENCY, p["code"], values),))


def unit_upserted(e: EventView, p: dict[str, Any]) -> Contribution:
    values = {k: p.get(k) for k in ("agency_code", "name", "abbreviation", "parent_unit_id")} | {
        "changed_at": _changed(e)
    }
    values["active"] = bool(p.get("active", True))
    return Contribution(directory=(DirectoryRow(DirectoryKind.UNIT, p["id"], values),))


def user_upserted(e: EventView, p: dict[str, Any]) -> Contribution:
    values = {k: p.get(k) for k in ("agency_code", "unit_id", "full_name")} | {"changed_at": _changed(e)}
    values["active"] = bool(p.get("active", True))
    return Contribution(directory=(DirectoryRow(DirectoryKind.USER, p["id"], values),))


_CHANNELS = frozenset(c.value for c in Channel)
_SIGNATURE_KINDS = frozenset(k.value for k in SignatureKind)


def _channel(value: Any) -> str:
    """The arrival channel as the contract spells it (anything else makes the event invalid)."""
    if value not in _CHANNELS:
        raise ValueError(f"{value!r} is not a valid Channel")
    return str(value)


def document_registered(e: EventView, p: dict[str, Any]) -> Contribution:
    received, registered = parse_time(p["received_at"]), parse_time(p["registered_at"])
    channel = _channel(p["channel"])
    agency = _agency(e, p)
    person = str(p.get("registered_by") or e.person)
    facts = (
        Fact(local_day(received), agency, "", person, f"received_{channel}"),
        Fact(local_day(registered), agency, "", person, "registered", 1, 1 if person else 0),
    )
    duplicates = p.get("duplicate_of") or []
    delta = TimelineDelta(
        DOCUMENTS,
        str(p["document_id"]),
        {
            "agency": agency,
            "channel": channel,
            "natural_key": _natural_key(p),
            "external_id": p.get("external_document_id"),
            "duplicate_of": str(duplicates[0]) if duplicates else None,
            "arrived_at": epoch(received),
            "registered_at": epoch(registered),
            "deadline": _deadline(p.get("due_date")),
        },
    )
    return Contribution(facts=facts, timelines=(delta,))


def document_issued(e: EventView, p: dict[str, Any]) -> Contribution:
    issued = parse_time(p["issued_at"])
    measures = ["issued"]
    if p.get("digitally_signed"):
        measures.append("issued_digitally_signed")
    if not p.get("draft_id"):
        measures.append("issued_without_draft")
    if p.get("external_recipients"):
        measures.append("issued_to_axis")
    if p.get("internal_recipients"):
        measures.append("issued_to_internal")
    delta = TimelineDelta(
        ISSUED,
        str(p["document_id"]),
        {
            "agency": _agency(e, p),
            "draft_id": p.get("draft_id"),
            "issued_at": epoch(issued),
            "digitally_signed": int(bool(p.get("digitally_signed"))),
            "to_axis": int(bool(p.get("external_recipients"))),
            "to_internal": int(bool(p.get("internal_recipients"))),
        },
    )
    return Contribution(facts=_facts(e, p, issued, measures), timelines=(delta,))


# -- routing ------------------------------------------------------------------------------


def _assignee_unit(kind: Any, assignee_id: Any) -> str:
    """A unit assignee is the unit; a person assignee's unit comes from the directory (empty here)."""
    return str(assignee_id) if str(kind) == "unit" else ""


def handling_assigned(e: EventView, p: dict[str, Any]) -> Contribution:
    at = parse_time(p["assigned_at"])
    top = p.get("parent_assignment_id") is None
    main = next((a for a in p["assignees"] if str(a.get("role")) == "main"), p["assignees"][0])
    unit = _assignee_unit(main.get("kind"), main.get("assignee_id"))
    facts = _facts(e, p, at, ["routed" if top else "reassigned"], unit)
    values: dict[str, Any] = {
        "agency": _agency(e, p),
        "channel": _channel(p["channel"]) if p.get("channel") else None,
    }
    if top:
        values |= {"assigned_at": epoch(at), "deadline": _deadline(main.get("deadline"))}
        if unit:
            values |= {"unit": unit, "unit_assigned_at": epoch(at)}
    return Contribution(facts=facts, timelines=(TimelineDelta(DOCUMENTS, str(p["document_id"]), values),))


def handling_completed(e: EventView, p: dict[str, Any]) -> Contribution:
    if not p.get("document_completed"):
        return Contribution(facts=_facts(e, p, parse_time(p["at"]), []))
    at = parse_time(p["at"])
    on_time = p.get("on_time")
    measure = (
        "completed_no_deadline" if on_time is None else "completed_on_time" if on_time else "completed_late"
    )
    unit = _assignee_unit(p.get("kind"), p.get("assignee_id"))
    delta = TimelineDelta(
        DOCUMENTS, str(p["document_id"]), {"agency": _agency(e, p), "completed_at": epoch(at)}
    )
    return Contribution(facts=_facts(e, p, at, [measure], unit), timelines=(delta,))


def handling_progress(measure: str) -> Mapper:
    def apply(e: EventView, p: dict[str, Any]) -> Contribution:
        unit = _assignee_unit(p.get("kind"), p.get("assignee_id"))
        return Contribution(facts=_facts(e, p, _time(p, "at", e), [measure], unit))

    return apply


def draft_created(e: EventView, p: dict[str, Any]) -> Contribution:
    at = parse_time(p["created_at"])
    unit = str(p.get("unit_id") or "")
    creator = str(p.get("creator_id") or e.person)
    delta = TimelineDelta(
        DRAFTS,
        str(p["draft_id"]),
        {"agency": _agency(e, p), "unit": unit or None, "creator": creator or None, "created_at": epoch(at)},
    )
    fact = Fact(local_day(at), _agency(e, p), unit, creator, "drafted", 1, 1 if creator else 0)
    return Contribution(facts=(fact,), timelines=(delta,))


def draft_step(measure: str | None, at_field: str, timeline_field: str | None = None) -> Mapper:
    def apply(e: EventView, p: dict[str, Any]) -> Contribution:
        at = parse_time(p[at_field])
        unit = str(p.get("unit_id") or "")
        facts = _facts(e, p, at, [measure or ""], unit)
        if not timeline_field:
            return Contribution(facts=facts)
        values: dict[str, Any] = {"agency": _agency(e, p), timeline_field: epoch(at)}
        if unit:
            values["unit"] = unit
        return Contribution(facts=facts, timelines=(TimelineDelta(DRAFTS, str(p["draft_id"]), values),))

    return apply


def task_changed(measure: str | None) -> Mapper:
    def apply(e: EventView, p: dict[str, Any]) -> Contribution:
        unit = str(p.get("owner_unit_id") or "")
        chosen = measure
        if measure is None:  # confirmed done: on time or late
            chosen = "tasks_done_late" if p.get("overdue") else "tasks_done_on_time"
        return Contribution(facts=_facts(e, p, _time(p, "at", e), [chosen or ""], unit))

    return apply


# -- signing ------------------------------------------------------------------------------


def document_signed(e: EventView, p: dict[str, Any]) -> Contribution:
    kind = p["kind"]
    if kind not in _SIGNATURE_KINDS:
        raise ValueError(f"{kind!r} is not a valid SignatureKind")
    measure = {"personal": "signed_personal", "seal": "signed_seal"}.get(kind, "signed_other")
    signed = parse_time(p["signed_at"])
    facts = _facts(e, p, signed, [measure])
    if kind == "personal" and p.get("draft_id"):
        values = {"agency": _agency(e, p), "signed_at": epoch(signed)}
        return Contribution(facts=facts, timelines=(TimelineDelta(DRAFTS, str(p["draft_id"]), values),))
    return Contribution(facts=facts)


# -- interop ------------------------------------------------------------------------------


def document_arrived(e: EventView, p: dict[str, Any]) -> Contribution:
    at = parse_time(p["received_at"])
    channel = _channel(p["channel"])
    delta = TimelineDelta(
        DOCUMENTS,
        str(p["document_id"]),
        {
            "agency": _agency(e, p),
            "channel": channel,
            "natural_key": _natural_key(p),
            "external_id": p.get("external_document_id"),
            "arrived_at": epoch(at),
        },
    )
    return Contribution(facts=_facts(e, p, at, [f"arrived_{channel}"]), timelines=(delta,))


def document_sent(e: EventView, p: dict[str, Any]) -> Contribution:
    return Contribution(facts=_facts(e, p, parse_time(p["sent_at"]), [f"sent_{_channel(p['channel'])}"]))


MAPPINGS: dict[str, Mapping] = {
    # registry: the directory and the registers
    "registry.agency.upserted": Mapping(1, agency_upserted, "directory: agency"),
    "registry.unit.upserted": Mapping(1, unit_upserted, "directory: unit"),
    "registry.user.upserted": Mapping(1, user_upserted, "directory: user"),
    "registry.document.registered": Mapping(
        1, document_registered, "received by channel, registered; timeline"
    ),
    "registry.document.returned": Mapping(1, counted("returned", "returned_at"), "returned to sender"),
    "registry.document.secret_granted": Mapping(1, ignored, "access, not activity: no figure"),
    "registry.audit.sealed": Mapping(1, ignored, "the audit log's anchor: no figure"),
    "registry.document.issued": Mapping(
        1, document_issued, "issued, digitally signed, without draft, recipients"
    ),
    # routing: handling of incoming documents
    "routing.handling.accepted": Mapping(1, ignored, "entered handling (the registration already counts)"),
    "routing.handling.assigned": Mapping(1, handling_assigned, "routed / re-assigned; timeline"),
    "routing.handling.acknowledged": Mapping(1, handling_progress(""), "activity only"),
    "routing.handling.progressed": Mapping(1, handling_progress("progressed"), "progress reports"),
    "routing.handling.completed": Mapping(1, handling_completed, "completed on time / late; timeline"),
    "routing.handling.returned": Mapping(1, handling_progress(""), "activity only"),
    "routing.handling.withdrawn": Mapping(1, handling_progress(""), "activity only"),
    "routing.handling.refused": Mapping(1, counted("refused", "refused_at"), "refused (02)"),
    "routing.handling.extended": Mapping(1, handling_progress(""), "activity only"),
    "routing.handling.urged": Mapping(1, handling_progress("urged"), "urgings"),
    # routing: drafts
    "routing.draft.created": Mapping(1, draft_created, "drafted in the system"),
    "routing.draft.submitted": Mapping(1, draft_step("draft_submitted", "submitted_at"), "submitted"),
    "routing.draft.reviewed": Mapping(1, draft_step("draft_reviewed", "reviewed_at"), "reviewed"),
    "routing.draft.approved": Mapping(
        1, draft_step("approved", "approved_at", "approved_at"), "approved in the system"
    ),
    "routing.draft.returned": Mapping(
        1, draft_step("draft_returned", "returned_at"), "returned with comments"
    ),
    "routing.draft.signed": Mapping(
        1, draft_step(None, "signed_at", "signed_at"), "timeline (signing counts signatures)"
    ),
    "routing.draft.signing_failed": Mapping(1, ignored, "signing.document.failed counts it"),
    "routing.draft.issued": Mapping(1, draft_step(None, "issued_at", "issued_at"), "timeline"),
    "routing.opinion.requested": Mapping(1, counted("opinions_requested", "requested_at"), "opinion rounds"),
    "routing.opinion.answered": Mapping(1, counted("opinions_answered", "answered_at"), "opinions given"),
    "routing.delegation.granted": Mapping(1, ignored, "no figure"),
    "routing.delegation.ended": Mapping(1, ignored, "no figure"),
    "routing.task.created": Mapping(1, task_changed("tasks_created"), "tasks"),
    "routing.task.assigned": Mapping(1, task_changed(""), "activity only"),
    "routing.task.reported": Mapping(1, task_changed(""), "activity only"),
    "routing.task.submitted": Mapping(1, task_changed(""), "activity only"),
    "routing.task.confirmed": Mapping(1, task_changed(None), "tasks done on time / late"),
    "routing.task.reopened": Mapping(1, task_changed(""), "activity only"),
    "routing.task.paused": Mapping(1, task_changed(""), "activity only"),
    "routing.task.resumed": Mapping(1, task_changed(""), "activity only"),
    "routing.task.cancelled": Mapping(1, task_changed(""), "activity only"),
    "routing.notification.created": Mapping(1, ignored, "no figure"),
    # signing
    "signing.document.signed": Mapping(1, document_signed, "e-signed personal / seal"),
    "signing.document.failed": Mapping(1, counted("signing_failed", "failed_at"), "signing failures"),
    # interop
    "interop.document.received": Mapping(1, document_arrived, "arrived electronically; timeline"),
    "interop.document.updated": Mapping(1, ignored, "an update of a received document"),
    "interop.document.replaced": Mapping(1, ignored, "a replacement of a received document"),
    "interop.document.recalled": Mapping(1, counted("recalled", "recalled_at"), "recalled by the sender"),
    "interop.status.received": Mapping(1, counted("statuses_received", "received_at"), "statuses received"),
    "interop.status.sent": Mapping(1, counted("statuses_sent", "sent_at"), "statuses sent"),
    "interop.document.sent": Mapping(1, document_sent, "sent over the axis / internally"),
    "interop.send.failed": Mapping(1, counted("send_failed", "failed_at"), "sends given up"),
    "interop.recall.requested": Mapping(1, ignored, "no figure"),
    "interop.partner.synced": Mapping(1, ignored, "no figure"),
}
