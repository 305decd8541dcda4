"""Validating every signature of a PDF into a ValidationReport (Vietnamese and English).

TT 15/2025 Phụ lục II asks verification software to show the issuing CA, the signer, the
signing time or timestamp, integrity, validity at signing time and the validity period,
and to warn when revocation cannot be checked. Revocation data embedded in the file (the
DSS of a B-LT signature) is used first; what is missing is fetched (OCSP, CRL).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from vanthu_contracts.events.signing import (
    CertificateReport,
    RevocationStatus,
    SignatureReport,
    ValidationReport,
)
from vanthu_signing.domain import verdict as rules
from vanthu_signing.keys.certificates import summary as cert_summary
from vanthu_signing.pdf.inspect import PdfProblem, open_checked
from vanthu_signing.trust import TrustAnchor, slot_of

log = logging.getLogger("vanthu.signing.validation")


class Validator:
    def __init__(
        self, anchors: list[TrustAnchor], *, allow_fetching: bool = True, fetch_timeout_s: float = 10.0
    ) -> None:
        self.anchors = anchors
        self.allow_fetching = allow_fetching
        self.fetch_timeout_s = fetch_timeout_s

    async def validate(self, pdf: bytes, name: str = "") -> ValidationReport:
        """PdfProblem when the bytes are not a readable PDF."""
        reader = open_checked(pdf)
        try:
            reports = [await self._one(reader, sig) for sig in reader.embedded_regular_signatures]
        except Exception as exc:
            # A signature dictionary or CMS blob that cannot even be parsed (the certificate
            # and revocation checks report their failures in the status instead).
            raise PdfProblem("broken", f"signature: {type(exc).__name__}: {str(exc)[:120]}") from exc
        verdict = rules.overall([r.verdict for r in reports])
        vi, en = rules.summary(verdict, len(reports))
        return ValidationReport(
            file_sha256=hashlib.sha256(pdf).hexdigest(),
            file_name=name,
            checked_at=datetime.now(UTC),
            verdict=verdict,
            signatures=reports,
            trust_anchors=sorted({a.slot for a in self.anchors}),
            summary_vi=vi,
            summary_en=en,
        )

    def _context(self, reader: PdfFileReader) -> ValidationContext:
        kwargs = {
            "trust_roots": [a.certificate for a in self.anchors],
            "allow_fetching": self.allow_fetching,
            "revocation_mode": "soft-fail",
            "fetcher_backend": RequestsFetcherBackend(per_request_timeout=int(self.fetch_timeout_s)),
        }
        try:
            return DocumentSecurityStore.read_dss(reader).as_validation_context(kwargs)
        except NoDSSFoundError:
            return ValidationContext(**kwargs)

    async def _one(self, reader: PdfFileReader, sig: EmbeddedPdfSignature) -> SignatureReport:
        context = self._context(reader)
        status: PdfSignatureStatus = await async_validate_pdf_signature(
            sig, signer_validation_context=context, ts_validation_context=context
        )
        cert: asn1_x509.Certificate = status.signing_cert
        ts = status.timestamp_validity
        timestamp_time = ts.timestamp if ts is not None else None
        signing_time = timestamp_time or status.signer_reported_dt or datetime.now(UTC)
        validity = cert["tbs_certificate"]["validity"]
        valid_at_signing = validity["not_before"].native <= signing_time <= validity["not_after"].native

        revoked_at = status.revocation_details.revocation_date if status.revocation_details else None
        if revoked_at is not None:
            revocation = RevocationStatus.REVOKED
        elif context.soft_fail_exceptions:
            revocation = RevocationStatus.UNKNOWN
        else:
            revocation = RevocationStatus.GOOD
        # Revoked after a *timestamped* signing time: the signature stands (only a trusted
        # timestamp proves when the signature existed; the claimed time proves nothing).
        proven_time = timestamp_time if ts is not None and ts.trusted else None
        revoked_before = revoked_at is not None and (proven_time is None or revoked_at <= proven_time)

        path = status.validation_path
        anchor_cert = getattr(path.trust_anchor.authority, "certificate", None) if path is not None else None
        trusted_path = path is not None and anchor_cert is not None and status.trust_problem_indic is None
        if revocation is RevocationStatus.REVOKED and path is not None and anchor_cert is not None:
            trusted_path = True  # the path exists; revocation is reported on its own
        coverage = status.coverage.name.lower() if status.coverage is not None else "unclear"
        checks = rules.Checks(
            intact=status.intact,
            signature_valid=status.valid,
            changes_allowed=bool(status.docmdp_ok) if status.docmdp_ok is not None else True,
            covers_revision=coverage in ("entire_file", "entire_revision"),
            trusted_path=trusted_path,
            valid_at_signing=valid_at_signing,
            revocation=revocation,
            revoked_before_signing=revoked_before,
        )
        codes = rules.findings_for(checks)
        usage = cert.key_usage_value
        return SignatureReport(
            field_name=sig.field_name,
            signer=CertificateReport(
                **cert_summary(cert).model_dump(),
                valid_at_signing=valid_at_signing,
                key_usage=sorted(usage.native) if usage is not None else [],
            ),
            signing_time=status.signer_reported_dt,
            timestamp_time=timestamp_time,
            timestamp_trusted=ts.trusted if ts is not None else None,
            trusted=trusted_path and revocation is not RevocationStatus.REVOKED,
            trust_anchor=slot_of(self.anchors, anchor_cert) if anchor_cert is not None else None,
            trust_path=[c.subject.human_friendly for c in path.iter_certs(include_root=True)]
            if path is not None
            else [],
            revocation=revocation,
            revocation_source=_revocation_source(reader, revocation),
            revoked_at=revoked_at,
            intact=status.intact,
            signature_valid=status.valid,
            coverage=coverage,
            modification_level=status.modification_level.name.lower()
            if status.modification_level is not None
            else "none",
            later_changes=_later_changes(sig),
            pades_level=_pades_level(reader, ts is not None),
            verdict=rules.verdict_of(codes),
            findings=rules.as_findings(codes),
        )


def _later_changes(sig: EmbeddedPdfSignature) -> str:
    level = sig.docmdp_level
    if level is None:
        return "signatures_and_form_filling"  # an approval signature: further signatures are fine
    return {1: "none", 2: "form_filling", 3: "annotations"}.get(int(level.value), str(level))


def _has_dss(reader: PdfFileReader) -> bool:
    try:
        DocumentSecurityStore.read_dss(reader)
        return True
    except NoDSSFoundError:
        return False


def _revocation_source(reader: PdfFileReader, revocation: RevocationStatus) -> str:
    if revocation is RevocationStatus.UNKNOWN:
        return "none"
    return "embedded" if _has_dss(reader) else "ocsp_or_crl"


def _pades_level(reader: PdfFileReader, timestamped: bool) -> str:
    if reader.embedded_timestamp_signatures:
        return "B-LTA"
    if timestamped and _has_dss(reader):
        return "B-LT"
    return "B-T" if timestamped else "B-B"
