"""Bearer tokens: what verifies, what is refused and with which code, JWKS by kid, FastAPI glue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import multiprocessing
import socket
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from jwt.algorithms import ECAlgorithm

from vanthu_contracts.errors import FORBIDDEN, TOKEN_EXPIRED, UNAUTHENTICATED, UNAVAILABLE
from vanthu_contracts.events.common import Role
from vanthu_runtime.auth import (
    CurrentPrincipal,
    DevTokenIssuer,
    Principal,
    TokenVerifier,
    ensure_dev_keypair,
    require_roles,
)
from vanthu_runtime.errors import AppError
from vanthu_runtime.settings import ServiceSettings

ISSUER, AUDIENCE = "https://id.vanthu.test/realms/province", "vanthu"

CLERK = Principal(
    user_id="u-clerk",
    agency="000.00.12.H53",
    unit="van-phong",
    roles=[Role.CLERK],
    name="Nguyễn Thị Văn Thư",
    scopes=["documents:write"],
)


def private_pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def issuer(rsa_key: rsa.RSAPrivateKey) -> DevTokenIssuer:
    return DevTokenIssuer(private_pem(rsa_key), issuer=ISSUER, audience=AUDIENCE, kid="k1")


@pytest.fixture(scope="module")
def verifier(rsa_key: rsa.RSAPrivateKey) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, public_key_pem=public_pem(rsa_key))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(signature)}"


def valid_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {**CLERK.to_claims(), "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def refused(verifier: TokenVerifier, token: str) -> AppError:
    with pytest.raises(AppError) as caught:
        verifier.verify(token)
    return caught.value


# ------------------------------------------------------------------------- what verifies


def test_a_good_token_verifies_into_the_principal(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint(CLERK)
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": "k1", "typ": "JWT"}
    principal = verifier.verify(token)
    assert principal == CLERK
    assert principal.has_role(Role.CLERK, Role.ADMIN)
    assert not principal.has_role(Role.HEAD)


def test_delegation_and_scope_claims_round_trip(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    deputy = CLERK.model_copy(update={"user_id": "u-deputy", "on_behalf_of": "u-head", "scopes": ["a", "b"]})
    principal = verifier.verify(issuer.mint(deputy))
    assert principal.on_behalf_of == "u-head"
    assert principal.scopes == ["a", "b"]


def test_expiry_within_the_leeway_is_accepted(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    assert verifier.verify(issuer.mint(CLERK, ttl_s=-10)).user_id == "u-clerk"


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
def test_ec_and_eddsa_keys_verify_their_own_algorithm(algorithm: str) -> None:
    key = (
        ec.generate_private_key(ec.SECP256R1())
        if algorithm == "ES256"
        else ed25519.Ed25519PrivateKey.generate()
    )
    token = jwt.encode(valid_claims(), key, algorithm=algorithm)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, public_key_pem=public_pem(key))
    assert verifier.verify(token) == CLERK


# ------------------------------------------------------------------------- what is refused


def test_expired_token_is_token_expired(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    assert refused(verifier, issuer.mint(CLERK, ttl_s=-120)).error is TOKEN_EXPIRED


def test_token_signed_by_another_key_is_refused(
    other_rsa_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    forged = DevTokenIssuer(private_pem(other_rsa_key), issuer=ISSUER, audience=AUDIENCE, kid="k1").mint(
        CLERK
    )
    error = refused(verifier, forged)
    assert error.error is UNAUTHENTICATED and error.details == {"reason": "invalid_signature"}


def test_expired_token_from_another_key_is_unauthenticated_not_expired(
    other_rsa_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    forged = DevTokenIssuer(private_pem(other_rsa_key), issuer=ISSUER, audience=AUDIENCE).mint(
        CLERK, ttl_s=-600
    )
    assert refused(verifier, forged).error is UNAUTHENTICATED


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "another-app"}, "invalid_audience"),
        ({"iss": "https://evil.example/realms/province"}, "invalid_issuer"),
        ({"exp": None}, "missing_claim"),
        ({"sub": None}, "missing_claim"),
        ({"nbf": int(time.time()) + 3600}, "not_yet_valid"),
    ],
)
def test_wrong_or_missing_registered_claims_are_refused(
    rsa_key: rsa.RSAPrivateKey, verifier: TokenVerifier, claims: dict[str, Any], reason: str
) -> None:
    token = jwt.encode(valid_claims(**claims), rsa_key, algorithm="RS256")
    error = refused(verifier, token)
    assert error.error is UNAUTHENTICATED and error.details["reason"] == reason


@pytest.mark.parametrize(
    ("claims", "field"),
    [({"agency": None}, "agency"), ({"agency": "UBND tỉnh"}, "agency"), ({"roles": "van_thu"}, "roles")],
)
def test_claims_that_do_not_make_a_principal_are_refused(
    rsa_key: rsa.RSAPrivateKey, verifier: TokenVerifier, claims: dict[str, Any], field: str
) -> None:
    error = refused(verifier, jwt.encode(valid_claims(**claims), rsa_key, algorithm="RS256"))
    assert error.error is UNAUTHENTICATED
    assert error.details == {"reason": "invalid_claims", "fields": [field]}


def test_alg_none_is_refused(verifier: TokenVerifier) -> None:
    for alg in ("none", "None", "NONE"):
        error = refused(verifier, hand_made_token({"alg": alg, "typ": "JWT"}, valid_claims()))
        assert error.error is UNAUTHENTICATED and error.details == {"reason": "algorithm_not_allowed"}


def test_hs256_signed_with_the_public_key_is_refused(
    rsa_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    """Key confusion: the RSA public key is public, so an HMAC 'signed' with it proves nothing."""
    header, claims = {"alg": "HS256", "typ": "JWT"}, valid_claims()
    unsigned = hand_made_token(header, claims).rsplit(".", 1)[0]
    signature = hmac.new(public_pem(rsa_key), unsigned.encode(), hashlib.sha256).digest()
    token = f"{unsigned}.{b64url(signature)}"
    # The header claims HS256 and the HMAC is right for that "secret": a verifier that let the
    # token choose its algorithm and used the configured key bytes as the secret would accept it.
    error = refused(verifier, token)
    assert error.error is UNAUTHENTICATED and error.details == {"reason": "algorithm_not_allowed"}


@pytest.mark.parametrize("alg", ["RS512", "PS256", "ES256", "HS512", "XYZ"])
def test_other_algorithms_are_refused_for_an_rsa_key(
    rsa_key: rsa.RSAPrivateKey, verifier: TokenVerifier, alg: str
) -> None:
    if alg in {"RS512", "PS256"}:
        token = jwt.encode(valid_claims(), rsa_key, algorithm=alg)
    elif alg == "ES256":
        token = jwt.encode(valid_claims(), ec.generate_private_key(ec.SECP256R1()), algorithm=alg)
    else:
        token = hand_made_token({"alg": alg, "typ": "JWT"}, valid_claims(), b"\x00" * 32)
    assert refused(verifier, token).error is UNAUTHENTICATED


def test_tampered_and_malformed_tokens_are_refused(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    header, _, signature = issuer.mint(CLERK).split(".")
    promoted = b64url(json.dumps(valid_claims(roles=["quan_tri"])).encode())
    assert refused(verifier, f"{header}.{promoted}.{signature}").details == {"reason": "invalid_signature"}
    for garbage in ("", "not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9"):
        error = refused(verifier, garbage)
        assert error.error is UNAUTHENTICATED and error.details == {"reason": "malformed"}


def test_verifier_refuses_unusable_configuration(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="needs public_key_pem or jwks_url"):
        TokenVerifier(issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(ValueError, match="private key"):
        TokenVerifier(issuer=ISSUER, audience=AUDIENCE, public_key_pem=private_pem(rsa_key))
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="too short"):
        TokenVerifier(issuer=ISSUER, audience=AUDIENCE, public_key_pem=public_pem(weak))


# ------------------------------------------------------------------------- JWKS


class JwksServer:
    """A real HTTP server publishing a JWKS document that tests can rotate."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200 if self.path == "/certs" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return  # the tests count requests instead

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/certs"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def publish(self, *issuers: DevTokenIssuer, extra: list[dict[str, Any]] | None = None) -> None:
        self.document = {"keys": [key for issuer in issuers for key in issuer.jwks()["keys"]] + (extra or [])}


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(scope="module")
def second_issuer(other_rsa_key: rsa.RSAPrivateKey) -> DevTokenIssuer:
    return DevTokenIssuer(private_pem(other_rsa_key), issuer=ISSUER, audience=AUDIENCE, kid="k2")


