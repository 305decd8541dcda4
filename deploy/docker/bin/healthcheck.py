#!/usr/bin/env python3
"""Container health check of one vanthu service: `vanthu-healthcheck SERVICE`.

Exit 0 when `GET /healthz` on the service's own port answers 200 with status "healthy", 1 otherwise.
Standard library only, so a check costs one interpreter start and no imports of the service.
The port follows the service settings' precedence: VANTHU_<SVC>_PORT, then VANTHU_PORT, then the
service's default.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {"registry": 8101, "routing": 8102, "signing": 8103, "interop": 8104, "analytics": 8105}


def port_of(service: str, env: dict[str, str]) -> int:
    prefix = f"VANTHU_{service.upper()}_"
    raw = env.get(f"{prefix}PORT") or env.get("VANTHU_PORT") or str(DEFAULT_PORTS[service])
    return int(raw)


def check(service: str, env: dict[str, str], timeout_s: float = 3.0) -> tuple[bool, str]:
    url = f"http://127.0.0.1:{port_of(service, env)}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body = json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return False, f"{url}: {exc}"
    if body.get("status") != "healthy":
        return False, f"{url}: answered {body!r}"
    return True, f"{url}: healthy"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in DEFAULT_PORTS:
        print(f"usage: vanthu-healthcheck {{{'|'.join(DEFAULT_PORTS)}}}", file=sys.stderr)
        return 2
    ok, message = check(argv[1], dict(os.environ))
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
