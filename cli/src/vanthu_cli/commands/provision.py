"""`vanthu provision`: create or reconcile the streams and consumers on any NATS."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def provision(
    nats_url: Annotated[
        str, typer.Option(envvar="VANTHU_NATS_URL", help="NATS server to provision (env VANTHU_NATS_URL)")
    ] = DEFAULT_NATS_URL,
    wait: Annotated[
        float,
        typer.Option(help="Keep trying to connect for this many seconds (NATS may still be starting)", min=0),
    ] = 30.0,
    creds_file: Annotated[
        str | None,
        typer.Option(envvar="VANTHU_NATS_CREDS_FILE", help="NATS credentials file (env VANTHU_NATS_CREDS_FILE)"),
    ] = None,
    user: Annotated[str, typer.Option(envvar="VANTHU_NATS_USER", help="NATS user (env VANTHU_NATS_USER)")] = "",
    password: Annotated[
        str, typer.Option(envvar="VANTHU_NATS_PASSWORD", help="NATS password (env VANTHU_NATS_PASSWORD)")
    ] = "",
) -> None:
    """Khởi tạo luồng JetStream / provision streams and durable consumers from contracts.

    For compose one-shots and Helm Jobs: run once per deploy; services only bind to what exists. Exit code 1 when the server cannot be reached or a difference needs a deliberate migration.
    """
    from vanthu_cli.provisioning import NatsUnreachable, print_report, provision_at

    console = Console(highlight=False)
    try:
        report = asyncio.run(
            provision_at(nats_url, wait_s=wait, creds_file=creds_file, user=user, password=password)
        )
    except NatsUnreachable as exc:
        console.print(f"[red]vanthu provision:[/] {exc}")
        raise typer.Exit(1) from None
    print_report(console, report)
    raise typer.Exit(0 if report.ok else 1)
