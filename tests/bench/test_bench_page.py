"""`vanthu bench` with no NAME rewrites the generated part of docs/benchmarks.md and nothing else."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vanthu_bench import cli, page
from vanthu_bench.report import BenchResult

REPO = Path(__file__).resolve().parents[2]
PROSE_BEFORE = "# Benchmarks\n\nHow they measure: prose a person wrote, kept as written.\n\n"
PROSE_AFTER = "\n\n## tiny\n\nWhy the floor is what it is — also kept.\n"
OLD_BLOCK = f"{page.BEGIN}\n\n| an old | table |\n|---|---|\n| 1 | 2 |\n\n{page.END}"


def _register(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Real entry points of the `vanthu.benchmarks` group, pointing at the fakes next to this file."""
    points = [EntryPoint(name, f"bench_fakes:{name}", "vanthu.benchmarks") for name in names]
    monkeypatch.setattr(cli, "_entry_points", lambda: points)


def _outside_markers(text: str) -> tuple[str, str]:
    begin, end = text.index("<!-- vanthu bench: begin"), text.index(page.END) + len(page.END)
    return text[:begin], text[end:]


def test_a_full_run_rewrites_only_the_generated_block(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _register(monkeypatch, "tiny")
    target = tmp_path / "benchmarks.md"
    target.write_text(PROSE_BEFORE + OLD_BLOCK + PROSE_AFTER, encoding="utf-8")

    result = CliRunner().invoke(cli.app, ["--quick", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "RESULT name=tiny value=1234.5 unit=ops/s floor=2469.0 ratio=0.500" in result.output
    text = target.read_text(encoding="utf-8")
    assert _outside_markers(text) == (PROSE_BEFORE, PROSE_AFTER)
    assert "an old" not in text
    assert "| `tiny` — Tiny \\| fake: a figure beside its floor, for the page test " in text
    assert "| 1,234 ops/s | 2,469 ops/s | 0.50 | ≥ 0.50 of the floor |" in text
    assert "| `tiny` | floor: the same work without vanthu | 2,469 ops/s | in the same run |" in text
    assert "- `tiny`: a note about this run" in text
    [measured] = [line for line in text.splitlines() if line.startswith("Measured on:")]
    for part in (f"{os.cpu_count()} cores", "GiB RAM", "Python 3.", "load average", "a `--quick` run"):
        assert part in measured, (part, measured)
    # The benchmarked code's commit (this checkout's), whatever directory the page is written to.
    commit = re.search(r"commit `([0-9a-f]{7,40})(-dirty)?`", measured)
    assert commit, measured
    assert subprocess.run(["git", "cat-file", "-e", f"{commit[1]}^{{commit}}"], cwd=REPO).returncode == 0
    assert datetime.now(UTC).strftime("%Y-%m-%d") in measured

    # A second, full run replaces the block again: one block, new figure, the prose untouched.
    again = CliRunner().invoke(cli.app, ["--output", str(target)])
    assert again.exit_code == 0, again.output
    rewritten = target.read_text(encoding="utf-8")
    assert rewritten.count("<!-- vanthu bench: begin") == 1 and rewritten.count(page.END) == 1
    assert _outside_markers(rewritten) == (PROSE_BEFORE, PROSE_AFTER)
    assert "| 999 ops/s | 2,469 ops/s | 0.40 |" in rewritten and "1,234 ops/s" not in rewritten
    assert "a full run" in rewritten


def test_a_failed_benchmark_is_on_the_page_and_fails_the_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _register(monkeypatch, "broken", "tiny")
    target = tmp_path / "benchmarks.md"
    target.write_text(PROSE_BEFORE.rstrip("\n") + "\n", encoding="utf-8")  # no markers yet: appended

    result = CliRunner().invoke(cli.app, ["--quick", "--output", str(target)])
    assert result.exit_code == 1, result.output
    text = target.read_text(encoding="utf-8")
    assert text.startswith(PROSE_BEFORE + page.BEGIN)
    assert "| `broken` — Always fails, as a benchmark whose server would not start | **failed**: " in text
    assert "RuntimeError: nats-server did not start | — | — | — |" in text
    assert "| `tiny` — " in text  # the benchmark after the broken one still ran


def test_no_write_leaves_the_page_alone_and_options_need_a_full_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _register(monkeypatch, "tiny")
    target = tmp_path / "benchmarks.md"
    target.write_text(PROSE_BEFORE, encoding="utf-8")
    result = CliRunner().invoke(cli.app, ["--quick", "--no-write", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "RESULT name=tiny" in result.output
    assert target.read_text(encoding="utf-8") == PROSE_BEFORE
    # With a NAME only that benchmark runs; the page options make no sense there.
    refused = CliRunner().invoke(cli.app, ["--output", str(target), "outbox"])
    message = " ".join(refused.output.replace("│", " ").split())
    assert refused.exit_code == 2 and "only for a run of every benchmark (no NAME)" in message


def _machine() -> page.Machine:
    return page.Machine(
        cores=2, cpu="AMD EPYC", ram_gib=24.0, python="3.11.7", os="Debian GNU/Linux 12, Linux 6.1 x86_64",
        commit="abc1234def", started_at=datetime(2026, 11, 22, 9, 30, tzinfo=UTC), load_at_start=0.42,
    )  # fmt: skip


def _block() -> str:
    result = BenchResult(name="outbox", value=7352.0, unit="events/s", floor=9192.0, goal="≥ 2,000 /s")
    return page.render([page.Outcome("outbox", "Outbox relay", result)], _machine(), quick=False)


def test_rewriting_is_idempotent_and_keeps_the_real_pages_prose() -> None:
    real = (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    once = page.rewrite(real, _block())
    assert page.rewrite(once, _block()) == once
    assert _outside_markers(once) == _outside_markers(real)
    assert "## outbox" in _outside_markers(once)[1]  # the method sections follow the block
    assert (
        "Measured on: 2 cores (AMD EPYC), 24 GiB RAM, Python 3.11.7, Debian GNU/Linux 12, Linux 6.1 x86_64; "
        "commit `abc1234def`; 2026-11-22 09:30 UTC; load average 0.42 at start; a full run." in once
    )
    assert "| `outbox` — Outbox relay | 7,352 events/s | 9,192 events/s | 0.80 | ≥ 2,000 /s |" in once


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"# B\n\n{page.BEGIN}\n| half |\n", "no '<!-- vanthu bench: end -->'"),
        (f"# B\n\n| half |\n{page.END}\n", "no begin marker"),
        (f"{OLD_BLOCK}\n\n{OLD_BLOCK}\n", "more than one begin marker"),
    ],
)
def test_damaged_markers_are_refused_rather_than_guessed(text: str, problem: str) -> None:
    with pytest.raises(page.PageError, match=problem):
        page.rewrite(text, _block())


def test_a_damaged_page_is_refused_before_any_benchmark_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _register(monkeypatch, "tiny")
    target = tmp_path / "benchmarks.md"
    target.write_text(f"# B\n\n{page.BEGIN}\n", encoding="utf-8")
    result = CliRunner().invoke(cli.app, ["--output", str(target)])
    assert result.exit_code == 2
    assert "RESULT" not in result.output and "no '<!-- vanthu bench: end -->'" in result.output
    assert target.read_text(encoding="utf-8") == f"# B\n\n{page.BEGIN}\n"
