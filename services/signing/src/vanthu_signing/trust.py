"""Trust anchors: the named roots the operator provides as files.

Two slots are named after the Vietnamese hierarchies a provincial system meets
(clerical-rules §4.2-4.3): the Ban Cơ yếu Chính phủ root "RootCA chuyên dùng Chính phủ G2"
(public-service signatures) and NEAC's "Vietnam National Root CA" (public CAs). Until the
cross-recognition under TT 17/2025 is settled, both are configured as separate anchors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms, pem
from asn1crypto import x509 as asn1_x509

SLOT_VGCA_G2 = "RootCA chuyên dùng Chính phủ G2"
SLOT_VN_NATIONAL_ROOT = "Vietnam National Root CA"


class AnchorFileProblem(ValueError):
    pass


@dataclass(frozen=True)
class TrustAnchor:
    slot: str
    certificate: asn1_x509.Certificate


def read_certificates(path: Path) -> list[asn1_x509.Certificate]:
    """Certificates in a PEM (one or many), DER or PKCS#7 (.p7b) file."""
    data = path.read_bytes()
    blobs: list[bytes] = []
    if pem.detect(data):
        for kind, _, der in pem.unarmor(data, multiple=True):
            if kind == "CERTIFICATE":
                blobs.append(der)
            elif kind in ("PKCS7", "CMS"):
                blobs.extend(_from_pkcs7(der))
    else:
        try:
            _ = asn1_x509.Certificate.load(data).subject  # parses lazily: touch a field
            blobs = [data]
        except (ValueError, TypeError):
            blobs = _from_pkcs7(data)
    if not blobs:
        raise AnchorFileProblem(f"{path}: no certificate found")
    return [asn1_x509.Certificate.load(b) for b in blobs]


def _from_pkcs7(der: bytes) -> list[bytes]:
    info = cms.ContentInfo.load(der)
    signed = info["content"]
    return [c.chosen.dump() for c in signed["certificates"] or []]


def load_anchors(vgca_g2: Path | None, vn_national_root: Path | None, extra: list[Path]) -> list[TrustAnchor]:
    anchors: list[TrustAnchor] = []
    for slot, path in ((SLOT_VGCA_G2, vgca_g2), (SLOT_VN_NATIONAL_ROOT, vn_national_root)):
        if path is not None:
            anchors += [TrustAnchor(slot, c) for c in read_certificates(Path(path))]
    for path in extra:
        anchors += [TrustAnchor(Path(path).name, c) for c in read_certificates(Path(path))]
    return anchors


def slot_of(anchors: list[TrustAnchor], certificate: asn1_x509.Certificate) -> str | None:
    for anchor in anchors:
        if anchor.certificate.dump() == certificate.dump():
            return anchor.slot
    return None