def test_jwks_verifies_tokens_by_kid_and_caches_the_key_set(
    jwks_server: JwksServer, issuer: DevTokenIssuer, second_issuer: DevTokenIssuer
) -> None:
    jwks_server.publish(issuer, second_issuer)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_server.url)
    first, second = issuer.mint(CLERK), second_issuer.mint(CLERK.model_copy(update={"user_id": "u-2"}))
    for _ in range(3):
        assert verifier.verify(first).user_id == "u-clerk"
        assert verifier.verify(second).user_id == "u-2"
    assert jwks_server.requests == 1

    # A token whose kid names k2 but which k1 signed does not verify.
    header = b64url(json.dumps({"alg": "RS256", "kid": "k2", "typ": "JWT"}).encode())
    _, payload, signature = first.split(".")
    assert refused(verifier, f"{header}.{payload}.{signature}").details == {"reason": "invalid_signature"}


def test_jwks_unknown_kid_is_refused_and_a_rotated_key_is_picked_up(
    jwks_server: JwksServer, issuer: DevTokenIssuer, second_issuer: DevTokenIssuer
) -> None:
    jwks_server.publish(issuer)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_server.url, jwks_cooldown_s=0)
    assert verifier.verify(issuer.mint(CLERK)).user_id == "u-clerk"
    rotated = second_issuer.mint(CLERK)
    assert refused(verifier, rotated).details == {"reason": "unknown_key"}
    jwks_server.publish(issuer, second_issuer)  # the identity provider rotates in k2
    assert verifier.verify(rotated).user_id == "u-clerk"


