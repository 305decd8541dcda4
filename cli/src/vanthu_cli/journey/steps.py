"""Steps of a journey: what each produced, how long it took, and why one failed (in two languages)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


class StepFailed(Exception):
    """A step did not get the effect it waited for; the message is for an operator."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass
class StepResult:
    name: str  # stable, e.g. "registry.register"
    title: str  # Vietnamese, what a person did or saw
    ok: bool
    produced: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0
    error_vi: str = ""
    error_en: str = ""


@dataclass
class JourneyReport:
    trace_id: str
    steps: list[StepResult] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)  # ids the tests check afterwards

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def failed(self) -> StepResult | None:
        return next((step for step in self.steps if not step.ok), None)

    def step(self, name: str) -> StepResult:
        found = next((step for step in self.steps if step.name == name), None)
        if found is None:
            raise KeyError(name)
        return found


class Recorder:
    """Runs steps in order, records each; after the first failure the journey stops."""

    def __init__(self, report: JourneyReport, on_step: Callable[[StepResult], None] | None = None) -> None:
        self.report = report
        self.on_step = on_step

    async def run(
        self, name: str, title: str, action: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        started = time.monotonic()
        try:
            produced = await action()
        except StepFailed as failure:
            self._add(
                StepResult(
                    name, title, False, {}, time.monotonic() - started, failure.message_vi, failure.message_en
                )
            )
            raise
        except Exception as exc:  # an unexpected answer: still one clear line, then stop
            message = f"{type(exc).__name__}: {exc}"
            self._add(
                StepResult(
                    name,
                    title,
                    False,
                    {},
                    time.monotonic() - started,
                    f"lỗi bất ngờ: {message}",
                    f"unexpected error: {message}",
                )
            )
            raise StepFailed(f"lỗi bất ngờ: {message}", f"unexpected error: {message}") from exc
        self._add(StepResult(name, title, True, produced, time.monotonic() - started))
        return produced

    def _add(self, result: StepResult) -> None:
        self.report.steps.append(result)
        if self.on_step is not None:
            self.on_step(result)


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout_s: float,
    waiting_vi: str,
    waiting_en: str,
    interval_s: float = 0.5,
    last_seen: Callable[[], str] | None = None,
) -> T:
    """Call `probe` until it returns something truthy, at most `timeout_s`; else StepFailed."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            seen = f" ({last_seen()})" if last_seen is not None else ""
            raise StepFailed(
                f"quá {timeout_s:.0f} giây vẫn chưa thấy {waiting_vi}{seen}",
                f"no {waiting_en} after {timeout_s:.0f} s{seen}",
            )
        await asyncio.sleep(interval_s)
