"""The `vanthu` command: built-in commands plus those other packages contribute."""

from __future__ import annotations

import sys

import typer

from vanthu_cli.plugins import add_plugin_commands

BUILT_IN = ("up", "status", "provision", "migrate", "contracts", "demo")


def build_app(*, plugins: bool = True) -> typer.Typer:
    """Build the CLI (nothing is built at import time; tests build their own)."""
    from vanthu_cli.commands import contracts, demo, migrate, provision, status, up

    app = typer.Typer(
        name="vanthu",
        no_args_is_help=True,
        rich_markup_mode="rich",
        help="vanthu — quản lý văn bản và điều hành / document management and workflow platform: operator CLI.",
    )
    app.command("up")(up.up)
    app.command("status")(status.status)
    app.command("provision")(provision.provision)
    app.command("migrate")(migrate.migrate)
    app.add_typer(contracts.app, name="contracts")
    app.add_typer(demo.app, name="demo")
    if plugins:
        add_plugin_commands(app, reserved=BUILT_IN)
    return app


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    build_app(plugins=needs_plugins(args))(args=args, prog_name="vanthu")


def needs_plugins(args: list[str]) -> bool:
    """Plugins are imported only when the command line may name one (or asks for help).

    `vanthu status` and `vanthu up` run often, from scripts and tests; they should not pay
    for importing every package's command module, nor print warnings about a broken one.
    """
    command = next((arg for arg in args if not arg.startswith("-")), None)
    return command not in BUILT_IN