def test_jwks_unknown_kid_refetch_is_rate_limited(jwks_server: JwksServer, issuer: DevTokenIssuer) -> None:
    jwks_server.publish(issuer)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_server.url, jwks_cooldown_s=60)
    verifier.verify(issuer.mint(CLERK))
    for index in range(5):
        header = b64url(json.dumps({"alg": "RS256", "kid": f"random-{index}"}).encode())
        assert refused(verifier, f"{header}.e30.c2ln").details == {"reason": "unknown_key"}
    assert jwks_server.requests == 1


def test_jwks_hmac_keys_are_never_used(jwks_server: JwksServer, issuer: DevTokenIssuer) -> None:
    secret = b"shared-secret-that-an-attacker-guessed"
    jwks_server.publish(issuer, extra=[{"kty": "oct", "kid": "hmac", "k": b64url(secret), "alg": "HS256"}])
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_server.url)
    token = jwt.encode(valid_claims(), secret, algorithm="HS256", headers={"kid": "hmac"})
    assert refused(verifier, token).details == {"reason": "algorithm_not_allowed"}
    # Nor can an RS256 header borrow the HMAC key.
    header = b64url(json.dumps({"alg": "RS256", "kid": "hmac"}).encode())
    _, payload, signature = token.split(".")
    assert refused(verifier, f"{header}.{payload}.{signature}").details == {"reason": "algorithm_not_allowed"}


def test_jwks_with_an_ec_key(jwks_server: JwksServer) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {**ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "ec-1", "use": "sig"}
    jwks_server.document = {"keys": [jwk]}
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_server.url)
    assert (
        verifier.verify(jwt.encode(valid_claims(), key, algorithm="ES256", headers={"kid": "ec-1"})) == CLERK
    )


def test_jwks_unreachable_is_unavailable(issuer: DevTokenIssuer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    verifier = TokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, jwks_url=f"http://127.0.0.1:{closed_port}/certs", jwks_timeout_s=2
    )
    error = refused(verifier, issuer.mint(CLERK))
    assert error.error is UNAVAILABLE and error.details == {"reason": "jwks_unreachable"}


async def test_averify_fetches_the_key_set_off_the_event_loop(
    jwks_server: JwksServer, issuer: DevTokenIssuer
) -> None:
    jwks_server.publish(issuer)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_server.url)
    token = issuer.mint(CLERK)
    assert (await verifier.averify(token)).user_id == "u-clerk"  # first call: fetch in a thread
    assert (await verifier.averify(token)).user_id == "u-clerk"  # then: from the cache, inline
    assert jwks_server.requests == 1
    with pytest.raises(AppError) as caught:
        await verifier.averify(issuer.mint(CLERK, ttl_s=-300))
    assert caught.value.error is TOKEN_EXPIRED


# ------------------------------------------------------------------------- settings and dev keys


def test_from_settings_reads_the_public_key_file(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    (tmp_path / "pub.pem").write_bytes(public_pem(rsa_key))
    settings = ServiceSettings(
        jwt_public_key_file=tmp_path / "pub.pem", jwt_issuer=ISSUER, jwt_audience=AUDIENCE
    )
    verifier = TokenVerifier.from_settings(settings)
    token = DevTokenIssuer(private_pem(rsa_key), issuer=ISSUER, audience=AUDIENCE).mint(CLERK)
    assert verifier.verify(token) == CLERK


def test_from_settings_in_development_uses_the_dev_issuer_key(tmp_path: Path) -> None:
    private_path, _ = ensure_dev_keypair(tmp_path / "keys")
    settings = ServiceSettings(
        jwt_private_key_file=private_path, jwt_issuer="vanthu-dev", jwt_audience="vanthu"
    )
    token = DevTokenIssuer.from_settings(settings).mint(CLERK)
    assert TokenVerifier.from_settings(settings).verify(token) == CLERK


def test_from_settings_without_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="no token verification keys"):
        TokenVerifier.from_settings(
            ServiceSettings(jwt_public_key_file=None, jwks_url="", jwt_private_key_file=None)
        )


