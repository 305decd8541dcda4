"""`vanthu contracts …`: the wire contract as files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, rich_markup_mode="rich", help="Hợp đồng dữ liệu / the wire contract")


@app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Where to write; created if missing", file_okay=False)],
) -> None:
    """Ghi JSON Schema và AsyncAPI / write every JSON Schema and [bold]asyncapi.json[/].

    Output is deterministic (sorted keys, 2-space indent, UTF-8); files an earlier export wrote that the contract no longer has are deleted.
    """
    from vanthu_cli.contracts_export import export_contracts

    result = export_contracts(directory)
    typer.echo(
        f"{directory}: {len(result.written)} written, {len(result.unchanged)} unchanged, "
        f"{len(result.removed)} removed"
    )
    for name in result.removed:
        typer.echo(f"  removed {name}")
