"""Sign jobs: one job id, at most one signature, whatever the delivery count.

A worker *claims* a job before touching a key: it records the job as running under its
name with a lease. Another delivery of the same job (a redelivery after the ack wait, a
re-published copy, a second worker) sees the claim and does not sign. A lease that ran out
means the worker holding it died before storing anything; the job may be taken over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class JobStatus(StrEnum):
    RUNNING = "running"
    SIGNED = "signed"
    FAILED = "failed"


class ClaimDecision(StrEnum):
    START = "start"  # first sight of the job: sign it
    TAKE_OVER = "take_over"  # a dead worker's claim: sign it
    ALREADY_SIGNED = "already_signed"  # done before: acknowledge, sign nothing
    ALREADY_FAILED = "already_failed"  # failed for good before: report the same failure again
    BUSY = "busy"  # a live worker is signing it right now: come back later


@dataclass(frozen=True)
class JobState:
    status: JobStatus
    worker: str
    lease_until: datetime


def decide_claim(existing: JobState | None, *, now: datetime, worker: str) -> ClaimDecision:
    if existing is None:
        return ClaimDecision.START
    if existing.status is JobStatus.SIGNED:
        return ClaimDecision.ALREADY_SIGNED
    if existing.status is JobStatus.FAILED:
        return ClaimDecision.ALREADY_FAILED
    if existing.worker == worker and existing.lease_until > now:
        # Our own claim, redelivered to us (e.g. after a lost ack): still in our hands.
        return ClaimDecision.BUSY
    if existing.lease_until > now:
        return ClaimDecision.BUSY
    return ClaimDecision.TAKE_OVER
