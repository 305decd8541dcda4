"""Plugin discovery: sub-commands from `vanthu.commands` entry points, and broken plugins."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import typer
from typer.testing import CliRunner

from vanthu_cli.main import BUILT_IN, build_app, needs_plugins
from vanthu_cli.plugins import add_plugin_commands


@dataclass
class FakeEntryPoint:
    """Stands in for importlib.metadata.EntryPoint: a name, a value, and load()."""

    name: str
    value: str
    loads: Any = None
    raises: BaseException | None = None

    def load(self) -> Any:
        if self.raises is not None:
            raise self.raises
        return self.loads


def _hello_app() -> typer.Typer:
    plugin = typer.Typer()

    @plugin.command()
    def hello(name: str = "văn thư") -> None:
        typer.echo(f"xin chào {name}")

    @plugin.command()
    def bye() -> None:
        typer.echo("tạm biệt")

    return plugin


def _root() -> typer.Typer:
    root = typer.Typer()

    @root.command()
    def version() -> None:
        typer.echo("0.1.0")

    return root


def test_good_plugin_is_mounted_under_its_entry_point_name() -> None:
    root = _root()
    warnings = io.StringIO()
    added = add_plugin_commands(
        root, [FakeEntryPoint("greet", "pkg.cli:app", _hello_app())], warnings=warnings
    )
    assert added == ["greet"]
    assert warnings.getvalue() == ""
    result = CliRunner().invoke(root, ["greet", "hello", "--name", "Lan"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "xin chào Lan"


def test_broken_plugins_cost_one_warning_line_each_and_nothing_else() -> None:
    root = _root()
    warnings = io.StringIO()
    candidates = [
        FakeEntryPoint(
            "broken", "missing_pkg.cli:app", raises=ModuleNotFoundError("No module named 'missing_pkg'")
        ),
        FakeEntryPoint("crashy", "pkg.crash:app", raises=RuntimeError("boom\nsecond line of the error")),
        FakeEntryPoint("notatyper", "pkg.cli:main", loads=lambda: None),
        FakeEntryPoint("greet", "pkg.cli:app", _hello_app()),
    ]
    added = add_plugin_commands(root, candidates, warnings=warnings)

    assert added == ["greet"]
    lines = warnings.getvalue().splitlines()
    assert len(lines) == 3
    assert "'broken'" in lines[0] and "ModuleNotFoundError" in lines[0] and "missing_pkg" in lines[0]
    assert "'crashy'" in lines[1] and "boom" in lines[1] and "second line" not in lines[1]
    assert "'notatyper'" in lines[2] and "typer.Typer" in lines[2]
    # The CLI still works: the good plugin and the root's own commands.
    runner = CliRunner()
    assert runner.invoke(root, ["greet", "bye"]).output.strip() == "tạm biệt"
    assert runner.invoke(root, ["version"]).output.strip() == "0.1.0"
    assert runner.invoke(root, ["broken"]).exit_code != 0


def test_plugin_cannot_shadow_a_built_in_command() -> None:
    root = _root()
    warnings = io.StringIO()
    added = add_plugin_commands(
        root, [FakeEntryPoint("up", "evil.cli:app", _hello_app())], reserved=BUILT_IN, warnings=warnings
    )
    assert added == []
    assert "'up'" in warnings.getvalue() and "already used" in warnings.getvalue()


def test_installed_bench_plugin_is_discovered() -> None:
    # bench/pyproject.toml declares bench = "vanthu_bench.cli:app" in the real entry-point group.
    result = CliRunner().invoke(build_app(), ["--help"])
    assert result.exit_code == 0, result.output
    for command in (*BUILT_IN, "bench"):
        assert command in result.output


def test_built_in_commands_do_not_import_plugins() -> None:
    assert needs_plugins([]) is True
    assert needs_plugins(["--help"]) is True
    assert needs_plugins(["bench", "--quick"]) is True
    assert needs_plugins(["status", "--data-dir", "var"]) is False
    assert needs_plugins(["contracts", "export", "out"]) is False
