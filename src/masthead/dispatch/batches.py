"""One write for the marks of many in-flight posts.

Each post in flight writes a sending mark, its answer and its outcome. Written one statement
per post, those writes cost about a millisecond of CPU each (SQL compilation and parameter
handling dominate, not the database) and held a worker to a few hundred posts a second. Here
every mark submitted during one turn of the event loop goes into one statement, and the
group committer (store/writer.py) puts that statement in the next durable commit: a burst of
posts pays per batch, while a lone post still goes out at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar, cast

from sqlalchemy.engine import Connection

from masthead.dispatch.resilience import EngineHealth
from masthead.store.database import Database

Item = TypeVar("Item")
Result = TypeVar("Result")


class WriteBatcher(Generic[Item, Result]):
    """`await batcher(item)` returns once `item` is durably written, with its own result.

    `write_many(conn, items)` writes all of them in one go and returns one result per item,
    in order, or None when there is nothing to tell (every item then gets None). It must not
    fail for one item alone (conditions go in its WHERE clauses): a failure fails every item
    of the batch, as a failed commit would. Through a database outage the batch is retried
    whole (one statement still), as `health` says, until it lands or the engine stops.
    """

    def __init__(
        self,
        db: Database,
        write_many: Callable[[Connection, Sequence[Item]], Sequence[Result] | None],
        health: EngineHealth,
    ) -> None:
        self._db = db
        self._write_many = write_many
        self._health = health
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flushes: set[asyncio.Task[None]] = set()

    async def __call__(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        if not self._pending:  # the first of this turn: flush once everyone ready has added
            loop.call_soon(self._flush)
        self._pending.append((item, future))
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.create_task(self._write(batch))
        self._flushes.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._flushes.discard)

    async def _write(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        items = [item for item, _ in batch]
        try:
            results = await self._health.persist(
                lambda: self._db.write(lambda c: self._write_many(c, items), isolated=False)
            )
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        if results is None:
            results = cast(list[Result], [None] * len(batch))
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
