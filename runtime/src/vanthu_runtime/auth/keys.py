"""Loading public keys and mapping them to the one JWS algorithm each may verify."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

# Asymmetric only. `none` and the HMAC family are never accepted: an HS256
# token "signed" with the RSA public key (which is public) would otherwise pass.
ALLOWED_ALGORITHMS = ("RS256", "ES256", "EdDSA")

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


def load_public_key(pem: bytes) -> PublicKey:
    """A PEM public key or certificate (an IdP often publishes its signing certificate)."""
    if b"PRIVATE KEY" in pem:
        raise ValueError("expected a public key or certificate, got a private key")
    if b"BEGIN CERTIFICATE" in pem:
        key = x509.load_pem_x509_certificate(pem).public_key()
    else:
        key = serialization.load_pem_public_key(pem)
    algorithm_for(key)  # refuse key types we do not verify with
    return key  # type: ignore[return-value]


def algorithm_for(key: object) -> str:
    """The single algorithm a key may be used with, so a token cannot pick another."""
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ValueError(f"RSA key of {key.key_size} bits is too short (2048 at least)")
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise ValueError(f"unsupported token signing key type {type(key).__name__}; use RSA, P-256 or Ed25519")


def public_pem_of_private(private_pem: bytes) -> bytes:
    private_key = serialization.load_pem_private_key(private_pem, password=None)
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
