"""Short units of work that arrive together share one transaction.

A transaction costs more than a couple of its statements (a pooled connection, a session, BEGIN
and COMMIT), and each packet the sender handles has two short ones: marking it `sending` before
the upload and `sent` after. With several send workers these arrive at nearly the same moments;
the units queued while one transaction runs go into the next one together, and a unit that is
alone waits for nothing.

If a shared transaction fails, every unit of it is run again alone, so a unit's error is its own
and never its neighbours'. A unit may therefore run twice and must build everything it writes
from its own inputs; it must not wait on `run` itself (the transaction it would wait for is the
one it is in). It runs in its caller's context (trace, log fields), as it would alone.
A caller that is cancelled while waiting does not take its unit back: the transaction it is in
still commits.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from vanthu_runtime.uow import Tx, UnitOfWork

T = TypeVar("T")


@dataclass
class _Queued:
    unit: Callable[[Tx], Awaitable[Any]]
    future: asyncio.Future[Any]
    context: contextvars.Context


class SharedTransactions:
    def __init__(self, uow: UnitOfWork, *, max_batch: int = 32) -> None:
        self.uow = uow
        self.max_batch = max_batch
        self._queue: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None
        self.transactions = 0  # committed, for tests and benchmarks
        self.units = 0

    async def run(self, unit: Callable[[Tx], Awaitable[T]]) -> T:
        """Apply `unit` in the next transaction and return what it returned (or raise what it raised)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(unit, future, contextvars.copy_context()))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="interop-shared-transactions")
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                await self._commit_or_split(batch)
            except BaseException as stop:  # cancelled (shutdown): nobody will run what is queued
                for item in batch + self._queue:
                    if not item.future.done():
                        item.future.set_exception(stop)
                self._queue = []
                raise

    async def _commit_or_split(self, batch: list[_Queued]) -> None:
        try:
            results = await self._commit(batch)
        except Exception as error:
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(error)
                return
            for item in batch:
                await self._commit_or_split([item])
            return
        for item, result in zip(batch, results, strict=True):
            if not item.future.done():
                item.future.set_result(result)

    async def _commit(self, batch: list[_Queued]) -> list[Any]:
        results = []
        async with self.uow.begin() as tx:
            for item in batch:
                results.append(await asyncio.create_task(item.unit(tx), context=item.context))
        self.transactions += 1
        self.units += len(batch)
        return results
