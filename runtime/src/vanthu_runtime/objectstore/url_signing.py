"""HMAC-signed download URLs for stores that have no signing of their own (the local store).

The owning service signs `(sha256, filename, expiry)` with a secret only it holds
and serves the URL itself (see `download_router`); anyone holding the URL may
download that one object, under that name, until it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import urlencode

# Binds signatures to this use, so a MAC made with the same secret elsewhere cannot
# be replayed as a download signature.
_PURPOSE = b"vanthu.objectstore.download.v1"


class UrlSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the URL signing secret must be at least 16 bytes")
        self._secret = secret

    def signature(self, sha256: str, filename: str | None, expires_at: int) -> str:
        # sha256 is fixed-length hex and expires_at is digits, so the fields cannot
        # run into each other; the filename, which may contain anything, comes last.
        message = b"\n".join(
            [_PURPOSE, sha256.encode(), str(int(expires_at)).encode(), (filename or "").encode()]
        )
        mac = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def sign(self, sha256: str, filename: str | None, expires_at: int) -> str:
        """The query string (`exp=..&name=..&sig=..`) for a download URL."""
        params: dict[str, str] = {"exp": str(int(expires_at))}
        if filename:
            params["name"] = filename
        params["sig"] = self.signature(sha256, filename, expires_at)
        return urlencode(params)

    def verify(
        self,
        sha256: str,
        filename: str | None,
        expires_at: int,
        signature: str,
        *,
        now: float | None = None,
    ) -> bool:
        if (time.time() if now is None else now) >= expires_at:
            return False
        expected = self.signature(sha256, filename, expires_at)
        return hmac.compare_digest(expected.encode(), signature.encode())
