"""What every hostile-input test asserts: a typed rejection with a stable, documented code, in time.

A rejection counts as clear when its code is one the contracts define (so clients and operators
can match on it) and the definition carries a Vietnamese and an English message. Durations are
measured per case and the slowest one is kept, so a test can both bound and report it.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from vanthu_contracts.errors import ErrorCode, all_codes

CASE_BUDGET_S = 5.0
WALL_FACTOR = 6  # the test machine is shared: wall time counts others' work too


def _has_vietnamese_letters(text: str) -> bool:
    # Every Vietnamese sentence we write carries at least one letter with a diacritic.
    return any(unicodedata.decomposition(ch) for ch in text if ch.isalpha())


def defined_code(code: str) -> ErrorCode:
    """The contract definition of `code`; fails the test when the code is not a stable, bilingual one."""
    definition = all_codes().get(code)
    assert definition is not None, f"{code!r} is not an error code defined in vanthu_contracts"
    assert definition.message_en.strip() and definition.message_vi.strip(), f"{code} lacks a message"
    assert definition.message_vi != definition.message_en, f"{code}: the Vietnamese message is a copy"
    assert _has_vietnamese_letters(definition.message_vi), f"{code}: message_vi is not Vietnamese"
    return definition


def check_error_body(body: object, status: int) -> str:
    """The standard error shape of every service (vanthu_contracts.errors.ErrorBody); returns the code."""
    assert isinstance(body, dict), f"HTTP {status}: error body is not a JSON object: {body!r}"
    assert set(body) == {"code", "message_vi", "message_en", "details"}, f"HTTP {status}: {body!r}"
    definition = defined_code(body["code"])
    assert definition.http_status == status, f"{body['code']} is HTTP {definition.http_status}, not {status}"
    assert body["message_vi"] and body["message_en"] and isinstance(body["details"], dict), body
    return str(body["code"])


@dataclass
class Timings:
    """Per-case durations: the slowest case by CPU time and by wall-clock time.

    The 5 s budget applies to the CPU time this process spent on the case (every thread, so
    work handed to a thread pool counts): on a shared test machine the wall clock also
    measures other people's work. A case waiting on something instead of computing would
    not show there, so the wall clock is bounded too, at WALL_FACTOR times the budget.
    """

    count: int = 0
    slowest_s: float = 0.0
    slowest_case: str = ""
    slowest_wall_s: float = 0.0
    slowest_wall_case: str = ""
    total_s: float = 0.0
    over_budget: list[tuple[str, float, float]] = field(default_factory=list)

    @contextmanager
    def case(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            self.count += 1
            self.total_s += wall
            if cpu > self.slowest_s:
                self.slowest_s, self.slowest_case = cpu, name
            if wall > self.slowest_wall_s:
                self.slowest_wall_s, self.slowest_wall_case = wall, name
            if cpu > CASE_BUDGET_S or wall > CASE_BUDGET_S * WALL_FACTOR:
                self.over_budget.append((name, round(cpu, 2), round(wall, 2)))

    def assert_within_budget(self) -> None:
        assert not self.over_budget, (
            f"cases over {CASE_BUDGET_S} s of CPU or {CASE_BUDGET_S * WALL_FACTOR} s of wall clock "
            f"(name, cpu, wall): {self.over_budget[:10]}"
        )

    def summary(self) -> str:
        return (
            f"{self.count} cases in {self.total_s:.1f} s; slowest {self.slowest_s * 1000:.0f} ms CPU "
            f"({self.slowest_case}), {self.slowest_wall_s * 1000:.0f} ms wall ({self.slowest_wall_case})"
        )


def draw_examples(strategy: object, count: int) -> list[object]:
    """`count` values of a hypothesis strategy, for tests that replay them in an event loop."""
    from hypothesis import HealthCheck, Phase, given, settings

    drawn: list[object] = []

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def collect(value: object) -> None:
        drawn.append(value)

    collect()
    return drawn
