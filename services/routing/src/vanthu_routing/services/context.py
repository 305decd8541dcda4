"""What every use case needs, built once by the composition root."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from vanthu_contracts.envelope import Envelope
from vanthu_routing.clock import Clock
from vanthu_routing.domain.actors import Actor
from vanthu_routing.domain.calendar import WorkingCalendar
from vanthu_routing.domain.deadlines import DeadlinePolicy
from vanthu_routing.domain.rules import RuleBroken
from vanthu_routing.services.notifier import Notifier
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import UnitOfWork


@dataclass
class RoutingContext:
    uow: UnitOfWork
    clock: Clock
    calendar: WorkingCalendar
    deadlines: DeadlinePolicy
    notifier: Notifier
    # Agencies whose clerical rules let the văn thư forward straight to the proposed unit.
    direct_forward_agencies: frozenset[str] = frozenset()
    due_soon_working_days: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


@contextmanager
def rules() -> Iterator[None]:
    """Turn a broken domain rule into the coded error the adapters report."""
    try:
        yield
    except RuleBroken as exc:
        raise AppError(exc.code, exc.details, **exc.fmt) from exc


def envelope(
    type_: str, payload: object, agency: str | None, actor: Actor | str | None, correlation_id: str | None = None
) -> Envelope:
    if isinstance(actor, Actor):
        who, behalf = actor.person, actor.on_behalf_of
    else:
        who, behalf = actor or "system", None
    return Envelope(
        type=type_,
        source="routing",
        agency=agency,
        actor=who,
        on_behalf_of=behalf,
        correlation_id=correlation_id,
        payload=payload,
    )
