"""What both registry benchmarks need: a seeded agency, a token, a registry process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from vanthu_contracts.events.common import Role
from vanthu_runtime.auth import DevTokenIssuer, Principal, ensure_dev_keypair

AGENCY = "000.00.12.H99"


async def seed(database_url: str, agencies: int = 1) -> list[Principal]:
    """Agencies 000.00.1x.H99 with one văn thư each; returns the clerks."""
    from vanthu_registry.cli import registry_uow
    from vanthu_registry.service import DirectoryService

    clerks = []
    async with registry_uow(database_url) as uow:
        directory = DirectoryService(uow)
        await directory.upsert_agency(None, {"code": "000.00.00.H99", "name": "UBND tỉnh H99", "abbreviation": "UBND"})
        for i in range(agencies):
            code = f"000.00.{12 + i:02d}.H99"
            await directory.upsert_agency(
                None, {"code": code, "name": f"Sở thử nghiệm {i + 1}", "abbreviation": f"S{i + 1}", "parent_code": "000.00.00.H99"}
            )
            unit = await directory.upsert_unit(None, {"agency_code": code, "name": "Văn phòng", "abbreviation": "VP"})
            user = await directory.upsert_user(
                None,
                {"username": f"bench.vanthu{i}", "full_name": "Văn thư", "agency_code": code, "unit_id": unit.id,
                 "roles": [Role.CLERK]},
            )
            clerks.append(Principal(user_id=user.id, agency=code, unit=unit.id, roles=[str(Role.CLERK)], name="Văn thư"))
    return clerks


def token(keys_dir: Path, principal: Principal) -> tuple[str, Path]:
    private_key, public_key = ensure_dev_keypair(keys_dir)
    issuer = DevTokenIssuer(private_key.read_bytes(), issuer="vanthu-dev", audience="vanthu")
    return issuer.mint(principal, ttl_s=3600), public_key


class RegistryProcess:
    """`python -m vanthu_registry` with the given settings, waited for on /healthz."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env = {**os.environ, **env, "VANTHU_REGISTRY_PORT": str(port)}
        self.port = port
        self.log = log
        self.proc: subprocess.Popen[Any] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        out = self.log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "vanthu_registry"], env=self.env, stdout=out, stderr=out)

    async def start(self, ready_within_s: float = 120.0, *, launched: bool = False) -> None:
        if not launched:
            self.launch()
        assert self.proc is not None
        deadline = time.monotonic() + ready_within_s
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"registry exited: {self.log.read_text()[-2000:]}")
                try:
                    if (await client.get(f"{self.url}/readyz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"registry did not get ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]
