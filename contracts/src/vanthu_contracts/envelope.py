"""The event envelope every message on the bus carries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import uuid_utils
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vanthu_contracts.subjects import SERVICES

P = TypeVar("P")


def new_event_id() -> UUID:
    """A UUIDv7: time ordered, so ids sort by creation and index well."""
    return UUID(bytes=uuid_utils.uuid7().bytes)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel, Generic[P]):
    """Every event and job travels in one of these.

    `id` doubles as the `Nats-Msg-Id` header, so JetStream drops a re-published
    copy inside the stream's de-duplication window, and consumers record it in
    their inbox so an effect is applied once even past that window.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID = Field(default_factory=new_event_id, description="UUIDv7; also the Nats-Msg-Id header")
    type: str = Field(description="<service>.<aggregate>.<verb>, e.g. registry.document.registered")
    version: int = Field(default=1, ge=1, description="Payload schema version of this type")
    occurred_at: datetime = Field(default_factory=utcnow, description="UTC time the fact happened")
    source: str = Field(description="Service that produced the event")
    agency: str | None = Field(
        default=None, description="Identifier code (mã định danh) of the tenant agency, if any"
    )
    actor: str = Field(default="system", description="User id that caused it, or 'system'")
    on_behalf_of: str | None = Field(
        default=None, description="User id the actor acted for (ủy quyền), if delegated"
    )
    correlation_id: str | None = Field(
        default=None, description="Ties together the messages of one business flow"
    )
    payload: P

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value not in SERVICES and value != "test":
            raise ValueError(f"unknown source service {value!r}")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a time zone")
        return value.astimezone(UTC)

    @property
    def msg_id(self) -> str:
        return str(self.id)


class RawEnvelope(Envelope[dict[str, Any]]):
    """An envelope whose payload is not (yet) validated against its event model.

    Consumers first read this, look the type up in the catalog, then validate the
    payload, so an unknown type or a newer version can be counted and skipped.
    """
