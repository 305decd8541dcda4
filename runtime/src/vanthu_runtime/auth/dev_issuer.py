"""The built-in token issuer of the embedded (development) mode. Never enabled in production."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from vanthu_runtime.auth.principal import Principal

if TYPE_CHECKING:
    from vanthu_runtime.settings import ServiceSettings

PRIVATE_KEY_FILE = "jwt-private.pem"
PUBLIC_KEY_FILE = "jwt-public.pem"


class DevTokenIssuer:
    """Mints RS256 tokens for local users and publishes the matching JWKS."""

    def __init__(
        self, private_key_pem: bytes, *, issuer: str, audience: str, kid: str = "vanthu-dev"
    ) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the development issuer signs with RS256 and needs an RSA private key")
        self._key = key
        self.issuer = issuer
        self.audience = audience
        self.kid = kid

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> DevTokenIssuer:
        if settings.jwt_private_key_file is None:
            raise ValueError("the development issuer needs jwt_private_key_file")
        return cls(
            settings.jwt_private_key_file.read_bytes(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )

    def mint(self, principal: Principal, ttl_s: int = 8 * 3600) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            **principal.to_claims(),
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_s,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def public_key_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.pop("key_ops", None)  # RFC 7517 §4.3: don't combine with "use"
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}


def ensure_dev_keypair(directory: Path) -> tuple[Path, Path]:
    """The development key pair in `directory`: created once (RSA-2048), reused afterwards.

    Safe when several services start at once in the embedded mode: creation
    happens under an exclusive lock, so they all end up with the same key.
    Returns (private key path, public key path); the private key is mode 0600.
    """
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE
    with _exclusive_lock(directory / ".jwt-keys.lock"):
        if private_path.exists():
            private_pem = private_path.read_bytes()
            os.chmod(private_path, 0o600)
        else:
            private_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            _write_new_file(private_path, private_pem, mode=0o600)
        public_pem = (
            serialization.load_pem_private_key(private_pem, password=None)
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        if not public_path.exists() or public_path.read_bytes() != public_pem:
            _write_new_file(public_path, public_pem, mode=0o644)
    return private_path, public_path


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    with open(path, "a+b") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _write_new_file(path: Path, data: bytes, *, mode: int) -> None:
    """Write through a temporary file created with `mode`, then rename: readers never see half a key."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), mode)  # the umask may have taken bits off `mode`
        file.write(data)
    os.replace(temporary, path)
