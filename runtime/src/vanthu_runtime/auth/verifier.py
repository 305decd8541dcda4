"""Verifying bearer JWTs: signature, algorithm, issuer, audience, expiry, then claims."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import jwt
from pydantic import ValidationError

from vanthu_contracts.errors import TOKEN_EXPIRED, UNAUTHENTICATED, UNAVAILABLE
from vanthu_runtime.auth.keys import ALLOWED_ALGORITHMS, algorithm_for, load_public_key, public_pem_of_private
from vanthu_runtime.auth.principal import Principal
from vanthu_runtime.errors import AppError

if TYPE_CHECKING:
    from vanthu_runtime.settings import ServiceSettings

REQUIRED_CLAIMS = ["exp", "sub", "iss", "aud"]

# Stable, non-sensitive reasons in AppError details: enough for a client or an
# operator to tell "clock skew" from "wrong realm" without seeing key material.
_REASONS: list[tuple[type[jwt.PyJWTError], str]] = [
    (jwt.InvalidSignatureError, "invalid_signature"),
    (jwt.InvalidAudienceError, "invalid_audience"),
    (jwt.InvalidIssuerError, "invalid_issuer"),
    (jwt.MissingRequiredClaimError, "missing_claim"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidAlgorithmError, "algorithm_not_allowed"),
    (jwt.InvalidKeyError, "invalid_key"),
    (jwt.DecodeError, "malformed"),
]


def _unauthenticated(reason: str) -> AppError:
    return AppError(UNAUTHENTICATED, {"reason": reason})


class TokenVerifier:
    """Checks access tokens against a fixed public key and/or an issuer's JWKS endpoint.

    With a JWKS URL, the key is chosen by the token's `kid`; the key set is
    cached (`jwks_lifespan_s`) and an unknown `kid` refetches it at most once per
    `jwks_cooldown_s`, so random kids cannot turn into a request flood at the
    issuer. A token without a `kid` is checked with the fixed key.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key_pem: bytes | None = None,
        jwks_url: str = "",
        leeway_s: float = 30,
        jwks_lifespan_s: float = 300,
        jwks_cooldown_s: float = 30,
        jwks_timeout_s: float = 5,
    ) -> None:
        if not public_key_pem and not jwks_url:
            raise ValueError("TokenVerifier needs public_key_pem or jwks_url")
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self._key = load_public_key(public_key_pem) if public_key_pem else None
        self._key_algorithm = algorithm_for(self._key) if self._key is not None else None
        self._jwks = (
            jwt.PyJWKClient(
                jwks_url,
                # Per-kid LRU caching never expires, so a key removed at the issuer
                # would stay trusted; the whole-set cache below expires instead.
                cache_keys=False,
                cache_jwk_set=True,
                lifespan=jwks_lifespan_s,
                cooldown_duration=jwks_cooldown_s,
                timeout=jwks_timeout_s,
            )
            if jwks_url
            else None
        )

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> TokenVerifier:
        """Keys from `jwt_public_key_file` or `jwks_url`; in development, from the dev issuer's key."""
        public_key_pem: bytes | None = None
        if settings.jwt_public_key_file is not None:
            public_key_pem = settings.jwt_public_key_file.read_bytes()
        elif not settings.jwks_url and settings.jwt_private_key_file is not None:
            public_key_pem = public_pem_of_private(settings.jwt_private_key_file.read_bytes())
        if public_key_pem is None and not settings.jwks_url:
            raise ValueError("no token verification keys: set jwt_public_key_file or jwks_url")
        return cls(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            public_key_pem=public_key_pem,
            jwks_url=settings.jwks_url,
        )

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; AppError(TOKEN_EXPIRED / UNAUTHENTICATED) otherwise.

        May block on a JWKS fetch; from async code use `averify`.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _unauthenticated("malformed") from None
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise _unauthenticated("algorithm_not_allowed")
        key, key_algorithm = self._key_for(header)
        if algorithm != key_algorithm:
            raise _unauthenticated("algorithm_not_allowed")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[key_algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway_s,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise AppError(TOKEN_EXPIRED) from None
        except jwt.PyJWTError as error:
            raise _unauthenticated(_reason(error)) from None
        try:
            return Principal.from_claims(claims)
        except ValidationError as error:
            fields = sorted({str(item["loc"][0]) for item in error.errors() if item["loc"]})
            raise AppError(UNAUTHENTICATED, {"reason": "invalid_claims", "fields": fields}) from None

    async def averify(self, token: str) -> Principal:
        """`verify` without blocking the event loop: only a JWKS fetch goes to a thread."""
        if self._jwks is not None and not self._key_is_cached(token):
            return await asyncio.to_thread(self.verify, token)
        return self.verify(token)

    def _key_for(self, header: dict[str, Any]) -> tuple[Any, str]:
        kid = header.get("kid")
        if self._jwks is not None and kid:
            try:
                signing_key = self._jwks.get_signing_key(kid)
            except jwt.PyJWKClientConnectionError:
                raise AppError(UNAVAILABLE, {"reason": "jwks_unreachable"}) from None
            except jwt.PyJWTError:
                raise _unauthenticated("unknown_key") from None
            return signing_key, signing_key.algorithm_name
        if self._key is not None and self._key_algorithm is not None:
            return self._key, self._key_algorithm
        raise _unauthenticated("unknown_key")

    def _key_is_cached(self, token: str) -> bool:
        assert self._jwks is not None
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return True  # malformed: verify() refuses it without any fetch
        cache = self._jwks.jwk_set_cache
        jwk_set = cache.get() if cache is not None else None
        if not kid:
            return True
        return jwk_set is not None and any(key.key_id == kid for key in jwk_set.keys)


def _reason(error: jwt.PyJWTError) -> str:
    for error_type, reason in _REASONS:
        if isinstance(error, error_type):
            return reason
    return "invalid_token"
