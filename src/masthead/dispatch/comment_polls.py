"""The comment poller: every MASTHEAD_COMMENTS_POLL_SECONDS it claims, in batches, the
published posts due a look for new comments (each on the contract's schedule: every 10 min in
its first day, hourly to day 7, every 6 h to day 45) and stores what their platform lists,
once per platform comment id. Publishing comes first: no claim while this process is busy
with a burst of posts (as the event deliveries do)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from cachetools import TTLCache
from sqlalchemy.engine import Connection

from masthead.config import Settings
from masthead.dispatch.comments import published
from masthead.dispatch.credentials import account_context
from masthead.dispatch.deliveries import BURST_IN_FLIGHT
from masthead.dispatch.leases import LeasedRows
from masthead.domain.comments import next_poll_at, poll_interval
from masthead.platforms.base import (
    AccountContext,
    CommentsReader,
    PostGone,
    Publisher,
    PublishError,
    RemoteComment,
    Retryable,
)
from masthead.security import Secrets
from masthead.store import comments as store
from masthead.store.database import Database
from masthead.timeutil import utcnow

log = logging.getLogger(__name__)
YIELD_SECONDS = 0.05
ACCOUNT_CACHE_SECONDS = 30.0
"""A removed or disconnected account stops being polled within this long."""
Capture = tuple[store.Captured, Sequence[RemoteComment]]


class CommentPoller(LeasedRows[store.DuePoll]):
    def __init__(
        self,
        db: Database,
        publishers: dict[str, Publisher],
        settings: Settings,
        secrets: Secrets,
        *,
        publishing: Callable[[], int] = lambda: 0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        lease = timedelta(seconds=settings.dispatch_lease_seconds)
        super().__init__(db, store.claim_polls, kind="cp", lease=lease, clock=clock)
        self._publishers = publishers
        self._secrets = secrets
        self._publishing = publishing
        self._every = settings.comments_poll_seconds
        self._batch = settings.comments_poll_batch_size
        self._slots = asyncio.Semaphore(settings.comments_concurrency)
        self._task: asyncio.Task[None] | None = None
        self._accounts: TTLCache[int, AccountContext | None] = TTLCache(
            maxsize=10_000, ttl=ACCOUNT_CACHE_SECONDS
        )

    async def start(self) -> None:
        self.health.started()
        self._task = asyncio.create_task(self._loop(), name="masthead-comment-polls")

    async def stop(self) -> None:
        self._stop_claiming()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.poll_due()
            except Exception:
                log.exception("comment polling failed; will try again")
            await self._wait(None, longest=self._every, shortest=self._every)

    async def poll_due(self) -> int:
        """Poll every post due now, batch after batch; returns the posts polled."""
        polled = 0
        while True:
            while self._publishing() >= BURST_IN_FLIGHT:
                await asyncio.sleep(YIELD_SECONDS)
            due = await self._claim(self._clock(), self._batch)
            await asyncio.gather(*(self._poll(poll) for poll in due))
            polled += len(due)
            if len(due) < self._batch:
                return polled

    async def _poll(self, poll: store.DuePoll) -> None:
        async with self._slots:
            # Publishing first: a burst that starts mid-round holds the remaining polls
            # back (checked with the slot in hand, so none slips through while waiting).
            while self._publishing() >= BURST_IN_FLIGHT:
                await asyncio.sleep(YIELD_SECONDS)
            next_at, capture = await self._look(poll)
        now = self._clock()

        def write(conn: Connection) -> None:
            if capture is not None:
                store.capture(conn, capture[0], capture[1], now)
            store.polled(conn, owner=self.worker_id, post_id=poll.post_id, at=now, next_at=next_at)

        await self.health.persist(lambda: self._db.write(write))

    async def _account(self, account_id: int) -> AccountContext | None:
        """Read and decrypted once per account for a while, not once per post."""
        if account_id not in self._accounts:
            self._accounts[account_id] = await account_context(self._db, self._secrets, account_id)
        return self._accounts[account_id]

    async def _look(self, poll: store.DuePoll) -> tuple[datetime | None, Capture | None]:
        """Look once: when to look next (None: never again), and what to store."""
        ref = await self._db.read(lambda c: store.published_post(c, poll.post_id))
        post = published(ref) if ref is not None else None
        reader = self._publishers.get(ref.platform) if ref is not None else None
        if ref is None or post is None or not isinstance(reader, CommentsReader):
            return None, None
        now = self._clock()
        ctx = await self._account(ref.account_id)
        if ctx is None:  # disconnected for now: a reconnected account is polled again
            return next_poll_at(poll.published_at, now), None
        try:
            found = await reader.list_comments(ctx, post, poll.last_polled_at)
        except Retryable as exc:
            interval = poll_interval(now - poll.published_at)
            if interval is None:
                return None, None
            wait = timedelta(seconds=exc.retry_after) if exc.retry_after else interval
            return now + min(wait, interval), None
        except PublishError as exc:
            log.info("comments of post %s could not be read: %s", poll.post_id, exc.message)
            return next_poll_at(poll.published_at, now), None
        if isinstance(found, PostGone):
            return None, None
        where = store.Captured(ref.user_id, ref.account_id, ref.id, ref.platform)
        return next_poll_at(poll.published_at, now), (where, found)
