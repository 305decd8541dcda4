"""Request headers of the VNPT SDK (`VnptService`): parameters as headers, signed with HMAC-SHA256.

For parameters p1..pn (the call's own plus `timestamp` and `systemid`, which the SDK always
adds) a request carries:

- every parameter as a plain header `<name>: <value>` (except Content-Type, see below);
- a copy of each as `XroadVnpt-<name>: <value>`;
- `XroadVnpt-sign-header-key`: the parameter names joined with `;`;
- `XroadVnpt-sign-header`: the JSON object text `{"XroadVnpt-<name>":"<value>",…}` of the same
  parameters, in the same order, compact (no spaces);
- `XroadVnpt-hash-header`: lower-case hex HMAC-SHA256(key = secret as UTF-8, message = that JSON text);
- `XroadVnpt-version: 3.0.201608` and `User-Agent: JAVASDKAgent/1.0.0 XRoad/VPCP`.

[R] choices (docs/interop.md): the JSON text escapes non-ASCII as \\uXXXX (a header must be
ASCII); the `Content-Type` parameter of sendEdoc is signed and sent as `XroadVnpt-Content-Type`,
while the real Content-Type header is the multipart one the body needs; the timestamp is taken
per request (the SDK fixes it per service object; the server is not known to check it).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

PREFIX = "XroadVnpt-"
SIGN_KEY_HEADER = f"{PREFIX}sign-header-key"
SIGN_HEADER = f"{PREFIX}sign-header"
HASH_HEADER = f"{PREFIX}hash-header"
VERSION_HEADER = f"{PREFIX}version"
VERSION = "3.0.201608"
USER_AGENT = "JAVASDKAgent/1.0.0 XRoad/VPCP"
# Parameters that must not travel as a plain header because HTTP gives the name another meaning.
_NOT_PLAIN = {"content-type"}


def sdk_timestamp(moment: datetime) -> str:
    """Java `ddMMyyyy'T'HHmmss+SSSS`: SSSS is the milliseconds, zero-padded to four digits."""
    return moment.strftime("%d%m%Y") + "T" + moment.strftime("%H%M%S") + f"+{moment.microsecond // 1000:04d}"


def sign_header_text(params: Mapping[str, str]) -> str:
    return json.dumps({f"{PREFIX}{name}": value for name, value in params.items()}, separators=(",", ":"))


def hmac_hex(secret: str, message: str) -> str:
    return hmac.digest(secret.encode("utf-8"), message.encode("utf-8"), "sha256").hex()


def signed_headers(
    params: Mapping[str, str], *, system_id: str, secret: str, timestamp: str
) -> dict[str, str]:
    """Every header of one request, in the order the SDK adds them."""
    all_params: dict[str, str] = {"timestamp": timestamp, "systemid": system_id}
    for name, value in params.items():
        all_params[name] = str(value)
    headers: dict[str, str] = {}
    for name, value in all_params.items():
        if name.lower() not in _NOT_PLAIN:
            headers[name] = value
        headers[f"{PREFIX}{name}"] = value
    text = sign_header_text(all_params)
    headers[SIGN_KEY_HEADER] = ";".join(all_params)
    headers[SIGN_HEADER] = text
    headers[HASH_HEADER] = hmac_hex(secret, text)
    headers[VERSION_HEADER] = VERSION
    headers["User-Agent"] = USER_AGENT
    return headers


class SignatureInvalid(Exception):
    """The request's signing headers do not verify; the message says which check failed."""


@dataclass(frozen=True)
class VerifiedRequest:
    system_id: str
    params: dict[str, str]  # parameter name (as signed) -> value


def verify(headers: Mapping[str, str], secret_for: Mapping[str, str]) -> VerifiedRequest:
    """The server side: check the HMAC and that every signed value is what the request carries.

    `headers` must be case-insensitive (HTTP header names are); `secret_for` maps systemId to secret.
    """
    text = headers.get(SIGN_HEADER)
    given = headers.get(HASH_HEADER)
    names = headers.get(SIGN_KEY_HEADER)
    if not text or not given or not names:
        raise SignatureInvalid("missing XroadVnpt-sign-header, -sign-header-key or -hash-header")
    try:
        signed = json.loads(text)
    except ValueError:
        raise SignatureInvalid("XroadVnpt-sign-header is not JSON") from None
    if not isinstance(signed, dict):
        raise SignatureInvalid("XroadVnpt-sign-header is not a JSON object")
    system_id = signed.get(f"{PREFIX}systemid")
    if not isinstance(system_id, str) or system_id not in secret_for:
        raise SignatureInvalid("unknown systemId")
    if not hmac.compare_digest(hmac_hex(secret_for[system_id], text), given.lower()):
        raise SignatureInvalid("XroadVnpt-hash-header does not match the HMAC of the sign-header")
    params: dict[str, str] = {}
    for name in names.split(";"):
        value = signed.get(f"{PREFIX}{name}")
        if not isinstance(value, str):
            raise SignatureInvalid(f"{name} is listed in sign-header-key but not signed")
        if headers.get(f"{PREFIX}{name}") != value:
            raise SignatureInvalid(f"header {PREFIX}{name} differs from its signed value")
        if name.lower() not in _NOT_PLAIN and headers.get(name) != value:
            raise SignatureInvalid(f"header {name} differs from its signed value")
        params[name] = value
    if set(signed) != {f"{PREFIX}{n}" for n in params}:
        raise SignatureInvalid("sign-header and sign-header-key name different parameters")
    return VerifiedRequest(system_id=system_id, params=params)
