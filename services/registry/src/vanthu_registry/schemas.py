"""HTTP request and response models of the document side (translation only; rules live in domain/)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from vanthu_contracts.errors import VALIDATION
from vanthu_contracts.events import registry as contract
from vanthu_contracts.events.common import Secrecy, Urgency
from vanthu_registry.domain.metadata import DocumentMetadata, Recipient
from vanthu_registry.domain.numbering import symbol
from vanthu_runtime.errors import AppError


class RecipientIn(BaseModel):
    organ_id: str = ""
    organ_name: str = ""


class MetadataIn(BaseModel):
    """Phụ lục VI fields a person supplies. Lengths are checked by the registry's rules (coded 422s)."""

    type: str = Field(description="Type code (quyet_dinh, cong_van) or exact abbreviation (QĐ, QyĐ, TTr)")
    subject: str = Field(description="Trích yếu nội dung (Subject, ≤ 500)")
    code_number: str | None = Field(None, description="Số của văn bản (CodeNumber, ≤ 11)")
    code_notation: str | None = Field(None, description="Ký hiệu (CodeNotation, ≤ 30), e.g. QĐ-UBND")
    issued_date: date | None = Field(None, description="Ngày, tháng, năm văn bản (IssuedDate)")
    organ_id: str | None = Field(None, description="Mã định danh cơ quan ban hành (OrganId)")
    organ_name: str = Field("", description="Tên cơ quan ban hành (OrganName, ≤ 200)")
    language: str = "Tiếng Việt"
    page_amount: int | None = Field(None, description="Số trang; counted from the PDF when a file is given")
    description: str = ""
    signer_position: str = ""
    signer_name: str = ""
    urgency: Urgency = Urgency.NORMAL
    secrecy: Secrecy = Secrecy.NORMAL
    to_places: str = Field("", description="Đơn vị hoặc người nhận (ToPlaces, ≤ 1000)")
    due_date: date | None = None
    recipients: list[RecipientIn] = Field(default_factory=list, description="Nơi nhận (outgoing)")
    issued_amount: int | None = Field(None, description="Số lượng bản phát hành (outgoing)")

    def to_domain(self) -> DocumentMetadata:
        data = self.model_dump(include=set(MetadataIn.model_fields) - {"type", "recipients"})
        return DocumentMetadata(
            type_code=self.type, recipients=[Recipient(r.organ_id, r.organ_name) for r in self.recipients], **data
        )


class IssueIn(MetadataIn):
    draft_id: str | None = Field(None, max_length=64, description="Idempotency key (routing draft id)")
    unit_abbreviation: str | None = Field(None, description="Drafting unit abbreviation, required for công văn")
    signer_competence: str = Field("", max_length=10)
    digitally_signed: bool = True
    sealed: bool = False
    response_for: list[str] = Field(default_factory=list)


class ElectronicIn(BaseModel):
    metadata: MetadataIn
    files: list[contract.FileRef] = Field(min_length=1)
    channel: contract.Channel = contract.Channel.AXIS
    external_document_id: str | None = Field(None, max_length=200)
    sender: contract.OrganRef | None = None
    trace_header_list: str = ""
    response_for: str | None = None
    register_now: bool = False


class ReturnIn(BaseModel):
    reason: str = ""


class DuplicateKeyIn(BaseModel):
    external_document_id: str | None = None
    code_number: str | None = None
    code_notation: str | None = None
    organ_id: str | None = None
    organ_name: str | None = None


class GrantIn(BaseModel):
    principal_type: str = Field("user", description="user | unit")
    principal_id: str
    kind: str = Field("given", description="given | secret")


class FileOut(BaseModel):
    id: str
    sha256: str
    name: str
    content_type: str
    size: int
    page_count: int | None
    role: str
    version: int
    uploaded_at: datetime


class DocumentWarning(BaseModel):
    code: str
    message_vi: str
    message_en: str
    duplicate_of: list[str] = Field(default_factory=list)


class DocumentOut(BaseModel):
    id: str
    agency_code: str
    direction: str
    state: str
    register_id: str | None = None
    register_year: int | None = None
    number: int | None = None
    symbol: str | None = Field(None, description="Số, ký hiệu as printed (outgoing), e.g. 05/QĐ-UBND")
    type_code: str
    type_name: str
    type_abbreviation: str | None = None
    code_number: str | None = None
    code_notation: str | None = None
    issued_date: date | None = None
    organ_id: str | None = None
    organ_name: str
    subject: str
    language: str
    page_amount: int | None = None
    description: str
    signer_position: str
    signer_name: str
    signer_competence: str = ""
    urgency: str
    secrecy: str
    priority: int
    to_places: str
    trace_header_list: str
    due_date: date | None = None
    arrival_date: date | None = None
    received_at: datetime | None = None
    registered_at: datetime | None = None
    channel: str | None = None
    external_document_id: str | None = None
    sender_organ_id: str | None = None
    sender_organ_name: str | None = None
    recipients: list[dict[str, Any]] = Field(default_factory=list)
    issued_amount: int | None = None
    axis_document_id: str | None = None
    draft_id: str | None = None
    issued_at: datetime | None = None
    return_reason: str | None = None
    duplicate_of: list[str] = Field(default_factory=list)
    files: list[FileOut] = Field(default_factory=list)
    warnings: list[DocumentWarning] = Field(default_factory=list)

    @classmethod
    def of(cls, doc: dict[str, Any], files: list[dict[str, Any]], duplicate_of: list[str] | None = None) -> DocumentOut:
        warnings = []
        if duplicate_of:
            body = contract.DUPLICATE_WARNING.body()
            warnings.append(
                DocumentWarning(code=body.code, message_vi=body.message_vi, message_en=body.message_en, duplicate_of=duplicate_of)
            )
        shown = {k: v for k, v in doc.items() if k in cls.model_fields}
        if doc.get("direction") == "outgoing" and doc.get("number"):
            shown["symbol"] = symbol(doc["number"], doc["code_notation"])
        return cls(**shown, files=[FileOut(**{k: f[k] for k in FileOut.model_fields}) for f in files], warnings=warnings)


def parse_json_form(model: type[BaseModel], raw: str) -> Any:
    """Multipart requests carry their metadata as one JSON form field."""
    try:
        return model.model_validate(json.loads(raw))
    except (ValidationError, ValueError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else [{"loc": ["metadata"], "msg": str(exc), "type": "json"}]
        raise AppError(
            VALIDATION,
            {"errors": [{"loc": ["metadata", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]} for e in errors]},
        ) from exc
