"""Registries of message kinds: events, jobs (commands) and request/reply operations.

Each contract module declares its messages with `event(...)`, `job(...)` or
`rpc(...)`; the export, the subject-rule test and consumers all read them here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from vanthu_contracts.subjects import (
    EVENT_TYPE_RE,
    event_subject,
    job_subject,
    rpc_subject,
)


@dataclass(frozen=True)
class EventSpec:
    type: str
    version: int
    payload: type[BaseModel]
    summary: str

    @property
    def subject(self) -> str:
        return event_subject(self.type)

    @property
    def service(self) -> str:
        return self.type.split(".", 1)[0]


@dataclass(frozen=True)
class JobSpec:
    service: str
    operation: str
    version: int
    payload: type[BaseModel]
    summary: str

    @property
    def subject(self) -> str:
        return job_subject(self.service, self.operation)

    @property
    def type(self) -> str:
        return f"{self.service}.job.{self.operation}"


@dataclass(frozen=True)
class RpcSpec:
    service: str
    operation: str
    request: type[BaseModel]
    reply: type[BaseModel]
    summary: str

    @property
    def subject(self) -> str:
        return rpc_subject(self.service, self.operation)


_events: dict[str, EventSpec] = {}
_jobs: dict[str, JobSpec] = {}
_rpcs: dict[str, RpcSpec] = {}


def event(type: str, payload: type[BaseModel], summary: str, version: int = 1) -> EventSpec:
    if not EVENT_TYPE_RE.match(type):
        raise ValueError(f"event type {type!r} is not <service>.<aggregate>.<verb>")
    spec = EventSpec(type=type, version=version, payload=payload, summary=summary)
    if type in _events and _events[type] != spec:
        raise ValueError(f"event {type!r} declared twice")
    _events[type] = spec
    return spec


def job(service: str, operation: str, payload: type[BaseModel], summary: str, version: int = 1) -> JobSpec:
    spec = JobSpec(service=service, operation=operation, version=version, payload=payload, summary=summary)
    _ = spec.subject  # validates the naming rule now, not at first publish
    if spec.type in _jobs and _jobs[spec.type] != spec:
        raise ValueError(f"job {spec.type!r} declared twice")
    _jobs[spec.type] = spec
    return spec


def rpc(
    service: str, operation: str, request: type[BaseModel], reply: type[BaseModel], summary: str
) -> RpcSpec:
    spec = RpcSpec(service=service, operation=operation, request=request, reply=reply, summary=summary)
    _ = spec.subject
    _rpcs[spec.subject] = spec
    return spec


def events() -> dict[str, EventSpec]:
    from vanthu_contracts import catalog  # noqa: F401

    return dict(sorted(_events.items()))


def jobs() -> dict[str, JobSpec]:
    from vanthu_contracts import catalog  # noqa: F401

    return dict(sorted(_jobs.items()))


def rpcs() -> dict[str, RpcSpec]:
    from vanthu_contracts import catalog  # noqa: F401

    return dict(sorted(_rpcs.items()))
