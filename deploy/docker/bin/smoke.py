#!/usr/bin/env python3
"""Smoke test of a running vanthu platform: `vanthu-smoke [--wait S]`.

What the compose stack and `helm test` run until `vanthu demo journey` exists: every service
answers /healthz (alive), /readyz (its database, NATS and object storage reachable) and /metrics
(Prometheus text), and NATS has the platform's JetStream streams (provisioning ran). Service URLs
come from VANTHU_<SVC>_URL (e.g. http://vanthu-registry:8101); a service without a URL is
reported as not configured and fails the run. NATS comes from VANTHU_NATS_URL. `--service` narrows the
check to some services (a release with a service disabled). Exit 0 only if every check passed;
each check prints one line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass

import httpx

SERVICES = ("registry", "routing", "signing", "interop", "analytics")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


async def check_service(client: httpx.AsyncClient, service: str, base_url: str) -> list[Check]:
    checks: list[Check] = []
    for path, expect in (("/healthz", "healthy"), ("/readyz", "ready")):
        try:
            response = await client.get(f"{base_url}{path}")
            body = response.json()
            ok = response.status_code == 200 and body.get("status") == expect
            detail = f"{response.status_code} {body.get('status')}" + (
                "" if ok else f" {body.get('checks', '')}"
            )
        except (httpx.HTTPError, ValueError) as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        checks.append(Check(f"{service} {path}", ok, detail))
    try:
        response = await client.get(f"{base_url}/metrics")
        ok = response.status_code == 200 and "# TYPE" in response.text
        detail = f"{response.status_code}, {len(response.text.splitlines())} lines"
    except httpx.HTTPError as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    checks.append(Check(f"{service} /metrics", ok, detail))
    return checks


async def check_streams(nats_url: str) -> list[Check]:
    import nats
    from nats.errors import Error as NatsError
    from nats.js.errors import NotFoundError

    from vanthu_contracts.streams import STREAMS

    async def quiet(_: Exception) -> None:
        # nats-py logs every failed connect; the check line says it once.
        return None

    try:
        nc = await nats.connect(
            nats_url, connect_timeout=3, allow_reconnect=False, max_reconnect_attempts=0, error_cb=quiet
        )
    except (OSError, TimeoutError, NatsError) as exc:
        return [Check("nats connect", False, f"{nats_url}: {type(exc).__name__}: {exc}")]
    checks = []
    try:
        js = nc.jetstream(timeout=5)
        for spec in STREAMS:
            try:
                info = await js.stream_info(spec.name)
                checks.append(Check(f"nats stream {spec.name}", True, f"{info.state.messages} messages"))
            except NotFoundError:
                checks.append(Check(f"nats stream {spec.name}", False, "missing: run `vanthu provision`"))
    finally:
        await nc.close()
    return checks


async def run_once(env: dict[str, str], services: list[str], timeout_s: float) -> list[Check]:
    checks: list[Check] = []
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        pending = []
        for service in services:
            url = env.get(f"VANTHU_{service.upper()}_URL", "").rstrip("/")
            if not url:
                checks.append(Check(service, False, f"VANTHU_{service.upper()}_URL is not set"))
                continue
            pending.append(check_service(client, service, url))
        for result in await asyncio.gather(*pending):
            checks.extend(result)
    nats_url = env.get("VANTHU_NATS_URL")
    if nats_url:
        checks.extend(await check_streams(nats_url))
    else:
        checks.append(Check("nats", False, "VANTHU_NATS_URL is not set"))
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vanthu-smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=0.0, help="retry failing checks for this many seconds")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per HTTP request")
    parser.add_argument(
        "--service",
        action="append",
        choices=SERVICES,
        dest="services",
        help="check only this service (repeatable; default: all five)",
    )
    args = parser.parse_args(argv)
    env = dict(os.environ)
    deadline = time.monotonic() + args.wait
    while True:
        checks = asyncio.run(run_once(env, args.services or list(SERVICES), args.timeout))
        if all(c.ok for c in checks) or time.monotonic() >= deadline:
            break
        time.sleep(2.0)
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<{width}}  {c.detail}")
    failed = sum(not c.ok for c in checks)
    verdict = "all checks passed" if failed == 0 else f"{failed} of {len(checks)} checks FAILED"
    print(f"vanthu-smoke: {verdict}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
