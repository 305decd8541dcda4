"""Group commit: many small units of work committed as one transaction.

Why: some writes serialise on one row — gapless register numbers lock the register row from
the number's UPDATE to the COMMIT. With one transaction per request, that lock is held across
several event-loop turns of a busy process (the holder waits behind every other ready
coroutine before it can send COMMIT), and throughput collapses to one request per lock hold.
Here one writer task takes whatever requests are waiting, applies each in its own savepoint,
runs a batch-level `settle` step (take all the numbers in one statement, queue the events),
and commits once: the contended lock is taken once per batch, at the end, and held for one
statement and the commit. At low load a batch is one request and nothing waits.

Guarantees kept: a request's statements commit together or not at all; a request that fails
in its own step is rolled back to its savepoint and gets its own error while the others
commit; if the batch step or the commit fails, every request of the batch is retried alone,
so one bad request never fails its neighbours.

Without savepoints (`savepoints=False`), for units that rarely fail and whose batch has no
shared step, a unit's failure fails the batch and every unit is retried alone: two statements
fewer per unit where statements are what a transaction costs (SQLite through SQLAlchemy).
`SharedTransactions` is that mode for units given as functions of the transaction.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from vanthu_contracts.errors import UNAVAILABLE
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import Tx, UnitOfWork

log = logging.getLogger("vanthu.groupcommit")

W = TypeVar("W", bound="Work")
T = TypeVar("T")


class Work(ABC):
    """One request's part of a batch. Subclasses write their rows in `apply`.

    `apply` may run more than once (a failed batch is retried item by item), so it must build
    everything it writes from the work's own inputs, not from what an earlier run left behind.
    It runs in the submitting request's context (trace, log fields), captured in `context`;
    a batch-level step that writes on a work's behalf uses `context.run` for the same reason.
    """

    context: contextvars.Context

    @abstractmethod
    async def apply(self, tx: Tx) -> None:
        """Write this request's rows inside the group's transaction."""

    async def _apply_in_context(self, tx: Tx) -> None:
        await asyncio.create_task(self.apply(tx), context=self.context)


class GroupCommit(Generic[W]):
    def __init__(
        self,
        uow: UnitOfWork,
        settle: Callable[[Tx, Sequence[W]], Awaitable[None]] | None = None,
        *,
        max_batch: int = 64,
        name: str = "group-commit",
        savepoints: bool = True,
    ) -> None:
        self.uow = uow
        self.settle = settle
        self.max_batch = max_batch
        self.name = name
        self.savepoints = savepoints
        self._queue: asyncio.Queue[tuple[W, asyncio.Future[W]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[None] | None = None
        self._closed = False
        self.batches = 0
        self.committed = 0

    def enqueue(self, work: W) -> asyncio.Future[W]:
        """Queue `work` for the next batch; the future resolves to it once committed, or to its error.

        A caller that is cancelled while waiting does not pull its work out: a batch in flight
        still commits it. Callers that must compensate (e.g. delete an uploaded file) watch
        the future, not their own cancellation."""
        work.context = contextvars.copy_context()
        future: asyncio.Future[W] = asyncio.get_running_loop().create_future()
        if self._closed:  # shutting down: the caller retries elsewhere or later
            future.set_exception(_stopping(self.name))
            return future
        self._queue.put_nowait((work, future))
        if self._writer is None or self._writer.done():
            # A context of its own: the writer serves every request, not the first one's trace.
            self._writer = asyncio.create_task(self._run(), name=self.name, context=contextvars.Context())
        return future

    async def submit(self, work: W) -> W:
        """Apply `work` in the next batch and wait for the commit."""
        return await asyncio.shield(self.enqueue(work))

    async def aclose(self) -> None:
        """Stop after the batch in flight commits; what is still queued, and whatever comes
        later, fails with UNAVAILABLE (the service is stopping)."""
        self._closed = True
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        if self._inflight is not None:
            await asyncio.gather(self._inflight, return_exceptions=True)
            self._inflight = None
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            _fail(future, _stopping(self.name))

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            # The batch runs shielded: cancelling the writer (shutdown) lets it commit rather
            # than abandon a transaction whose callers are waiting; `aclose` waits for it.
            self._inflight = asyncio.ensure_future(self._commit_or_split(batch))
            await asyncio.shield(self._inflight)
            self._inflight = None

    async def _commit_or_split(self, batch: list[tuple[W, asyncio.Future[W]]]) -> None:
        try:
            await self._commit(batch)
        except BaseException as error:
            if not isinstance(error, Exception):  # cancelled inside the driver, and the like
                for _, future in batch:
                    _fail(future, error)
                raise
            if len(batch) == 1:
                _fail(batch[0][1], error)
                return
            log.warning("%s: a batch of %d failed (%r); retrying each alone", self.name, len(batch), error)
            for item in batch:
                if not item[1].done():
                    await self._commit_or_split([item])

    async def _commit(self, batch: list[tuple[W, asyncio.Future[W]]]) -> None:
        from opentelemetry import trace

        from vanthu_runtime.telemetry import tracer

        # One span per batch, linked to each request's span: a request's trace shows the
        # group it committed in, and the group shows whom it served.
        links = [trace.Link(c) for w, _ in batch if (c := _span_context(w.context)) is not None]
        with tracer("vanthu.groupcommit").start_as_current_span(
            f"{self.name} commit", links=links, attributes={"vanthu.group.size": len(batch)}
        ):
            await self._commit_batch(batch)

    async def _commit_batch(self, batch: list[tuple[W, asyncio.Future[W]]]) -> None:
        applied: list[tuple[W, asyncio.Future[W]]] = []
        # Told only after the commit: a caller that compensates for its failure (deletes a file it
        # stored) must not do so while a neighbour's uncommitted row may still reference the same
        # object. Should the commit fail, they are not done and are retried alone like the rest.
        refused: list[tuple[asyncio.Future[W], Exception]] = []
        async with self.uow.begin() as tx:
            for work, future in batch:
                if len(batch) == 1 or not self.savepoints:  # its failure is the transaction's
                    await work._apply_in_context(tx)
                    applied.append((work, future))
                    continue
                mark = tx.events_mark()
                try:
                    async with tx.session.begin_nested():
                        await work._apply_in_context(tx)
                except Exception as error:
                    tx.forget_events_since(mark)  # rolled back with its savepoint
                    refused.append((future, error))
                    continue
                applied.append((work, future))
            if applied and self.settle is not None:
                await self.settle(tx, [work for work, _ in applied])
        self.batches += 1
        self.committed += len(applied)
        for future, error in refused:
            _fail(future, error)
        for work, future in applied:
            if not future.done():
                future.set_result(work)


class Call(Work, Generic[T]):
    """A unit of work given as a function of the transaction; `result` is what it returned."""

    def __init__(self, unit: Callable[[Tx], Awaitable[T]]) -> None:
        self.unit = unit
        self.result: T | None = None

    async def apply(self, tx: Tx) -> None:
        self.result = await self.unit(tx)


class SharedTransactions(GroupCommit[Call[Any]]):
    """Short units of work that arrive together share one transaction, without savepoints.

    A transaction costs more than a couple of its statements (a pooled connection and its checkout,
    BEGIN and COMMIT); units queued while one transaction runs go into the next one together,
    and a unit that is alone waits for nothing. If a shared transaction fails, every unit of it
    runs again alone, so a unit's error is its own. A unit may therefore run twice and must
    build what it writes from its own inputs; it must not wait on `run` itself.
    """

    def __init__(self, uow: UnitOfWork, *, max_batch: int = 32, name: str = "shared-transactions") -> None:
        super().__init__(uow, max_batch=max_batch, name=name, savepoints=False)

    async def run(self, unit: Callable[[Tx], Awaitable[T]]) -> T:
        """Apply `unit` in the next transaction; return what it returned (or raise what it raised)."""
        done = await self.submit(Call(unit))
        return done.result  # type: ignore[return-value]

    @property
    def transactions(self) -> int:
        """Transactions committed (for tests and benchmarks)."""
        return self.batches

    @property
    def units(self) -> int:
        return self.committed


def _span_context(context: contextvars.Context) -> Any:
    from opentelemetry import trace

    span_context = context.run(trace.get_current_span).get_span_context()
    return span_context if span_context.is_valid else None


def _stopping(name: str) -> AppError:
    return AppError(UNAVAILABLE, {"reason": f"{name} is stopping"})


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
