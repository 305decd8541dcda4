"""Checks a certificate must pass before it signs (TT 15/2025: check before signing)."""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime

from asn1crypto import x509 as asn1_x509

from vanthu_contracts.events.signing import CertificateSummary


class CertificateProblem(ValueError):
    """`reason`: expired, not_yet_valid, key_usage."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_for_signing(cert: asn1_x509.Certificate, now: datetime) -> None:
    validity = cert["tbs_certificate"]["validity"]
    if now < validity["not_before"].native:
        raise CertificateProblem("not_yet_valid")
    if now > validity["not_after"].native:
        raise CertificateProblem("expired")
    usage = cert.key_usage_value
    if usage is None or "non_repudiation" not in usage.native:
        raise CertificateProblem("key_usage")


def summary(cert: asn1_x509.Certificate) -> CertificateSummary:
    # A key signs job after job with one certificate: summarise it once, not per event.
    return _summary_of(cert.dump())


@functools.lru_cache(maxsize=256)
def _summary_of(der: bytes) -> CertificateSummary:
    cert = asn1_x509.Certificate.load(der)
    validity = cert["tbs_certificate"]["validity"]
    return CertificateSummary(
        subject=cert.subject.human_friendly,
        common_name=str(cert.subject.native.get("common_name", "")),
        issuer=cert.issuer.human_friendly,
        serial_hex=format(cert.serial_number, "x"),
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
        sha256=hashlib.sha256(der).hexdigest(),
    )


def load_certificate(data: bytes) -> asn1_x509.Certificate:
    """DER or PEM."""
    from asn1crypto import pem

    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return asn1_x509.Certificate.load(data)
