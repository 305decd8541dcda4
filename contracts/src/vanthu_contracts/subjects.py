"""Subject naming rules.

    vanthu.evt.<service>.<aggregate>.<verb>   facts, on the VANTHU_EVENTS stream
    vanthu.job.<service>.<operation>          work for one service, on a work-queue stream
    vanthu.rpc.<service>.<operation>          request/reply for reads that must be fresh
    vanthu.dlq.<service>.<consumer>           what a consumer gave up on

Tokens are lower case ASCII words joined by underscores: NATS treats `.`, `*`
and `>` specially, and lower-case ASCII keeps subjects portable to every client.
"""

from __future__ import annotations

import re

SERVICES: tuple[str, ...] = ("registry", "routing", "signing", "interop", "analytics")
PREFIX = "vanthu"

_TOKEN = r"[a-z][a-z0-9_]*"
_SERVICE = "(?:" + "|".join(SERVICES) + ")"

EVENT_SUBJECT_RE = re.compile(rf"^{PREFIX}\.evt\.{_SERVICE}\.{_TOKEN}\.{_TOKEN}$")
JOB_SUBJECT_RE = re.compile(rf"^{PREFIX}\.job\.{_SERVICE}\.{_TOKEN}$")
RPC_SUBJECT_RE = re.compile(rf"^{PREFIX}\.rpc\.{_SERVICE}\.{_TOKEN}$")
DLQ_SUBJECT_RE = re.compile(rf"^{PREFIX}\.dlq\.{_SERVICE}\.{_TOKEN}$")
EVENT_TYPE_RE = re.compile(rf"^{_SERVICE}\.{_TOKEN}\.{_TOKEN}$")

EVENTS_WILDCARD = f"{PREFIX}.evt.>"
# Events whose payload holds a secret document's subject (trích yếu) travel here instead, so
# NATS permissions by service (`vanthu.evt.registry.>` …) never reach them; only the platform's
# own services are given this prefix.
SECRET_EVENTS_PREFIX = f"{PREFIX}.evt.secret"
SECRET_EVENT_SUBJECT_RE = re.compile(rf"^{PREFIX}\.evt\.secret\.{_SERVICE}\.{_TOKEN}\.{_TOKEN}$")


def event_subject(event_type: str) -> str:
    """`registry.document.registered` → `vanthu.evt.registry.document.registered`."""
    if not EVENT_TYPE_RE.match(event_type):
        raise ValueError(f"event type {event_type!r} is not <service>.<aggregate>.<verb>")
    return f"{PREFIX}.evt.{event_type}"


def secret_event_subject(event_type: str) -> str:
    """`registry.document.registered` → `vanthu.evt.secret.registry.document.registered`."""
    return event_subject(event_type).replace(f"{PREFIX}.evt.", f"{SECRET_EVENTS_PREFIX}.", 1)


def document_event_subjects(event_type: str) -> tuple[str, str]:
    """What a consumer of a document event listens to: its subject and, for the same event of a
    secret document, the secret one (`publish_subject` in the registry contracts chooses)."""
    return event_subject(event_type), secret_event_subject(event_type)


def event_type_of(subject: str) -> str:
    if SECRET_EVENT_SUBJECT_RE.match(subject):
        return subject.removeprefix(f"{SECRET_EVENTS_PREFIX}.")
    if not EVENT_SUBJECT_RE.match(subject):
        raise ValueError(f"{subject!r} is not an event subject")
    return subject.removeprefix(f"{PREFIX}.evt.")


def job_subject(service: str, operation: str) -> str:
    subject = f"{PREFIX}.job.{service}.{operation}"
    if not JOB_SUBJECT_RE.match(subject):
        raise ValueError(f"{subject!r} breaks the job subject rule")
    return subject


def rpc_subject(service: str, operation: str) -> str:
    subject = f"{PREFIX}.rpc.{service}.{operation}"
    if not RPC_SUBJECT_RE.match(subject):
        raise ValueError(f"{subject!r} breaks the rpc subject rule")
    return subject


def dlq_subject(service: str, consumer: str) -> str:
    subject = f"{PREFIX}.dlq.{service}.{consumer}"
    if not DLQ_SUBJECT_RE.match(subject):
        raise ValueError(f"{subject!r} breaks the dead-letter subject rule")
    return subject


def is_valid_subject(subject: str) -> bool:
    return any(
        rule.match(subject) for rule in (EVENT_SUBJECT_RE, JOB_SUBJECT_RE, RPC_SUBJECT_RE, DLQ_SUBJECT_RE)
    )
