"""`vanthu demo journey`: one document's whole journey against a running platform — a smoke test."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    name="demo",
    no_args_is_help=True,
    rich_markup_mode="rich",
    help="Chạy thử trên dữ liệu mẫu / demonstrations on the demo province.",
)

SERVICE_NAMES = ("registry", "routing", "signing", "interop", "analytics")


def _url_option(service: str) -> Any:
    return typer.Option(
        f"--{service}-url",
        envvar=f"VANTHU_{service.upper()}_URL",
        help=f"URL of {service} (default: from --data-dir's platform.json)",
        rich_help_panel="Platform",
    )


@app.command("journey")
def journey(
    data_dir: Annotated[
        Path,
        typer.Option(help="The platform `vanthu up` runs (its platform.json)", rich_help_panel="Platform"),
    ] = Path("./var"),
    registry_url: Annotated[str | None, _url_option("registry")] = None,
    routing_url: Annotated[str | None, _url_option("routing")] = None,
    signing_url: Annotated[str | None, _url_option("signing")] = None,
    interop_url: Annotated[str | None, _url_option("interop")] = None,
    analytics_url: Annotated[str | None, _url_option("analytics")] = None,
    axis_url: Annotated[
        str | None,
        typer.Option(
            envvar="VANTHU_AXIS_URL",
            help="The axis simulator the platform is connected to (default: the embedded one)",
            rich_help_panel="Platform",
        ),
    ] = None,
    peer_data_dir: Annotated[
        Path | None,
        typer.Option(
            help="A second platform (another province on the same axis) that also receives the reply",
            rich_help_panel="Platform",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds each step may wait for its effect", min=1.0)] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Hành trình một văn bản từ đầu đến cuối / one document's journey, end to end.

    A ministry (played through the axis simulator) sends a công văn; the demo province registers, routes and handles it, drafts a reply that is reviewed, signed by the leader's token and sealed with the HSM key, numbered and sent back; statuses flow both ways; analytics counts it. Each step prints what it produced. Exit code 0 only if every step succeeded.
    """
    from vanthu_cli.journey import JourneyConfig, run_journey

    console = Console(highlight=False, stderr=as_json)
    if not console.is_terminal:
        console.width = max(console.width, 160)
    urls = {
        "registry": registry_url,
        "routing": routing_url,
        "signing": signing_url,
        "interop": interop_url,
        "analytics": analytics_url,
    }
    try:
        target, embedded_axis = _target(data_dir, urls, "")
        peer = _target(peer_data_dir, {}, "peer")[0] if peer_data_dir else None
    except _NoPlatform as exc:
        console.print(f"[bold red]vanthu demo journey:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    axis = axis_url or embedded_axis
    if not axis:
        console.print(
            "[bold red]vanthu demo journey:[/] không biết trục giả lập / no axis simulator known: "
            "give --axis-url (the platform must be connected to it)"
        )
        raise typer.Exit(2)
    config = JourneyConfig(target=target, axis_url=axis, peer=peer, timeout_s=timeout)
    console.print(
        f"Hành trình văn bản / document journey on [bold]{target.label}[/]"
        + (f" and [bold]{peer.label}[/]" if peer else "")
        + f", axis {axis}"
    )
    report = asyncio.run(run_journey(config, on_step=lambda step: _print_step(console, step)))
    _print_summary(console, report)
    if as_json:
        typer.echo(json.dumps(_as_dict(report), ensure_ascii=False, default=str))
    raise typer.Exit(0 if report.ok else 1)


class _NoPlatform(Exception):
    pass


def _target(data_dir: Path | None, urls: dict[str, str | None], label: str) -> tuple[Any, str | None]:
    """The platform's URLs: given explicitly, or read from a data directory's platform.json."""
    from vanthu_cli.journey import PlatformTarget
    from vanthu_cli.platform_state import DataDir, PlatformState

    state = None
    if data_dir is not None and not all(urls.get(s) for s in SERVICE_NAMES):
        try:
            state = PlatformState.load(DataDir.at(data_dir))
        except ValueError as exc:
            raise _NoPlatform(f"{data_dir}/platform.json is not a platform record ({exc})") from None
        if state is None or state.launcher_pid is None:
            raise _NoPlatform(
                f"không có nền tảng đang chạy ở {data_dir} / no running platform in {data_dir}: "
                "start one with `vanthu up`, or give every --<service>-url"
            )
    resolved = {s: urls.get(s) or (state.service_url(s) if state else None) for s in SERVICE_NAMES}
    missing = [s for s, url in resolved.items() if not url]
    if missing:
        raise _NoPlatform(f"thiếu địa chỉ / no URL for {', '.join(missing)}")
    axis = state.axis.url if state and state.axis and state.axis.embedded else None
    name = state.province if state else (label or "platform")
    return PlatformTarget(label=name, **resolved), axis  # type: ignore[arg-type]


def _print_step(console: Console, step: Any) -> None:
    mark = "[green]✓[/]" if step.ok else "[bold red]✗[/]"
    produced = "  ".join(f"{k}={_short(v)}" for k, v in step.produced.items())
    console.print(f"{mark} {step.name:<20} {escape(step.title)}  [dim]{step.elapsed_s:.1f} s[/]")
    if produced:
        console.print(f"    {escape(produced)}", markup=True)
    if not step.ok:
        console.print(f"    [red]{escape(step.error_vi)}[/]")
        console.print(f"    [red]{escape(step.error_en)}[/]")


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)


def _print_summary(console: Console, report: Any) -> None:
    table = Table(title="Kết quả / result", title_justify="left")
    for column in ("step", "ok", "seconds"):
        table.add_column(column)
    for step in report.steps:
        table.add_row(step.name, "[green]✓[/]" if step.ok else "[red]✗[/]", f"{step.elapsed_s:.1f}")
    console.print(table)
    console.print(f"trace id: {report.trace_id}")
    if report.ok:
        console.print(f"[bold green]Hành trình hoàn tất / journey complete[/] ({len(report.steps)} steps)")
    else:
        failed = report.failed
        where = failed.name if failed else "?"
        console.print(f"[bold red]Hành trình dừng ở bước {where} / the journey stopped at {where}[/]")


def _as_dict(report: Any) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "trace_id": report.trace_id,
        "steps": [
            {
                "name": s.name,
                "title": s.title,
                "ok": s.ok,
                "produced": s.produced,
                "elapsed_s": round(s.elapsed_s, 3),
                "error_vi": s.error_vi,
                "error_en": s.error_en,
            }
            for s in report.steps
        ],
        "context": report.context,
    }
