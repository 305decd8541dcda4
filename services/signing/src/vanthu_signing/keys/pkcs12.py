"""Development key files (PKCS#12). Refused in production by the profile rules.

pyHanko's SimpleSigner re-parses its private key on every signature (about 47 ms of RSA
key checks, engineering notes §5); this signer parses it once.
"""

from __future__ import annotations

from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.signers.pdf_cms import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class CachedKeySigner(SimpleSigner):
    def __init__(self, signing_cert, signing_key, cert_registry, private_key) -> None:  # type: ignore[no-untyped-def]
        super().__init__(signing_cert=signing_cert, signing_key=signing_key, cert_registry=cert_registry)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        algorithm = _HASHES[digest_algorithm.lower()]()
        key = self._private_key
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), algorithm)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(algorithm))
        return super().sign_raw(data, digest_algorithm)


def load_pkcs12_signer(path: str | Path, passphrase: str | None) -> CachedKeySigner:
    blob = Path(path).read_bytes()
    key, cert, extra = pkcs12.load_key_and_certificates(blob, passphrase.encode() if passphrase else None)
    if key is None or cert is None:
        raise ValueError("the PKCS#12 file holds no key and certificate")
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signing_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    chain = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in extra or ()]
    return CachedKeySigner(
        signing_cert,
        asn1_keys.PrivateKeyInfo.load(der_key),
        SimpleCertificateStore.from_certs([signing_cert, *chain]),
        key,
    )
