"""Checking a signature value a remote device returned, before it goes into a PDF."""

from __future__ import annotations

from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def verify_raw_signature(cert: asn1_x509.Certificate, message: bytes, signature: bytes) -> bool:
    """True if `signature` is the certificate key's SHA-256 signature over `message`
    (RSA PKCS#1 v1.5 or ECDSA, what tokens and pyHanko's default mechanism produce)."""
    key = serialization.load_der_public_key(cert.public_key.dump())
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True
