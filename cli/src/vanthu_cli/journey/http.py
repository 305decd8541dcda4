"""Calling one platform's five services as its demo users, every call inside the journey's trace."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx

from vanthu_cli.journey.steps import StepFailed

SERVICES = ("registry", "routing", "signing", "interop", "analytics")
DEMO_PASSWORD = "vanthu-demo-2026"


@dataclass(frozen=True)
class PlatformTarget:
    """Where one platform's services answer (the first replica of each is enough)."""

    label: str  # shown in the output, e.g. "H99"
    registry: str
    routing: str
    signing: str
    interop: str
    analytics: str
    password: str = DEMO_PASSWORD

    def url(self, service: str) -> str:
        return str(getattr(self, service)).rstrip("/")


class TraceContext:
    """The journey is one trace: every request carries `traceparent` with its trace id.

    The services' server spans become children of a span id we make up per request, so the
    whole journey — and everything the services do because of it (outbox, NATS consumers,
    sign jobs, axis sends) — shares one trace id in the exported spans.
    """

    def __init__(self, trace_id: str | None = None) -> None:
        self.trace_id = trace_id or os.urandom(16).hex()

    def header(self) -> dict[str, str]:
        return {"traceparent": f"00-{self.trace_id}-{os.urandom(8).hex()}-01"}


class PlatformClient:
    def __init__(self, target: PlatformTarget, http: httpx.AsyncClient, trace: TraceContext) -> None:
        self.target = target
        self.http = http
        self.trace = trace
        self._tokens: dict[str, str] = {}
        self._principals: dict[str, dict[str, Any]] = {}
        self.logins: list[dict[str, Any]] = []

    # -- who is who

    async def load_logins(self) -> list[dict[str, Any]]:
        response = await self._send("GET", f"{self.target.url('registry')}/dev/logins", {})
        if response.status_code != 200:
            raise StepFailed(
                f"nền tảng {self.target.label} không có tài khoản thử (chạy `vanthu up` có dữ liệu mẫu): "
                f"HTTP {response.status_code}",
                f"platform {self.target.label} has no demo logins (run `vanthu up` with the demo): "
                f"HTTP {response.status_code}",
            )
        self.logins = list(response.json())
        return self.logins

    @property
    def root_agency(self) -> dict[str, str]:
        """The province's root agency (the first the registry lists): the journey's agency."""
        first = self.logins[0]
        return {"code": first["agency"], "name": first.get("agency_name", first["agency"])}

    def username(self, suffix: str, agency: str | None = None) -> str:
        code = agency or self.root_agency["code"]
        for login in self.logins:
            if login["agency"] == code and login["username"].endswith(f".{suffix}"):
                return str(login["username"])
        raise StepFailed(
            f"không có tài khoản thử '*.{suffix}' của {code}", f"no demo login '*.{suffix}' in {code}"
        )

    async def token(self, username: str) -> str:
        if username not in self._tokens:
            response = await self._send(
                "POST",
                f"{self.target.url('registry')}/auth/dev-token",
                {},
                json={"username": username, "password": self.target.password},
            )
            self._raise_for(response, f"đăng nhập {username}", f"login of {username}")
            self._tokens[username] = response.json()["access_token"]
        return self._tokens[username]

    async def principal(self, username: str) -> dict[str, Any]:
        if username not in self._principals:
            self._principals[username] = await self.call("GET", "registry", "/api/v1/me", username)
        return self._principals[username]

    # -- calls

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        username: str | None,
        *,
        json: Any = None,
        content: bytes | None = None,
        files: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        allow: tuple[int, ...] = (),
    ) -> Any:
        """The JSON answer; StepFailed with the service's own Vietnamese/English message on an error."""
        merged = dict(headers or {})
        if username is not None:
            merged["Authorization"] = f"Bearer {await self.token(username)}"
        response = await self._send(
            method,
            f"{self.target.url(service)}{path}",
            merged,
            json=json,
            content=content,
            files=files,
            params=params,
        )
        if response.status_code in allow:
            return None
        self._raise_for(response, f"{method} {service}{path}", f"{method} {service}{path}")
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def _send(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
        try:
            return await self.http.request(method, url, headers={**headers, **self.trace.header()}, **kwargs)
        except httpx.HTTPError as exc:
            raise StepFailed(
                f"không kết nối được {url}: {type(exc).__name__}", f"cannot reach {url}: {type(exc).__name__}"
            ) from exc

    @staticmethod
    def _raise_for(response: httpx.Response, what_vi: str, what_en: str) -> None:
        if response.status_code < 400:
            return
        try:
            body = response.json()
        except ValueError:
            body = {}
        if isinstance(body, dict) and "message_vi" in body:
            raise StepFailed(
                f"{what_vi}: {body['message_vi']} ({body.get('code')}, HTTP {response.status_code})",
                f"{what_en}: {body.get('message_en')} ({body.get('code')}, HTTP {response.status_code})",
            )
        raise StepFailed(
            f"{what_vi}: HTTP {response.status_code} {response.text[:200]}",
            f"{what_en}: HTTP {response.status_code} {response.text[:200]}",
        )
