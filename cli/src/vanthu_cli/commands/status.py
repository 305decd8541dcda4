"""`vanthu status`: is every process of the platform in a data directory healthy?"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from vanthu_cli.health import Health, probe_http, probe_nats
from vanthu_cli.platform_state import DataDir, PlatformState


async def collect(state: PlatformState) -> dict[str, Any]:
    """Probe NATS and every recorded service process at once."""
    async with httpx.AsyncClient() as client:
        nats_probe = probe_nats(state.nats.url) if state.nats else _missing()
        results = await asyncio.gather(
            nats_probe, *(probe_http(client, record.url) for record in state.instances)
        )
    nats_health, service_health = results[0], results[1:]
    services = [
        {
            "service": record.service,
            "instance": record.instance,
            "url": record.url,
            "docs_url": record.docs_url,
            "pid": record.pid,
            "status": str(health),
        }
        for record, health in zip(state.instances, service_health, strict=True)
    ]
    nats = {"url": state.nats.url if state.nats else None, "pid": state.nats.pid if state.nats else None}
    nats["status"] = str(nats_health)
    return {
        "data_dir": state.data_dir,
        "launcher_pid": state.launcher_pid,
        "nats": nats,
        "services": services,
        "healthy": bool(services) and all(s["status"] == Health.HEALTHY for s in [nats, *services]),
    }


async def _missing() -> Health:
    return Health.DOWN


def status(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="The data directory given to `vanthu up`")
    ] = Path("./var"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of lines")] = False,
) -> None:
    """Trạng thái các tiến trình / one line per process with its URL and health. Exit code 0 only if all are healthy."""
    data = DataDir.at(data_dir)
    try:
        state = PlatformState.load(data)
    except ValueError as exc:
        typer.echo(f"vanthu status: {data.state_file} is not a platform record: {exc}", err=True)
        raise typer.Exit(2) from None
    if state is None:
        typer.echo(
            f"vanthu status: chưa có nền tảng / no platform in {data.root} (no {data.state_file.name}); "
            "start one with `vanthu up --data-dir ...`",
            err=True,
        )
        raise typer.Exit(2)
    report = asyncio.run(collect(state))
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        rows = [("nats", report["nats"]["url"] or "-", report["nats"]["status"])]
        rows += [(s["instance"], s["url"], s["status"]) for s in report["services"]]
        width = max(len(name) for name, _, _ in rows)
        url_width = max(len(url) for _, url, _ in rows)
        for name, url, health in rows:
            typer.echo(f"{name:<{width}}  {url:<{url_width}}  {health}")
    raise typer.Exit(0 if report["healthy"] else 1)
