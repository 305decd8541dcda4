"""Forged, expired and mis-addressed bearer tokens are refused by every service (401).

Each token is built here byte by byte where a library would refuse to make it (`alg=none`,
HS256 keyed with the public key), and sent to one protected route of each of the five
services, next to a valid token that must pass (so a route that refused everything would
not make this test pass).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from security_platform import AGENCY_A, AGENCY_B, SERVICES, SecurityPlatform

from vanthu_contracts.errors import TOKEN_EXPIRED, UNAUTHENTICATED

# One protected route per service that a valid token of the agency's administrator passes.
PROBES = {
    "registry": "/api/v1/me",
    "routing": "/api/v1/inbox",
    "signing": "/api/v1/signer-profiles",
    "interop": "/api/v1/partners",
    "analytics": "/api/v1/analytics/status",
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64url(sign(signing_input.encode()))}"


class Forge:
    """Tokens for the A agency's administrator: the real key, and an attacker's."""

    def __init__(self, platform: SecurityPlatform) -> None:
        settings = platform.state("registry").runtime.settings
        self.private_pem = settings.jwt_private_key_file.read_bytes()
        self.public_pem = settings.jwt_public_key_file.read_bytes()
        self.issuer, self.audience = settings.jwt_issuer, settings.jwt_audience
        self.principal = platform.person(AGENCY_A, "quantri")
        self.attacker_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.attacker_ec = ec.generate_private_key(ec.SECP256R1())

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            **self.principal.to_claims(),
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "jti": uuid.uuid4().hex,
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def rs256(self, claims: dict[str, Any] | None = None, *, key: Any = None, **headers: Any) -> str:
        return jwt.encode(
            claims or self.claims(),
            key or self.private_pem,
            algorithm="RS256",
            headers={"kid": "vanthu-dev", **headers},
        )

    def tokens(self) -> dict[str, tuple[str, str | None]]:
        """name → (token, the `details.reason` expected; None for an expiry)."""
        valid = self.rs256()
        header, payload, signature = valid.split(".")
        tampered_claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        tampered_claims["agency"] = AGENCY_B
        tampered = f"{header}.{_b64url(json.dumps(tampered_claims).encode())}.{signature}"
        claims = self.claims()
        attacker_jwk = json.loads(RSAAlgorithm.to_jwk(self.attacker_rsa.public_key()))
        return {
            "signed with another key": (self.rs256(key=self.attacker_rsa), "invalid_signature"),
            "claims changed after signing": (tampered, "invalid_signature"),
            "expired": (
                self.rs256(self.claims(iat=int(time.time()) - 7200, nbf=None, exp=int(time.time()) - 3600)),
                None,
            ),
            "not yet valid": (self.rs256(self.claims(nbf=int(time.time()) + 3600)), "not_yet_valid"),
            "wrong issuer": (
                self.rs256(self.claims(iss="https://sso.attacker.example/realms/vanthu")),
                "invalid_issuer",
            ),
            "wrong audience": (self.rs256(self.claims(aud="another-application")), "invalid_audience"),
            "no expiry": (self.rs256(self.claims(exp=None)), "missing_claim"),
            "no agency claim": (self.rs256(self.claims(agency=None)), "invalid_claims"),
            "alg none": (
                _compact({"alg": "none", "typ": "JWT"}, claims, lambda _: b""),
                "algorithm_not_allowed",
            ),
            "alg None": (_compact({"alg": "None"}, claims, lambda _: b""), "algorithm_not_allowed"),
            "alg none, signature kept": (
                _compact({"alg": "none"}, claims, lambda _: base64.urlsafe_b64decode(signature + "==")),
                "algorithm_not_allowed",
            ),
            # Key confusion: HMAC keyed with the (public) verification key.
            "HS256 keyed with the public key": (
                _compact(
                    {"alg": "HS256", "typ": "JWT", "kid": "vanthu-dev"},
                    claims,
                    lambda data: hmac.new(self.public_pem, data, hashlib.sha256).digest(),
                ),
                "algorithm_not_allowed",
            ),
            "HS256 keyed with the public key, no newline": (
                _compact(
                    {"alg": "HS256"},
                    claims,
                    lambda data: hmac.new(self.public_pem.strip(), data, hashlib.sha256).digest(),
                ),
                "algorithm_not_allowed",
            ),
            "PS256 with the attacker's RSA key": (
                jwt.encode(claims, self.attacker_rsa, algorithm="PS256"),
                "algorithm_not_allowed",
            ),
            "ES256 with the attacker's EC key": (
                jwt.encode(claims, self.attacker_ec, algorithm="ES256", headers={"kid": "vanthu-dev"}),
                "algorithm_not_allowed",
            ),
            # The attacker names their own key in the header (jwk / jku / x5u): it must be ignored.
            "embedded jwk": (self.rs256(key=self.attacker_rsa, jwk=attacker_jwk), "invalid_signature"),
            "jku to the attacker": (
                self.rs256(key=self.attacker_rsa, jku="http://127.0.0.1:9/jwks.json"),
                "invalid_signature",
            ),
            "x5u to the attacker": (
                self.rs256(key=self.attacker_rsa, x5u="http://127.0.0.1:9/cert.pem"),
                "invalid_signature",
            ),
            "ES256 key in the jwk header": (
                jwt.encode(
                    claims,
                    self.attacker_ec,
                    algorithm="ES256",
                    headers={"jwk": json.loads(ECAlgorithm.to_jwk(self.attacker_ec.public_key()))},
                ),
                "algorithm_not_allowed",
            ),
        }


@pytest.fixture(scope="module")
def forge(platform: SecurityPlatform) -> Forge:
    return Forge(platform)


@pytest.mark.parametrize("service", SERVICES)
async def test_forged_expired_and_misaddressed_tokens_are_refused(
    platform: SecurityPlatform, forge: Forge, service: str
) -> None:
    client = platform.clients[service]
    url = PROBES[service]
    good = await client.get(url, headers={"Authorization": f"Bearer {forge.rs256()}"})
    assert good.status_code == 200, good.text
    for name, (token, reason) in forge.tokens().items():
        response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, f"{service}: {name}: {response.status_code} {response.text[:200]}"
        body = response.json()
        expected = TOKEN_EXPIRED if reason is None else UNAUTHENTICATED
        assert body["code"] == expected.code and body["message_vi"] == expected.message_vi, (
            service,
            name,
            body,
        )
        if reason is not None:
            assert body["details"]["reason"] == reason, (service, name, body)
        assert response.headers["www-authenticate"] == "Bearer"
