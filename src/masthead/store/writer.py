"""Group commit: concurrent writes share one transaction and one durable commit.

A commit per request caps a durable API at a few hundred requests a second (each commit waits
for the disk). Here every write is a small function of a connection; whatever arrives while
one batch is committing goes into the next batch. Each function runs in its own SAVEPOINT so
that one failing write (a unique-key conflict, say) does not undo its neighbours. On SQLite
this is also the one writer of the process, so writers never wait on each other's locks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from masthead.metrics import WRITER_BATCH
from masthead.store.outages import is_unavailable

T = TypeVar("T")
Work = Callable[[Connection], Any]
BatchRunner = Callable[[Callable[[Connection], list[Any]]], Awaitable[list[Any]]]
"""Runs one synchronous batch function on a write connection (thread or greenlet)."""

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Job:
    work: Work
    future: asyncio.Future[Any]
    isolated: bool


@dataclass
class WriterStats:
    batches: int = 0
    writes: int = 0
    largest_batch: int = 0


class GroupCommitter:
    def __init__(self, run_batch: BatchRunner, *, max_batch: int = 500) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._pending: list[_Job] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.unavailable = False
        """The last commit failed because the database was unavailable (logged once); until
        one succeeds, writes wait on the database's timeouts and then fail."""
        self.stats = WriterStats()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="masthead-group-commit")

    async def stop(self) -> None:
        """Finish everything already submitted, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def write(self, work: Callable[[Connection], T], *, isolated: bool = True) -> T:
        """Run `work` inside the next group transaction; return once it is durably committed.

        `isolated=False` skips the savepoint for writes that cannot fail on their own (plain
        updates by key); a failure there fails the whole batch, which then retries each job
        isolated so that only the culprit sees the error.
        """
        if self._closing:
            raise RuntimeError("the writer is shutting down")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(_Job(work, future, isolated))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._commit(batch)
            if self._closing:
                return

    async def _commit(self, batch: list[_Job]) -> None:
        self.stats.batches += 1
        self.stats.writes += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        WRITER_BATCH.observe(len(batch))
        try:
            results = await self._run_batch(lambda conn: _attempt(conn, batch, False))
        except Exception as exc:
            # Unavailable, every job would fail again alone: isolating them only doubles
            # the wait (SQLite's busy timeout) before each caller hears about it.
            results = (
                self._failed(exc, batch) if is_unavailable(exc) else await self._isolated(batch)
            )
        else:
            self._available()
        for job, result in zip(batch, results, strict=True):
            if job.future.done():
                continue
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    async def _isolated(self, batch: list[_Job]) -> list[Any]:
        try:
            results = await self._run_batch(lambda conn: _attempt(conn, batch, True))
        except Exception as exc:  # the commit itself failed: nobody's write landed
            return self._failed(exc, batch)
        self._available()
        return results

    def _failed(self, exc: Exception, batch: list[_Job]) -> list[Any]:
        if not is_unavailable(exc):
            log.exception("group commit failed")
        elif not self.unavailable:  # once per outage; each caller decides whether to wait it out
            log.warning("database unavailable for writes: %s", exc)
            self.unavailable = True
        return [exc] * len(batch)

    def _available(self) -> None:
        if self.unavailable:
            log.warning("database writable again")
            self.unavailable = False


def _attempt(conn: Connection, batch: list[_Job], force_isolation: bool) -> list[Any]:
    results: list[Any] = []
    with conn.begin():
        for job in batch:
            if not (job.isolated or force_isolation):
                results.append(job.work(conn))
                continue
            savepoint = conn.begin_nested()
            try:
                result = job.work(conn)
            except Exception as exc:
                savepoint.rollback()
                results.append(exc)
            else:
                savepoint.commit()
                results.append(result)
    return results
