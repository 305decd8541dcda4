"""Shutdown of background tasks is bounded even when a task will not stop."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from vanthu_runtime.tasks import cancel_and_wait


async def test_cancels_and_waits_for_well_behaved_tasks() -> None:
    cleaned: list[str] = []

    async def worker(name: str) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.01)  # cleanup that needs the loop
            cleaned.append(name)

    tasks = [asyncio.create_task(worker(f"w{i}"), name=f"w{i}") for i in range(3)]
    await asyncio.sleep(0)
    await cancel_and_wait(tasks, within_s=5)

    assert all(task.cancelled() for task in tasks)
    assert sorted(cleaned) == ["w0", "w1", "w2"]


async def test_a_task_that_ignores_cancellation_does_not_hold_shutdown(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue  # the bug this guards against: a loop that eats its cancellation

    task = asyncio.create_task(stubborn(), name="stubborn-poller")
    await asyncio.sleep(0)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="vanthu.runtime"):
        await cancel_and_wait([task], within_s=0.3)
    waited = time.monotonic() - started

    assert 0.25 <= waited < 3
    assert not task.done()
    assert "stubborn-poller" in caplog.text
    release.set()
    task.cancel()
    await asyncio.wait([task], timeout=2)
    assert task.done()


async def test_nothing_to_stop_returns_at_once() -> None:
    done = asyncio.create_task(asyncio.sleep(0))
    await done
    await cancel_and_wait([done], within_s=5)
    assert done.done() and not done.cancelled()
