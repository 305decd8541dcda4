"""Connect to NATS (waiting for it when asked) and provision the streams and consumers from contracts."""

from __future__ import annotations

import asyncio
import contextlib
import time

from rich.console import Console

from vanthu_runtime.messaging.provision import ProvisionReport, provision


class NatsUnreachable(RuntimeError):
    pass


async def provision_at(
    url: str,
    *,
    wait_s: float = 0.0,
    timeout_s: float = 10.0,
    creds_file: str | None = None,
    user: str = "",
    password: str = "",
) -> ProvisionReport:
    """Provision against the NATS at `url`, retrying the connection for up to `wait_s` seconds
    (a compose one-shot or a Helm Job may start before NATS accepts clients)."""
    from nats.errors import Error as NatsError

    from vanthu_runtime.messaging.connection import connect_once

    deadline = time.monotonic() + wait_s
    while True:
        try:
            nc = await connect_once(
                url, name="vanthu-provision", creds_file=creds_file, user=user, password=password
            )
            break
        except (OSError, TimeoutError, NatsError) as exc:
            if time.monotonic() >= deadline:
                raise NatsUnreachable(
                    f"cannot connect to NATS at {url}: {type(exc).__name__}: {exc}"
                ) from exc
            await asyncio.sleep(0.5)
    try:
        return await provision(nc.jetstream(timeout=timeout_s))
    finally:
        with contextlib.suppress(Exception):
            await nc.close()


def print_report(console: Console, report: ProvisionReport, *, verbose: bool = True) -> None:
    if verbose:
        for line in report.created:
            console.print(f"  [green]created[/]   {line}")
        for line in report.updated:
            console.print(f"  [yellow]updated[/]   {line}")
        for line in report.unchanged:
            console.print(f"  [dim]unchanged {line}[/]")
    for line in report.errors:
        console.print(f"  [red]error[/]     {line}")
    console.print(
        f"Provisioning / Khởi tạo luồng: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.errors)} errors"
    )
