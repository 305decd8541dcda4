"""Stream and consumer definitions: the single source of truth.

One provisioning step (`vanthu provision`, run by `vanthu up`, the compose
one-shot and the Helm pre-install Job) creates or reconciles these on the server.
Services never declare streams and only bind to the durable consumers listed
here, so no two deployments can fight over a stream's settings, and a changed
ack wait or delivery limit is applied by the provisioner instead of being
silently ignored by an existing durable.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vanthu_contracts.subjects import EVENTS_WILDCARD, PREFIX


class Retention(StrEnum):
    LIMITS = "limits"
    WORK_QUEUE = "workqueue"
    INTEREST = "interest"


class DeliverPolicy(StrEnum):
    ALL = "all"
    NEW = "new"


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    retention: Retention = Retention.LIMITS
    duplicate_window_s: float = 120.0
    max_age_s: float = 0.0  # 0 = keep forever
    max_bytes: int = -1
    file_storage: bool = True
    replicas: int = 1
    description: str = ""


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer. Every replica of a service binds to the same durable."""

    stream: str
    durable: str
    service: str
    filter_subjects: tuple[str, ...]
    ack_wait_s: float = 30.0
    max_deliver: int = 8
    # Redelivery delays by attempt (seconds); the consumer runner naks with these.
    backoff_s: tuple[float, ...] = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0, 120.0)
    max_ack_pending: int = 1000
    deliver_policy: DeliverPolicy = DeliverPolicy.ALL
    description: str = ""
    dead_letter: bool = True


EVENTS_STREAM = StreamSpec(
    name="VANTHU_EVENTS",
    subjects=(EVENTS_WILDCARD,),
    retention=Retention.LIMITS,
    duplicate_window_s=600.0,
    max_age_s=0.0,
    description="Every fact any service publishes. Kept, so analytics can replay from the start.",
)

SIGNING_JOBS_STREAM = StreamSpec(
    name="VANTHU_JOBS_SIGNING",
    subjects=(f"{PREFIX}.job.signing.>",),
    retention=Retention.WORK_QUEUE,
    duplicate_window_s=600.0,
    description="Signing jobs shared by all signing workers; a job is removed once acknowledged.",
)

INTEROP_JOBS_STREAM = StreamSpec(
    name="VANTHU_JOBS_INTEROP",
    subjects=(f"{PREFIX}.job.interop.>",),
    retention=Retention.WORK_QUEUE,
    duplicate_window_s=600.0,
    description="Send jobs for the national axis and province-internal delivery.",
)

DEAD_LETTER_STREAM = StreamSpec(
    name="VANTHU_DLQ",
    subjects=(f"{PREFIX}.dlq.>",),
    retention=Retention.LIMITS,
    duplicate_window_s=600.0,
    max_age_s=90 * 86400.0,
    description="Messages a consumer gave up on after its delivery limit, with the last error.",
)

STREAMS: tuple[StreamSpec, ...] = (
    EVENTS_STREAM,
    SIGNING_JOBS_STREAM,
    INTEROP_JOBS_STREAM,
    DEAD_LETTER_STREAM,
)

_consumers: dict[str, ConsumerSpec] = {}


def register_consumer(spec: ConsumerSpec) -> ConsumerSpec:
    """Declare a durable consumer. Called at import by the contract modules."""
    known = _consumers.get(spec.durable)
    if known is not None and known != spec:
        raise ValueError(f"consumer {spec.durable!r} declared twice with different settings")
    if spec.stream not in {s.name for s in STREAMS}:
        raise ValueError(f"consumer {spec.durable!r} reads unknown stream {spec.stream!r}")
    _consumers[spec.durable] = spec
    return spec


def consumers() -> tuple[ConsumerSpec, ...]:
    # Importing the catalog registers every consumer the contracts declare.
    from vanthu_contracts import catalog  # noqa: F401

    return tuple(sorted(_consumers.values(), key=lambda c: c.durable))


def stream_named(name: str) -> StreamSpec:
    for spec in STREAMS:
        if spec.name == name:
            return spec
    raise KeyError(name)
