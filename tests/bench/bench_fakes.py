"""Benchmarks registered only for the page test: one that reports, one that breaks."""

from __future__ import annotations

from vanthu_bench.report import BenchResult, Row


async def tiny(quick: bool) -> BenchResult:
    """Tiny | fake: a figure beside its floor, for the page test.

    The rest of the docstring is not part of the description.
    """
    return BenchResult(
        name="tiny",
        value=1234.5 if quick else 999.0,
        unit="ops/s",
        floor=2469.0,
        goal="≥ 0.50 of the floor",
        rows=[Row("floor: the same work without vanthu", 2469.0, "ops/s", "in the same run")],
        notes=["a note about\nthis run"],
    )


async def broken(quick: bool) -> BenchResult:
    """Always fails, as a benchmark whose server would not start."""
    raise RuntimeError("nats-server did not start")
