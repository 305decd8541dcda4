"""Every route of every service refuses a request without a valid bearer token.

The routes are read from each service's real app (its composition root, started), not from a
list kept here, so a route added later without authentication fails this test. The only
routes that answer without a bearer token are on the allow-list below, each with the reason
and a check of what it does answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from security_platform import SERVICES, SecurityPlatform

from vanthu_contracts.errors import FORBIDDEN, UNAUTHENTICATED

# (service or "*", method, path) → why it needs no bearer token.
PUBLIC_ROUTES: dict[tuple[str, str, str], str] = {
    ("*", "GET", "/healthz"): "liveness probe; answers the service name only",
    ("*", "GET", "/readyz"): "readiness probe; answers ok/error per dependency, no data",
    ("*", "GET", "/metrics"): "Prometheus scrape; counters and timings, no business data",
    ("*", "GET", "/openapi.json"): "the API description (public by design)",
    ("*", "HEAD", "/openapi.json"): "the API description (public by design)",
    ("*", "GET", "/docs"): "the OpenAPI page",
    ("*", "HEAD", "/docs"): "the OpenAPI page",
    ("*", "GET", "/docs/oauth2-redirect"): "the OpenAPI page's login redirect",
    ("*", "HEAD", "/docs/oauth2-redirect"): "the OpenAPI page's login redirect",
    ("*", "GET", "/redoc"): "the ReDoc page",
    ("*", "HEAD", "/redoc"): "the ReDoc page",
    # Another scheme: the URL carries an expiring HMAC signature made by the service for
    # someone who was allowed to read the file; refused (403) without a valid one.
    ("*", "GET", "/objects/{sha256}"): "signed download URL (HMAC in the query string)",
    # The development issuer is the login itself; it answers 404 when the issuer is off
    # (always in production, where VANTHU_ENV=production refuses a private key).
    ("registry", "POST", "/auth/dev-token"): "development login: username and password",
    ("registry", "GET", "/dev/logins"): "demo logins of the fictitious province (development only)",
    ("registry", "GET", "/.well-known/jwks.json"): "the development issuer's public keys",
}


@dataclass(frozen=True)
class Endpoint:
    service: str
    method: str
    path: str  # the route's template, e.g. /api/v1/documents/{document_id}
    url: str  # a concrete URL the route answers


_PARAMETER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?}")


def _concrete(path: str) -> str:
    # "1" suits str and int parameters alike; values are never reached without a token.
    return _PARAMETER.sub("1", path)


def _route_of(app: FastAPI, method: str, url: str) -> str | None:
    """The template of the first route that fully matches, as Starlette dispatches."""
    from starlette.routing import Match

    scope = {"type": "http", "method": method, "path": url, "root_path": "", "path_params": {}}
    for context in iter_route_contexts(app.routes):
        match, _ = context.matches(scope)
        if match is Match.FULL:
            return context.path
    return None


def endpoints(platform: SecurityPlatform) -> Iterator[Endpoint]:
    for service in SERVICES:
        for context in iter_route_contexts(platform.apps[service].routes):
            assert context.path and context.methods, f"{service}: a route of an unexpected kind: {context!r}"
            for method in sorted(context.methods):
                yield Endpoint(service, method, context.path, _concrete(context.path))


def _public(endpoint: Endpoint) -> bool:
    return any(
        (service, endpoint.method, endpoint.path) in PUBLIC_ROUTES for service in ("*", endpoint.service)
    )


def _assert_unauthenticated(response: httpx.Response, endpoint: Endpoint, what: str) -> None:
    where = f"{endpoint.service} {endpoint.method} {endpoint.path} ({what})"
    assert response.status_code == 401, f"{where}: {response.status_code} {response.text[:300]}"
    body = response.json()
    assert body["code"] == UNAUTHENTICATED.code, where
    assert (
        body["message_vi"] == UNAUTHENTICATED.message_vi and body["message_en"] == UNAUTHENTICATED.message_en
    )
    assert set(body) == {"code", "message_vi", "message_en", "details"}, where
    assert response.headers.get("www-authenticate") == "Bearer", where


BAD_CREDENTIALS = {
    "no token": {},
    "garbage token": {"Authorization": "Bearer garbage"},
    "three garbage segments": {"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"},
    "empty bearer": {"Authorization": "Bearer "},
    "basic credentials": {"Authorization": "Basic dmFudGh1OnZhbnRodS1kZW1vLTIwMjY="},
}


async def test_every_route_of_every_service_requires_a_bearer_token(platform: SecurityPlatform) -> None:
    checked: dict[str, int] = dict.fromkeys(SERVICES, 0)
    seen_public: set[tuple[str, str, str]] = set()
    for endpoint in endpoints(platform):
        dispatched_to = _route_of(platform.apps[endpoint.service], endpoint.method, endpoint.url)
        assert dispatched_to == endpoint.path, f"{endpoint}: {endpoint.url} reaches {dispatched_to}"
        if _public(endpoint):
            seen_public.add(
                (
                    "*" if ("*", endpoint.method, endpoint.path) in PUBLIC_ROUTES else endpoint.service,
                    endpoint.method,
                    endpoint.path,
                )
            )
            continue
        client = platform.clients[endpoint.service]
        for what, headers in BAD_CREDENTIALS.items():
            response = await client.request(endpoint.method, endpoint.url, headers=headers)
            _assert_unauthenticated(response, endpoint, what)
        checked[endpoint.service] += 1
    # Every service has protected routes, and the allow-list has no stale entries.
    assert all(checked.values()), checked
    assert seen_public == set(PUBLIC_ROUTES), set(PUBLIC_ROUTES) - seen_public


async def test_the_public_routes_answer_only_what_they_are_for(platform: SecurityPlatform) -> None:
    for service in SERVICES:
        client = platform.clients[service]
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "healthy", "service": service}
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and set(ready.json()) == {"status", "service", "checks"}
        assert (await client.get("/openapi.json")).status_code == 200
        if _route_of(platform.apps[service], "GET", "/objects/1") is None:
            continue  # no object store, no download route (analytics)
        for query in ("", "?exp=99999999999&sig=forged", "?exp=1&name=x.pdf&sig=" + "0" * 64):
            download = await client.get(f"/objects/{'ab' * 32}{query}")
            assert download.status_code == 403 and download.json()["code"] == FORBIDDEN.code, (service, query)
    registry = platform.clients["registry"]
    wrong = await registry.post(
        "/auth/dev-token", json={"username": "sxd.vanthu", "password": "wrong-password"}
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "registry.bad_credentials"
    unknown = await registry.post("/auth/dev-token", json={"username": "no.such.user", "password": "x"})
    assert unknown.status_code == 401 and unknown.json() == wrong.json()  # no hint whether the user exists
    jwks = (await registry.get("/.well-known/jwks.json")).json()
    assert [set(key) & {"d", "p", "q", "dp", "dq", "qi"} for key in jwks["keys"]] == [
        set()
    ]  # public part only
