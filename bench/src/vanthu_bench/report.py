"""How every benchmark reports: a table with the figure beside its floor, then one RESULT line."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table


@dataclass
class Row:
    label: str
    value: float
    unit: str
    note: str = ""


@dataclass
class BenchResult:
    name: str
    value: float
    unit: str
    floor: float
    goal: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.value / self.floor if self.floor else 0.0

    def result_line(self) -> str:
        return (
            f"RESULT name={self.name} value={self.value:.1f} unit={self.unit} "
            f"floor={self.floor:.1f} ratio={self.ratio:.3f}"
        )


def machine() -> str:
    import os

    mem = ""
    try:
        kb = int(
            next(
                line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
            ).split()[1]
        )
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def show(result: BenchResult, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"vanthu bench {result.name} — {machine()}")
    table.add_column("measurement")
    table.add_column("value", justify="right")
    table.add_column("unit")
    table.add_column("note")
    for row in result.rows:
        table.add_row(row.label, f"{row.value:,.1f}", row.unit, row.note)
    table.add_row("[b]result[/b]", f"[b]{result.value:,.1f}[/b]", result.unit, f"goal: {result.goal}")
    table.add_row("floor", f"{result.floor:,.1f}", result.unit, "same work without vanthu in between")
    table.add_row("ratio", f"{result.ratio:.2f}", "", "")
    console.print(table)
    for note in result.notes:
        console.print(f"  • {note}")
    # Plain print so the line is never wrapped or styled.
    print(result.result_line(), flush=True)


def save(result: BenchResult, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result.name}.json"
    data = asdict(result) | {
        "ratio": result.ratio,
        "machine": machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return path
