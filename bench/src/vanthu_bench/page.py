"""docs/benchmarks.md from one full `vanthu bench` run: the figures, their floors, the machine.

Only the part between the two markers is generated; everything else on the page is prose that
people write (how each benchmark measures, what limits it) and is kept byte for byte. A page
without markers gets the generated part appended, so nothing written by hand is ever lost.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vanthu_bench.report import BenchResult

BEGIN = "<!-- vanthu bench: begin (generated; `vanthu bench` rewrites everything up to the end marker) -->"
END = "<!-- vanthu bench: end -->"
_BEGIN_PREFIX = "<!-- vanthu bench: begin"


class PageError(Exception):
    """The page cannot be rewritten safely (e.g. a begin marker without its end)."""


@dataclass(frozen=True)
class Outcome:
    """One benchmark of the run: its result, or why it produced none."""

    name: str
    description: str
    result: BenchResult | None = None
    error: str = ""


@dataclass(frozen=True)
class Machine:
    cores: int
    cpu: str
    ram_gib: float
    python: str
    os: str
    commit: str
    started_at: datetime
    load_at_start: float

    @classmethod
    def here(cls, repo: Path | None = None) -> Machine:
        """This machine now; call it before the first benchmark (the load average is part of it)."""
        return cls(
            cores=os.cpu_count() or 0,
            cpu=_cpu_model(),
            ram_gib=_ram_gib(),
            python=platform.python_version(),
            os=_os_name(),
            commit=_git_commit(repo),
            started_at=datetime.now(UTC),
            load_at_start=os.getloadavg()[0],
        )

    def line(self, *, quick: bool) -> str:
        kind = "a `--quick` run" if quick else "a full run"
        return (
            f"Measured on: {self.cores} cores ({self.cpu}), {self.ram_gib:.0f} GiB RAM, Python {self.python}, "
            f"{self.os}; commit `{self.commit}`; {self.started_at:%Y-%m-%d %H:%M} UTC; "
            f"load average {self.load_at_start:.2f} at start; {kind}. Each floor was measured in the same run."
        )


def render(outcomes: list[Outcome], machine: Machine, *, quick: bool) -> str:
    """The generated block, markers included."""
    lines = [BEGIN, "", machine.line(quick=quick), ""]
    lines += ["| benchmark | figure | floor (same run) | ratio | goal |", "|---|---|---|---|---|"]
    for outcome in outcomes:
        name = (
            f"`{outcome.name}` — {_cell(outcome.description)}" if outcome.description else f"`{outcome.name}`"
        )
        result = outcome.result
        if result is None:
            lines.append(f"| {name} | **failed**: {_cell(outcome.error)[:300]} | — | — | — |")
            continue
        ratio = f"{result.ratio:.2f}" if result.floor else "—"
        lines.append(
            f"| {name} | {_figure(result.value, result.unit)} | {_figure(result.floor, result.unit)} "
            f"| {ratio} | {_cell(result.goal)} |"
        )
    details = [o for o in outcomes if o.result is not None and (o.result.rows or o.result.notes)]
    if details:
        lines += ["", "<details><summary>Every measurement of this run</summary>", ""]
        lines += ["| benchmark | measurement | value | note |", "|---|---|---|---|"]
        for outcome in details:
            assert outcome.result is not None
            for row in outcome.result.rows:
                lines.append(
                    f"| `{outcome.name}` | {_cell(row.label)} | {_figure(row.value, row.unit)} | {_cell(row.note)} |"
                )
        notes = [(o.name, note) for o in details for note in o.result.notes]  # type: ignore[union-attr]
        if notes:
            lines.append("")
            lines += [f"- `{name}`: {_cell(note)}" for name, note in notes]
        lines += ["", "</details>"]
    lines += ["", END]
    return "\n".join(lines)


def rewrite(text: str, block: str) -> str:
    """`text` with the generated block replaced (or appended when it has none)."""
    begin = text.find(_BEGIN_PREFIX)
    if begin < 0:
        if END in text:
            raise PageError(f"the page has {END!r} but no begin marker; fix the markers by hand")
        return text.rstrip("\n") + "\n\n" + block + "\n"
    end = text.find(END, begin)
    if end < 0:
        raise PageError(f"the page has a begin marker but no {END!r} after it; fix the markers by hand")
    if text.find(_BEGIN_PREFIX, begin + 1) >= 0:
        raise PageError("the page has more than one begin marker; keep exactly one generated block")
    return text[:begin] + block + text[end + len(END) :]


def check(path: Path) -> None:
    """Raise PageError now if `path` could not be rewritten later."""
    if path.exists():
        rewrite(path.read_text(encoding="utf-8"), f"{BEGIN}\n{END}")


def write(path: Path, block: str) -> None:
    if path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "# Benchmarks\n"
    path.write_text(rewrite(text, block), encoding="utf-8")


def default_page() -> Path | None:
    """docs/benchmarks.md of the checkout this package runs from, else of the working directory."""
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for directory in (start, *start.parents):
            candidate = directory / "docs" / "benchmarks.md"
            if candidate.is_file():
                return candidate
    return None


# ----------------------------------------------------------------------------- formatting


def _figure(value: float, unit: str) -> str:
    # Figures span from fractions (ratios, seconds) to millions (rows): keep three significant digits.
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}" if value else "0"
    return f"{text} {_cell(unit)}".rstrip()


def _cell(text: str) -> str:
    """Free text made safe for one markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


# ----------------------------------------------------------------------------- the machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _os_name() -> str:
    try:
        release = platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        release = ""
    kernel = f"{platform.system()} {platform.release()} {platform.machine()}"
    return f"{release}, {kernel}" if release else kernel


def _git_commit(repo: Path | None) -> str:
    """Short commit, `-dirty` when the working tree has changes; `unknown` outside a checkout."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=10"],
            cwd=repo or Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"
