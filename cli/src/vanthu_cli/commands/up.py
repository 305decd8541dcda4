"""`vanthu up`: start the embedded platform in the foreground."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from vanthu_cli.services import Backends, BackendsError, ReplicasError, S3Target, parse_replicas

DataDirOption = Annotated[
    Path, typer.Option("--data-dir", help="Thư mục dữ liệu / the platform's only state (created if missing)")
]


def up(
    data_dir: DataDirOption = Path("./var"),
    replicas: Annotated[
        str | None,
        typer.Option(help="Extra worker processes per service, e.g. [bold]signing=2,interop=2[/]"),
    ] = None,
    no_demo: Annotated[bool, typer.Option("--no-demo", help="Do not seed the demo province")] = False,
    nats_port: Annotated[
        int | None,
        typer.Option(
            help="NATS port (default: the recorded one, else 14222); 0 picks a free port", min=0, max=65535
        ),
    ] = None,
    base_port: Annotated[
        int | None,
        typer.Option(
            help="First service port (default: the recorded ones, else 8101…8105); 0 picks free ports",
            min=0,
            max=65535 - 100,
        ),
    ] = None,
    startup_timeout: Annotated[
        float, typer.Option(help="Seconds each service process has to become healthy", min=1.0)
    ] = 60.0,
    postgres_dsn: Annotated[
        str | None,
        typer.Option(
            envvar="VANTHU_UP_POSTGRES_DSN",
            help="PostgreSQL server DSN ([bold]postgresql://user[:pw]@host:5432/postgres[/]) instead of SQLite; "
            "a database per service is created on it if missing ([bold]<prefix>_registry[/], …)",
            rich_help_panel="Infrastructure",
        ),
    ] = None,
    database_prefix: Annotated[
        str,
        typer.Option(
            help="Name prefix of the per-service databases (two platforms on one server need two prefixes)",
            rich_help_panel="Infrastructure",
        ),
    ] = "vanthu",
    s3_endpoint: Annotated[
        str | None,
        typer.Option(
            help="S3 server [bold]host:port[/] (MinIO, SeaweedFS, …) instead of the local object directory",
            rich_help_panel="Infrastructure",
        ),
    ] = None,
    s3_access_key: Annotated[
        str | None, typer.Option(envvar="VANTHU_UP_S3_ACCESS_KEY", rich_help_panel="Infrastructure")
    ] = None,
    s3_secret_key: Annotated[
        str | None, typer.Option(envvar="VANTHU_UP_S3_SECRET_KEY", rich_help_panel="Infrastructure")
    ] = None,
    s3_bucket: Annotated[
        str, typer.Option(help="Created by the first service if missing", rich_help_panel="Infrastructure")
    ] = "vanthu",
    s3_secure: Annotated[
        bool, typer.Option(help="HTTPS to the S3 server", rich_help_panel="Infrastructure")
    ] = False,
    province: Annotated[
        str,
        typer.Option(
            help="Province code of the demo (a second platform as another province: [bold]H98[/])",
            rich_help_panel="Demo and axis",
        ),
    ] = "H99",
    axis_url: Annotated[
        str | None,
        typer.Option(
            help="Connect interop to this axis (another simulator, or a real adapter) instead of starting "
            "the embedded simulator; needs --axis-system-id and --axis-secret",
            rich_help_panel="Demo and axis",
        ),
    ] = None,
    axis_system_id: Annotated[
        str | None,
        typer.Option(help="This platform's system id on --axis-url", rich_help_panel="Demo and axis"),
    ] = None,
    axis_secret: Annotated[
        str | None,
        typer.Option(envvar="VANTHU_UP_AXIS_SECRET", help="Its secret", rich_help_panel="Demo and axis"),
    ] = None,
    axis_port: Annotated[
        int | None,
        typer.Option(
            help="Port of the embedded axis simulator (default: the recorded one, else 8480)",
            min=1,
            max=65535,
            rich_help_panel="Demo and axis",
        ),
    ] = None,
    axis_poll_interval: Annotated[
        float,
        typer.Option(
            help="Seconds between interop's polls of the axis (`POST /api/v1/axis/poll` polls at once)",
            min=0.5,
            rich_help_panel="Demo and axis",
        ),
    ] = 3.0,
    no_axis: Annotated[
        bool, typer.Option("--no-axis", help="No axis connection at all", rich_help_panel="Demo and axis")
    ] = False,
    no_demo_signing: Annotated[
        bool,
        typer.Option(
            "--no-demo-signing",
            help="No SoftHSM2 keys, signer profiles or token agent for the demo",
            rich_help_panel="Demo and axis",
        ),
    ] = False,
    trace_dir: Annotated[
        Path | None,
        typer.Option(
            help="Write every process's OpenTelemetry spans as JSON lines to DIR/<instance>.jsonl",
            rich_help_panel="Infrastructure",
        ),
    ] = None,
) -> None:
    """Chạy toàn bộ nền tảng trên máy này / run NATS and the five services on this machine.

    Stays in the foreground; Ctrl-C stops everything. Running it again with the same [bold]--data-dir[/] resumes with the same data, ports and keys.
    """
    from vanthu_cli.launcher import AxisOptions, UpOptions, run_up

    try:
        counts = parse_replicas(replicas)
    except ReplicasError as exc:
        raise typer.BadParameter(str(exc), param_hint="--replicas") from None
    s3: S3Target | None = None
    if s3_endpoint:
        if not s3_access_key or not s3_secret_key:
            raise typer.BadParameter(
                "thiếu khóa S3 / --s3-endpoint needs --s3-access-key and --s3-secret-key",
                param_hint="--s3-access-key/--s3-secret-key",
            )
        s3 = S3Target(s3_endpoint, s3_access_key, s3_secret_key, bucket=s3_bucket, secure=s3_secure)
    try:
        backends = Backends(
            postgres_dsn=postgres_dsn,
            database_prefix=database_prefix,
            s3=s3,
            trace_dir=trace_dir.expanduser().resolve() if trace_dir else None,
        )
    except BackendsError as exc:
        raise typer.BadParameter(str(exc), param_hint="--postgres-dsn/--database-prefix") from None
    if not re.fullmatch(r"[A-Z]\d{2}", province):
        raise typer.BadParameter(
            f"'{province}': mã tỉnh là một chữ in hoa và hai chữ số / a letter and two digits, e.g. H98",
            param_hint="--province",
        )
    if no_axis:
        axis = AxisOptions(mode="none")
    elif axis_url:
        if not axis_system_id or not axis_secret:
            raise typer.BadParameter(
                "--axis-url needs --axis-system-id and --axis-secret",
                param_hint="--axis-system-id/--axis-secret",
            )
        axis = AxisOptions(
            mode="external",
            url=axis_url,
            system_id=axis_system_id,
            secret=axis_secret,
            poll_interval_s=axis_poll_interval,
        )
    else:
        axis = AxisOptions(port=axis_port, poll_interval_s=axis_poll_interval)
    options = UpOptions(
        province=province,
        axis=axis,
        token_agent=not no_demo_signing,
        backends=backends,
        replicas=counts,
        demo=not no_demo,
        nats_port=nats_port,
        base_port=base_port,
        startup_timeout_s=startup_timeout,
    )
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, 160)  # a log file or a pipe: room for full URLs
    raise typer.Exit(run_up(data_dir, options, console))
