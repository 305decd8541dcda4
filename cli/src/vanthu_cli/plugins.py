"""Sub-commands contributed by other packages through the `vanthu.commands` entry-point group.

Each entry point loads a typer app; its entry-point name is the sub-command name
(`bench = "vanthu_bench.cli:app"` gives `vanthu bench`). A plugin that fails to
import, or is not a typer app, costs one warning line on stderr and nothing else:
the operator must still be able to run `vanthu status` when a benchmark package is broken.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Protocol, TextIO

import typer

GROUP = "vanthu.commands"


class LoadableEntryPoint(Protocol):
    """What discovery needs of an entry point (importlib's `EntryPoint` has it)."""

    name: str
    value: str

    def load(self) -> object: ...


def installed_entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=GROUP), key=lambda ep: ep.name)


def add_plugin_commands(
    app: typer.Typer,
    candidates: Iterable[LoadableEntryPoint] | None = None,
    *,
    reserved: Iterable[str] = (),
    warnings: TextIO | None = None,
) -> list[str]:
    """Mount each plugin's typer app on `app`; return the names that were added."""
    stream = warnings if warnings is not None else sys.stderr
    taken = set(reserved)
    added: list[str] = []
    for ep in installed_entry_points() if candidates is None else candidates:
        if ep.name in taken:
            _warn(stream, ep, "the name is already used by another command")
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # any import-time failure of a third-party module
            _warn(stream, ep, f"{type(exc).__name__}: {_first_line(exc)}")
            continue
        if not isinstance(plugin, typer.Typer):
            _warn(stream, ep, f"expected a typer.Typer, got {type(plugin).__name__}")
            continue
        app.add_typer(plugin, name=ep.name)
        taken.add(ep.name)
        added.append(ep.name)
    return added


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def _warn(stream: TextIO, ep: LoadableEntryPoint, why: str) -> None:
    print(
        f"vanthu: cảnh báo / warning: bỏ qua lệnh '{ep.name}' ({ep.value}) — skipped command: {why}",
        file=stream,
    )
