"""The process's handle on the database: reads, and writes through the group committer.

Every unit of work is a synchronous function of a `Connection` (see store/db.py for why), so
callers write `await db.read(lambda c: accounts.get_account(c, user, 7))`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import Connection

from masthead.store.db import (
    BUSY_TIMEOUT_MS,
    is_sqlite,
    normalise_url,
    postgres_engine,
    sqlite_engine,
)
from masthead.store.thread import OneThread
from masthead.store.writer import GroupCommitter

T = TypeVar("T")
Work = Callable[[Connection], T]

READ_CONNECTIONS = 2
CHECKPOINT_SECONDS = 1.0
WAL_RESTART_FRAMES = 8192
"""About 32 MiB of WAL (4 KiB pages): past this the WAL is started over (`_checkpoints`)."""
RESTART_WAIT_MS = 50
"""How long a RESTART checkpoint may hold new writes back waiting for readers; past it, it
ends as a PASSIVE one and the next second tries again."""
log = logging.getLogger(__name__)


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = is_sqlite(url)
        self._listener: Any = None
        self._channels: set[str] = set()
        if self.is_sqlite:
            self._sqlite_reader = sqlite_engine(self.url, role="read", pool_size=READ_CONNECTIONS)
            self._sqlite_writer = sqlite_engine(self.url, role="write")
            self._write_thread = OneThread("masthead-write")
            self._write_connection: Connection | None = None
            """The writer's connection, kept from one batch to the next (`_writing`)."""
            self._checkpoint_thread = OneThread("masthead-checkpoint")
            self._checkpointer: asyncio.Task[None] | None = None
            self.writer = GroupCommitter(self._run_write_batch_sqlite)
        else:
            self._pg_reader = postgres_engine(self.url, role="read")
            self._pg_writer = postgres_engine(self.url, role="write")
            self.writer = GroupCommitter(self._run_write_batch_postgres)

    async def start(self) -> None:
        await self.writer.start()
        if self.is_sqlite:
            self._checkpointer = asyncio.create_task(self._checkpoints(), name="checkpoints")

    async def _checkpoints(self) -> None:
        """Copy the WAL back into the database once a second without blocking the writer
        (PASSIVE), so that no commit pays for a checkpoint.

        Under steady writes a PASSIVE checkpoint never catches up with the end of the WAL, and
        SQLite starts the WAL over only after one has: the file grew to 381 MB in a 4-minute
        soak, and reads and checkpoints slowed with it. So once the WAL is longer than
        WAL_RESTART_FRAMES, a RESTART checkpoint (`_restart_wal`) lets the next commit start
        the WAL over."""
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                frames = await self._checkpoint_thread.run(lambda: self._checkpoint("PASSIVE"))
                if frames > WAL_RESTART_FRAMES:
                    await self._restart_wal()
            except Exception:
                log.exception("WAL checkpoint failed; will try again")

    def _checkpoint(self, mode: str) -> int:
        """Run a checkpoint beside the writer; returns the frames in the WAL (SQLite's second
        result)."""
        with self._sqlite_reader.connect() as conn:
            row = conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})").one()
        return int(row[1])

    async def _restart_wal(self) -> None:
        """A RESTART checkpoint on the writer's own thread and connection, between two group
        commits. It needs the write lock: taken from another connection, it and the writer
        polled each other through SQLite's busy handler, whose sleeps grow to 25 ms, so a
        batch slept on after the lock was free (up to 44 ms in a store bench), and a RESTART
        that found a batch running gave up after RESTART_WAIT_MS (the WAL then grew on; 22 of
        35 gave up in that bench). Here the lock is free and the next batch starts the moment
        the checkpoint ends. What it still waits for is readers on an older snapshot, for at
        most RESTART_WAIT_MS (with the connections' 10 s busy timeout one slow reader held
        every write back for seconds: the soak's 1-3 s p99 spikes); past that it ends as a
        PASSIVE checkpoint and the next second tries again."""

        def restart() -> None:
            # The driver's own connection: through SQLAlchemy the PRAGMA would run inside
            # the writer's BEGIN IMMEDIATE, where SQLite refuses to checkpoint.
            raw = self._writing().connection.driver_connection
            assert raw is not None
            raw.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
            try:
                raw.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            finally:
                raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

        await self._write_thread.run(restart)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        await self.writer.stop()
        if self.is_sqlite:
            if self._checkpointer is not None:
                self._checkpointer.cancel()
                await asyncio.gather(self._checkpointer, return_exceptions=True)
            self._write_thread.shutdown()
            self._stop_writing()
            self._checkpoint("TRUNCATE")
            self._checkpoint_thread.shutdown()
            self._sqlite_reader.dispose()
            self._sqlite_writer.dispose()
        else:
            await self._pg_reader.dispose()
            await self._pg_writer.dispose()

    async def read(self, work: Work[T]) -> T:
        """Run a read-only unit of work (one snapshot); never write through it.

        On SQLite the read runs right here on the event loop: an indexed lookup in WAL mode
        never waits for the writer and takes tens of microseconds, less than a hop to a
        thread and back (measured: 0.3 ms per read through a thread pool)."""
        if self.is_sqlite:
            with self._sqlite_reader.connect() as conn:
                return work(conn)
        async with self._pg_reader.connect() as conn:
            return await conn.run_sync(work)

    async def read_aside(self, work: Work[T]) -> T:
        """A read that scans (a gauge over every waiting post): on SQLite it runs in a thread
        so that the event loop keeps serving meanwhile (measured: 85-140 ms with a million
        scheduled posts, inline, every 10 s). The same as `read` on PostgreSQL."""
        if self.is_sqlite:

            def run() -> T:
                with self._sqlite_reader.connect() as conn:
                    return work(conn)

            return await asyncio.to_thread(run)
        return await self.read(work)

    async def write(self, work: Work[T], *, isolated: bool = True) -> T:
        """Run `work` in the next group transaction; return once it is durably committed."""
        return await self.writer.write(work, isolated=isolated)

    async def _run_write_batch_sqlite(self, batch: Callable[[Connection], T]) -> T:
        return await self._write_thread.run(lambda: self._write_sqlite(batch))

    def _write_sqlite(self, batch: Callable[[Connection], T]) -> T:
        conn = self._writing()
        try:
            return batch(conn)
        except BaseException:
            self._stop_writing()  # a fresh one next time, as the pool's reset would give
            raise

    def _writing(self) -> Connection:
        """The write connection, on the write thread: checked out of the pool once and kept,
        since a checkout and its reset per batch cost 40 of the 88 us of SQLAlchemy's part in
        a one-row commit (each write is its own commit under a light load)."""
        conn = self._write_connection
        if conn is None or conn.closed or conn.invalidated:
            if conn is not None:
                conn.close()
            conn = self._write_connection = self._sqlite_writer.connect()
        return conn

    def _stop_writing(self) -> None:
        conn, self._write_connection = self._write_connection, None
        if conn is not None:
            conn.close()

    async def _run_write_batch_postgres(self, batch: Callable[[Connection], T]) -> T:
        async with self._pg_writer.connect() as conn:
            return await conn.run_sync(batch)

    async def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """PostgreSQL LISTEN on a connection of its own, kept for the life of the process.
        A lost connection is re-established by the next call (the dispatcher's housekeeping
        calls this again); meanwhile workers fall back to their bounded sleep."""
        if self.is_sqlite:
            return
        if self._listener is None or self._listener.is_closed():
            url = self.url.replace("postgresql+asyncpg://", "postgresql://", 1)
            self._listener = await asyncpg.connect(url)
            self._channels = set()
        if channel not in self._channels:  # one connection serves every channel
            await self._listener.add_listener(channel, lambda *_: callback())
            self._channels.add(channel)

    async def ping(self) -> bool:
        try:
            await self.read(lambda conn: conn.execute(text("SELECT 1")).scalar())
        except Exception:
            return False
        return True
