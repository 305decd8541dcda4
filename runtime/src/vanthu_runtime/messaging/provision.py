"""Creates or reconciles the streams and durable consumers declared in contracts.

Run by exactly one owner (`vanthu provision`: the launcher, the compose one-shot,
the Helm pre-install/pre-upgrade Job). Services only bind to what exists.
A durable's settings are frozen at creation unless updated explicitly, so this
step compares and updates them; settings JetStream cannot change (a stream's
retention, a consumer's deliver policy) are reported as errors, not ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from vanthu_contracts.streams import STREAMS, ConsumerSpec, DeliverPolicy, Retention, StreamSpec, consumers

log = logging.getLogger("vanthu.provision")

_RETENTION = {
    Retention.LIMITS: api.RetentionPolicy.LIMITS,
    Retention.WORK_QUEUE: api.RetentionPolicy.WORK_QUEUE,
    Retention.INTEREST: api.RetentionPolicy.INTEREST,
}
_DELIVER = {DeliverPolicy.ALL: api.DeliverPolicy.ALL, DeliverPolicy.NEW: api.DeliverPolicy.NEW}


@dataclass
class ProvisionReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def stream_config(spec: StreamSpec) -> api.StreamConfig:
    return api.StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        retention=_RETENTION[spec.retention],
        storage=api.StorageType.FILE if spec.file_storage else api.StorageType.MEMORY,
        duplicate_window=spec.duplicate_window_s,
        max_age=spec.max_age_s,
        max_bytes=spec.max_bytes,
        num_replicas=spec.replicas,
        description=spec.description or None,
    )


def consumer_config(spec: ConsumerSpec) -> api.ConsumerConfig:
    single = len(spec.filter_subjects) == 1
    return api.ConsumerConfig(
        durable_name=spec.durable,
        name=spec.durable,
        description=spec.description or None,
        deliver_policy=_DELIVER[spec.deliver_policy],
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=spec.ack_wait_s,
        max_deliver=spec.max_deliver,
        max_ack_pending=spec.max_ack_pending,
        filter_subject=spec.filter_subjects[0] if single else None,
        filter_subjects=None if single else list(spec.filter_subjects),
    )


def _stream_differs(have: api.StreamConfig, want: api.StreamConfig) -> list[str]:
    diffs = []
    if sorted(have.subjects or []) != sorted(want.subjects or []):
        diffs.append("subjects")
    for name in ("duplicate_window", "max_age", "max_bytes", "num_replicas", "description"):
        if (getattr(have, name) or 0) != (getattr(want, name) or 0):
            diffs.append(name)
    return diffs


def _consumer_differs(have: api.ConsumerConfig, want: api.ConsumerConfig) -> list[str]:
    diffs = []
    for name in ("ack_wait", "max_deliver", "max_ack_pending", "description"):
        if (getattr(have, name) or 0) != (getattr(want, name) or 0):
            diffs.append(name)
    have_filters = sorted(have.filter_subjects or ([have.filter_subject] if have.filter_subject else []))
    want_filters = sorted(want.filter_subjects or ([want.filter_subject] if want.filter_subject else []))
    if have_filters != want_filters:
        diffs.append("filter_subjects")
    return diffs


async def provision(
    js: JetStreamContext,
    streams: tuple[StreamSpec, ...] = STREAMS,
    consumer_specs: tuple[ConsumerSpec, ...] | None = None,
) -> ProvisionReport:
    report = ProvisionReport()
    for spec in streams:
        want = stream_config(spec)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(want)
            report.created.append(f"stream {spec.name}")
            continue
        if info.config.retention != want.retention:
            report.errors.append(
                f"stream {spec.name}: retention is {info.config.retention}, contracts say {want.retention}; "
                "JetStream cannot change it in place (migrate the stream)"
            )
            continue
        diffs = _stream_differs(info.config, want)
        if diffs:
            await js.update_stream(want)
            report.updated.append(f"stream {spec.name} ({', '.join(diffs)})")
        else:
            report.unchanged.append(f"stream {spec.name}")

    for cspec in consumers() if consumer_specs is None else consumer_specs:
        want_c = consumer_config(cspec)
        try:
            cinfo = await js.consumer_info(cspec.stream, cspec.durable)
        except NotFoundError:
            await js.add_consumer(cspec.stream, want_c)
            report.created.append(f"consumer {cspec.stream}/{cspec.durable}")
            continue
        if cinfo.config.deliver_policy != want_c.deliver_policy:
            report.errors.append(
                f"consumer {cspec.durable}: deliver policy cannot change; delete and recreate it deliberately"
            )
            continue
        diffs = _consumer_differs(cinfo.config, want_c)
        if diffs:
            await js.add_consumer(cspec.stream, want_c)  # create-or-update on the server
            report.updated.append(f"consumer {cspec.stream}/{cspec.durable} ({', '.join(diffs)})")
        else:
            report.unchanged.append(f"consumer {cspec.stream}/{cspec.durable}")
    for line in report.created + report.updated:
        log.info("provisioned %s", line)
    for line in report.errors:
        log.error("provisioning: %s", line)
    return report
