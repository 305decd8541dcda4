"""Builders of real contract events (envelope + payload model) for scenarios and the generator.

Every builder goes through the payload model of `vanthu_contracts`, so what the tests and the
synthetic province publish is exactly what the other services publish.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.events import interop, registry, routing, signing
from vanthu_contracts.events.common import Role, Secrecy, Urgency


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# pydantic keeps parametrized generics in a weak cache, so `Envelope[Model]` was rebuilt (schema
# and all) whenever the collector had dropped it: a third of the generator's time. Held here.
_ENVELOPES: dict[type[BaseModel], type[Envelope[Any]]] = {}


def envelope(
    type_: str,
    payload: BaseModel,
    *,
    at: datetime,
    agency: str | None,
    actor: str = "system",
    version: int = 1,
) -> Envelope[Any]:
    model = type(payload)
    parametrized = _ENVELOPES.get(model)
    if parametrized is None:
        parametrized = _ENVELOPES[model] = Envelope[model]  # type: ignore[valid-type]
    return parametrized(
        type=type_,
        version=version,
        occurred_at=at,
        source=type_.split(".", 1)[0],
        agency=agency,
        actor=actor,
        payload=payload,
    )


# -- directory ----------------------------------------------------------------------------


def agency(
    code: str, name: str, abbreviation: str, parent: str | None = None, at: datetime | None = None
) -> Envelope[Any]:
    payload = registry.AgencyUpserted(code=code, name=name, abbreviation=abbreviation, parent_code=parent)
    return envelope("registry.agency.upserted", payload, at=at or datetime.now().astimezone(), agency=code)


def unit(
    unit_id: str, agency_code: str, name: str, abbreviation: str, at: datetime | None = None
) -> Envelope[Any]:
    payload = registry.UnitUpserted(id=unit_id, agency_code=agency_code, name=name, abbreviation=abbreviation)
    return envelope(
        "registry.unit.upserted", payload, at=at or datetime.now().astimezone(), agency=agency_code
    )


def user(
    user_id: str,
    agency_code: str,
    unit_id: str | None,
    full_name: str,
    role: Role = Role.SPECIALIST,
    at: datetime | None = None,
) -> Envelope[Any]:
    payload = registry.UserUpserted(
        id=user_id, username=user_id.lower().replace("_", "."), full_name=full_name[:50],
        agency_code=agency_code, unit_id=unit_id, roles=[role],
    )  # fmt: skip
    return envelope(
        "registry.user.upserted", payload, at=at or datetime.now().astimezone(), agency=agency_code
    )


# -- incoming -----------------------------------------------------------------------------


def registered(
    document_id: str,
    agency_code: str,
    *,
    channel: registry.Channel,
    received_at: datetime,
    registered_at: datetime,
    clerk: str,
    number: int = 1,
    issuer: str = "000.00.00.G01",
    code_number: str | None = "12",
    code_notation: str | None = "BNV-VP",
    issued_date: date | None = None,
    due_date: date | None = None,
    duplicate_of: list[str] | None = None,
    external_document_id: str | None = None,
) -> Envelope[Any]:
    payload = registry.IncomingRegistered(
        document_id=document_id,
        agency_code=agency_code,
        type_name="Công văn",
        code_number=code_number,
        code_notation=code_notation,
        issued_date=issued_date or received_at.date(),
        issuer=registry.OrganRef(organ_id=issuer, organ_name="Cơ quan gửi"),
        subject="V/v báo cáo tình hình thực hiện nhiệm vụ",
        register_id=f"{agency_code}:den:{received_at.year}",
        register_year=received_at.year,
        incoming_number=number,
        received_at=received_at,
        registered_at=registered_at,
        channel=channel,
        external_document_id=external_document_id,
        due_date=due_date,
        duplicate_of=duplicate_of or [],
        registered_by=clerk,
    )
    return envelope(
        "registry.document.registered", payload, at=registered_at, agency=agency_code, actor=clerk
    )


def arrived(
    document_id: str,
    agency_code: str,
    *,
    channel: registry.Channel,
    at: datetime,
    issuer: str = "000.00.00.G01",
    code_number: str = "12",
    code_notation: str = "BNV-VP",
    issued_date: date | None = None,
) -> Envelope[Any]:
    payload = interop.DocumentReceived(
        document_id=document_id,
        agency_code=agency_code,
        type_name="Công văn",
        code_number=code_number,
        code_notation=code_notation,
        issued_date=issued_date or at.date(),
        issuer=registry.OrganRef(organ_id=issuer),
        subject="V/v báo cáo tình hình thực hiện nhiệm vụ",
        channel=channel,
        external_document_id=f"{issuer},{at:%Y/%m/%d},{code_number}/{code_notation}",
        sender=interop.OrganInfo(organ_id=issuer),
        received_at=at,
    )
    return envelope("interop.document.received", payload, at=at, agency=agency_code)


def _handling(document_id: str, agency_code: str, channel: registry.Channel) -> dict[str, Any]:
    return {
        "handling_id": f"h-{document_id}",
        "document_id": document_id,
        "agency_code": agency_code,
        "channel": channel,
    }


def assigned(
    document_id: str,
    agency_code: str,
    *,
    unit_id: str,
    leader: str,
    at: datetime,
    channel: registry.Channel = registry.Channel.AXIS,
    deadline: date | None = None,
    top: bool = True,
) -> Envelope[Any]:
    payload = routing.HandlingAssigned(
        **_handling(document_id, agency_code, channel),
        assigned_by=leader,
        parent_assignment_id=None if top else f"a-{document_id}",
        assignees=[
            routing.AssigneeOut(
                assignment_id=f"a-{document_id}-{unit_id}", kind=routing.AssigneeKind.UNIT,
                assignee_id=unit_id, role=routing.HandlingRole.MAIN, deadline=deadline,
            )
        ],
        assigned_at=at,
        status_code=routing.SenderStatus.ASSIGNED if top else None,
    )  # fmt: skip
    return envelope("routing.handling.assigned", payload, at=at, agency=agency_code, actor=leader)


def completed(
    document_id: str,
    agency_code: str,
    *,
    unit_id: str,
    by: str,
    at: datetime,
    on_time: bool | None,
    channel: registry.Channel = registry.Channel.AXIS,
) -> Envelope[Any]:
    payload = routing.HandlingCompleted(
        **_handling(document_id, agency_code, channel),
        assignment_id=f"a-{document_id}-{unit_id}", kind=routing.AssigneeKind.UNIT, assignee_id=unit_id,
        role=routing.HandlingRole.MAIN, at=at, document_completed=True, on_time=on_time,
        status_code=routing.SenderStatus.COMPLETED,
    )  # fmt: skip
    return envelope("routing.handling.completed", payload, at=at, agency=agency_code, actor=by)


# -- outgoing -----------------------------------------------------------------------------


def _draft(draft_id: str, agency_code: str, unit_id: str, creator: str) -> dict[str, Any]:
    return {
        "draft_id": draft_id, "agency_code": agency_code, "unit_id": unit_id, "creator_id": creator,
        "type_name": "Công văn", "subject": "V/v triển khai kế hoạch", "urgency": Urgency.NORMAL,
        "secrecy": Secrecy.NORMAL,
    }  # fmt: skip


def draft_created(
    draft_id: str, agency_code: str, *, unit_id: str, creator: str, at: datetime
) -> Envelope[Any]:
    payload = routing.DraftCreated(**_draft(draft_id, agency_code, unit_id, creator), created_at=at)
    return envelope("routing.draft.created", payload, at=at, agency=agency_code, actor=creator)


def draft_approved(
    draft_id: str, agency_code: str, *, unit_id: str, creator: str, signer: str, at: datetime
) -> Envelope[Any]:
    payload = routing.DraftApproved(
        **_draft(draft_id, agency_code, unit_id, creator), signer_id=signer, approved_at=at
    )
    return envelope("routing.draft.approved", payload, at=at, agency=agency_code, actor=signer)


def signed(
    agency_code: str,
    *,
    kind: signing.SignatureKind,
    at: datetime,
    by: str = "system",
    draft_id: str | None = None,
    document_id: str | None = None,
) -> Envelope[Any]:
    seed = f"{agency_code}{draft_id}{document_id}{kind}{at.isoformat()}"
    payload = signing.DocumentSigned(
        job_id=f"{draft_id or document_id or 'doc'}:{kind}",
        agency_code=agency_code,
        kind=kind,
        document_id=document_id,
        draft_id=draft_id,
        source_sha256=_sha(seed),
        signed=signing.SignedFile(sha256=_sha(seed + "signed"), size=120_000, name="van-ban.pdf"),
        level=signing.PadesLevel.B_T,
        field_name="Signature1",
        signer=signing.CertificateSummary(
            subject="CN=Signer", issuer="CN=CA", serial_hex="01", not_before=at - timedelta(days=365),
            not_after=at + timedelta(days=365), sha256=_sha(seed + "cert"),
        ),
        profile_id=f"profile-{agency_code}",
        signed_at=at,
    )  # fmt: skip
    return envelope("signing.document.signed", payload, at=at, agency=agency_code, actor=by)


def issued(
    document_id: str,
    agency_code: str,
    *,
    at: datetime,
    clerk: str,
    number: int = 1,
    draft_id: str | None,
    digitally_signed: bool = True,
    axis_recipients: int = 1,
    internal_recipients: int = 0,
) -> Envelope[Any]:
    symbol = f"{number}/UBND-VP"
    payload = registry.OutgoingIssued(
        document_id=document_id,
        agency_code=agency_code,
        type_name="Công văn",
        code_number=str(number),
        code_notation="UBND-VP",
        issued_date=at.date(),
        subject="V/v triển khai kế hoạch",
        register_id=f"{agency_code}:di:{at.year}",
        register_year=at.year,
        number=number,
        symbol=symbol,
        axis_document_id=f"{agency_code},{at:%Y/%m/%d},{symbol}",
        issued_at=at,
        draft_id=draft_id,
        digitally_signed=digitally_signed,
        sealed=digitally_signed,
        external_recipients=[
            registry.OrganRef(organ_id=f"000.00.{i:02d}.G99") for i in range(axis_recipients)
        ],
        internal_recipients=[
            registry.OrganRef(organ_id=f"000.00.{i:02d}.H99") for i in range(internal_recipients)
        ],
    )
    return envelope("registry.document.issued", payload, at=at, agency=agency_code, actor=clerk)


def sent(
    document_id: str, agency_code: str, *, channel: registry.Channel, at: datetime, recipient: str
) -> Envelope[Any]:
    payload = interop.DocumentSent(
        delivery_id=f"d-{document_id}-{recipient}", document_id=document_id, agency_code=agency_code,
        external_document_id=f"{agency_code},{at:%Y/%m/%d},{document_id}", recipient=registry.OrganRef(organ_id=recipient),
        channel=channel, sent_at=at,
    )  # fmt: skip
    return envelope("interop.document.sent", payload, at=at, agency=agency_code)


def status_received(
    document_id: str, agency_code: str, *, at: datetime, code: interop.StatusCode, recipient: str
) -> Envelope[Any]:
    payload = interop.StatusReceived(
        agency_code=agency_code, document_id=document_id, external_document_id=f"{agency_code},{document_id}",
        recipient=registry.OrganRef(organ_id=recipient), channel=registry.Channel.AXIS, code=code,
        label_vi=interop.STATUS_LABELS_VI[code], received_at=at,
    )  # fmt: skip
    return envelope("interop.status.received", payload, at=at, agency=agency_code)