def test_dev_keypair_is_created_once_with_a_private_mode(tmp_path: Path) -> None:
    private_path, public_path = ensure_dev_keypair(tmp_path / "keys")
    assert (private_path.name, public_path.name) == ("jwt-private.pem", "jwt-public.pem")
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert public_path.read_bytes() == public_pem(key)

    before = private_path.read_bytes()
    public_path.unlink()  # a lost public half is rebuilt from the private key, not a new pair
    assert ensure_dev_keypair(tmp_path / "keys") == (private_path, public_path)
    assert private_path.read_bytes() == before
    assert public_path.read_bytes() == public_pem(key)


def _ensure_in_child(directory: str, queue: Any) -> None:
    _, public_path = ensure_dev_keypair(Path(directory))
    queue.put(public_path.read_bytes())


def test_services_starting_together_share_one_dev_keypair(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [
        context.Process(target=_ensure_in_child, args=(str(tmp_path / "keys"), queue)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    public_keys = {queue.get(timeout=60) for _ in workers}
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert len(public_keys) == 1
    assert public_keys == {(tmp_path / "keys" / "jwt-public.pem").read_bytes()}


def test_dev_jwks_describes_the_signing_key(issuer: DevTokenIssuer) -> None:
    (jwk,) = issuer.jwks()["keys"]
    assert (jwk["kty"], jwk["kid"], jwk["use"], jwk["alg"]) == ("RSA", "k1", "sig", "RS256")
    assert "d" not in jwk and "p" not in jwk  # nothing private
    assert (
        jwt.PyJWK(jwk).key.public_numbers()
        == serialization.load_pem_public_key(issuer.public_key_pem()).public_numbers()
    )


# ------------------------------------------------------------------------- FastAPI glue


def build_app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = verifier

    # Stands in for the HTTP app factory's handler: AppError → its JSON body and status.
    @app.exception_handler(AppError)
    async def app_error(request: Request, error: AppError) -> JSONResponse:
        return JSONResponse(error.body().model_dump(), status_code=error.http_status)

    @app.get("/me")
    async def me(principal: CurrentPrincipal, request: Request) -> dict[str, Any]:
        assert request.state.principal is principal
        return principal.model_dump()

    @app.post("/registers/incoming", dependencies=[Depends(require_roles(Role.CLERK, Role.ADMIN))])
    async def register() -> dict[str, bool]:
        return {"registered": True}

    @app.post("/admin")
    async def admin(principal: Annotated[Principal, Depends(require_roles(Role.ADMIN))]) -> dict[str, str]:
        return {"admin": principal.user_id}

    return app


@pytest.fixture
async def client(verifier: TokenVerifier) -> Any:
    transport = httpx.ASGITransport(app=build_app(verifier))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as http_client:
        yield http_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_request_with_a_good_token_gets_the_principal(
    client: httpx.AsyncClient, issuer: DevTokenIssuer
) -> None:
    response = await client.get("/me", headers=bearer(issuer.mint(CLERK)))
    assert response.status_code == 200
    assert Principal.model_validate(response.json()) == CLERK


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
)
async def test_request_without_a_bearer_token_is_401(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/me", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == UNAUTHENTICATED.code
    assert body["message_vi"] == UNAUTHENTICATED.message_vi


async def test_request_with_an_expired_token_is_401_token_expired(
    client: httpx.AsyncClient, issuer: DevTokenIssuer
) -> None:
    response = await client.get("/me", headers=bearer(issuer.mint(CLERK, ttl_s=-3600)))
    assert (response.status_code, response.json()["code"]) == (401, TOKEN_EXPIRED.code)


async def test_roles_are_enforced(client: httpx.AsyncClient, issuer: DevTokenIssuer) -> None:
    specialist = CLERK.model_copy(update={"user_id": "u-spec", "roles": [Role.SPECIALIST]})
    denied = await client.post("/registers/incoming", headers=bearer(issuer.mint(specialist)))
    assert denied.status_code == 403
    assert denied.json()["code"] == FORBIDDEN.code
    assert denied.json()["details"] == {"required_roles": ["van_thu", "quan_tri"]}

    allowed = await client.post("/registers/incoming", headers=bearer(issuer.mint(CLERK)))
    assert allowed.json() == {"registered": True}

    assert (await client.post("/admin", headers=bearer(issuer.mint(CLERK)))).status_code == 403
    admin = CLERK.model_copy(update={"user_id": "u-admin", "roles": [Role.ADMIN]})
    assert (await client.post("/admin", headers=bearer(issuer.mint(admin)))).json() == {"admin": "u-admin"}
    # No token at all is 401, not 403.
    assert (await client.post("/admin")).status_code == 401


def test_require_roles_needs_a_role() -> None:
    with pytest.raises(ValueError):
        require_roles()
