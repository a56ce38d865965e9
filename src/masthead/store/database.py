"""The process's handle on the database: a read engine and the group-commit writer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from masthead.store.db import make_engine
from masthead.store.writer import GroupCommitter

T = TypeVar("T")


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.reader: AsyncEngine = make_engine(url, role="read")
        self._write_engine: AsyncEngine = make_engine(url, role="write")
        self.writer = GroupCommitter(self._write_engine)
        self._listener: Any = None

    async def start(self) -> None:
        await self.writer.start()

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        await self.writer.stop()
        await self.reader.dispose()
        await self._write_engine.dispose()

    def read(self) -> AsyncConnection:
        """`async with db.read() as conn:` for queries; never write through it."""
        return self.reader.connect()

    async def write(
        self, work: Callable[[AsyncConnection], Awaitable[T]], *, isolated: bool = True
    ) -> T:
        return await self.writer.write(work, isolated=isolated)

    async def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """PostgreSQL LISTEN on a connection of its own, kept for the life of the process.
        A lost connection is re-established by the next call (the dispatcher's housekeeping
        calls this again); meanwhile workers fall back to their bounded sleep."""
        if self.is_sqlite or (self._listener is not None and not self._listener.is_closed()):
            return
        url = self.url.replace("postgresql+asyncpg://", "postgresql://", 1)
        conn = await asyncpg.connect(url)
        await conn.add_listener(channel, lambda *_: callback())
        self._listener = conn

    async def ping(self) -> bool:
        try:
            async with self.read() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True
