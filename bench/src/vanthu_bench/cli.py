"""`vanthu bench [NAME] [--quick]`: run one benchmark, or every one and write docs/benchmarks.md.

Benchmarks are contributed through the entry-point group `vanthu.benchmarks`:
each entry is an `async def run(quick: bool) -> BenchResult`, and its name is
the sub-command. The runner itself is the same for all of them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import typer

from vanthu_bench import page
from vanthu_bench.report import BenchResult, save, show

Benchmark = Callable[[bool], Awaitable[BenchResult]]

app = typer.Typer(
    help="Benchmarks: each prints its figure beside the floor measured in the same run, then a RESULT line.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _entry_points() -> list[EntryPoint]:
    return list(entry_points(group="vanthu.benchmarks"))


def benchmark_names() -> list[str]:
    """Names only: loading a benchmark imports its service, which `vanthu --help` should not pay for."""
    return sorted({ep.name for ep in _entry_points()})


def load(name: str) -> Benchmark:
    [ep] = [ep for ep in _entry_points() if ep.name == name]
    return ep.load()


def _measure(bench: Benchmark, quick: bool, out: Path | None) -> BenchResult:
    result = asyncio.run(bench(quick))
    show(result)
    if out is not None:
        save(result, out)
    return result


def _run(name: str, quick: bool, out: Path | None) -> BenchResult | None:
    try:
        bench = load(name)
    except Exception as exc:
        print(f"warning: benchmark {name!r} could not be loaded: {exc}", file=sys.stderr)
        return None
    return _measure(bench, quick, out)


def _run_recorded(name: str, quick: bool, out: Path | None) -> page.Outcome:
    """One benchmark of the full run; a failure is recorded (and shown on the page), not raised."""
    try:
        bench = load(name)
    except Exception as exc:
        return page.Outcome(name, "", error=f"could not be loaded: {type(exc).__name__}: {exc}")
    description = (bench.__doc__ or "").strip().split("\n", 1)[0].rstrip(".")
    try:
        result = _measure(bench, quick, out)
    except Exception as exc:  # a broken benchmark must not hide the others
        print(f"benchmark {name!r} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return page.Outcome(name, description, error=f"{type(exc).__name__}: {exc}")
    return page.Outcome(name, description, result)


def run_all(quick: bool, out: Path | None, output: Path | None, write: bool) -> int:
    """Every benchmark in turn, then the page; exit status 1 if any of them failed."""
    target = output or page.default_page()
    if write and target is None:
        print(
            "lỗi: không tìm thấy docs/benchmarks.md / error: no docs/benchmarks.md found above this "
            "package or the working directory; give --output PATH or --no-write",
            file=sys.stderr,
        )
        return 2
    if write and target is not None:
        try:
            page.check(target)  # before an hour of benchmarks, not after
        except page.PageError as exc:
            print(f"lỗi / error: {target}: {exc}", file=sys.stderr)
            return 2
    machine = page.Machine.here()  # the commit is the benchmarked code's, wherever the page goes
    outcomes = [_run_recorded(name, quick, out) for name in benchmark_names()]
    if write and target is not None:
        page.write(target, page.render(outcomes, machine, quick=quick))
        print(f"wrote {target}")
    failed = [o.name for o in outcomes if o.result is None]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


@app.callback()
def main(
    ctx: typer.Context,
    quick: bool = typer.Option(False, "--quick", help="Smaller run that finishes in under a minute"),
    out: Path | None = typer.Option(
        None, "--json-dir", "--out", help="Also save each result as JSON in this directory"
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        help="With no NAME: the page to rewrite (default: the checkout's docs/benchmarks.md)",
        dir_okay=False,
    ),
    no_write: bool = typer.Option(
        False, "--no-write", help="With no NAME: print the results, leave the page"
    ),
) -> None:
    """With no NAME, run every benchmark and rewrite the generated table of docs/benchmarks.md."""
    ctx.obj = {"quick": quick, "out": out}
    if ctx.invoked_subcommand is None:
        code = run_all(quick, out, output, write=not no_write)
        if code:
            raise typer.Exit(code)
    elif output is not None or no_write:
        raise typer.BadParameter(
            "chỉ dùng khi chạy mọi benchmark / only for a run of every benchmark (no NAME)",
            param_hint="--output/--no-write",
        )


def _command(name: str) -> None:
    def command(
        ctx: typer.Context,
        quick: bool = typer.Option(False, "--quick", help="A smaller run that finishes in under a minute"),
    ) -> None:
        _run(name, quick or ctx.obj["quick"], ctx.obj["out"])

    command.__doc__ = f"The {name} benchmark (see docs/benchmarks.md for what it measures and its floor)."
    app.command(name)(command)


for _name in benchmark_names():
    _command(_name)
