"""The agent's HTTPS client: register the certificate, long-poll requests, answer them."""

from __future__ import annotations

import base64
from typing import Any

import httpx


class ServiceError(Exception):
    pass


class SigningServiceClient:
    def __init__(
        self, base_url: str, bearer_token: str, *, verify: bool | str = True, poll_wait_s: float = 20.0
    ) -> None:
        self.poll_wait_s = poll_wait_s
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {bearer_token}"},
            verify=verify,
            # The server holds a long-poll for up to poll_wait_s; allow for it.
            timeout=httpx.Timeout(10.0, read=poll_wait_s + 15.0),
        )

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            try:
                body = response.json()
                detail = f"{body.get('code')}: {body.get('message_vi')} / {body.get('message_en')}"
            except ValueError:
                detail = response.text[:200]
            raise ServiceError(f"HTTP {response.status_code} {detail}")
        return response

    def register_certificate(self, certificate_der: bytes) -> list[str]:
        response = self.http.put(
            "/api/v1/token-agent/certificate",
            json={"certificate_b64": base64.b64encode(certificate_der).decode()},
        )
        return self._check(response).json()["profiles"]

    def pending(self) -> list[dict[str, Any]]:
        return self._check(
            self.http.get("/api/v1/token-agent/requests", params={"wait": self.poll_wait_s})
        ).json()

    def answer(self, request_id: str, signature: bytes) -> None:
        self._check(
            self.http.post(
                f"/api/v1/token-agent/requests/{request_id}",
                json={"signature_b64": base64.b64encode(signature).decode()},
            )
        )

    def decline(self, request_id: str, code: str) -> None:
        self._check(self.http.post(f"/api/v1/token-agent/requests/{request_id}", json={"decline_code": code}))

    def close(self) -> None:
        self.http.close()
