"""The metrics collector: claims due checks in batches and reads published posts' metrics.

Its own loop beside the dispatcher and the event deliverer (any worker process runs one).
Claimed checks are grouped by account and read `metrics_batch` posts per request, so 10,000
X posts due at once cost 100 requests. Publishing comes first: while this process has a burst
of posts in flight, nothing is claimed and no request leaves. A platform's "wait" (429 with
Retry-After) on a read is written to the budget blocks, under the account's reads key, for
every worker; reads also obey the waits publishing was told (never the reverse). A check
that fails is retried within the first quarter of the gap to the next checkpoint, then
recorded with the platform's words. Outcomes, snapshots and `analytics.updated` events are
written together; a worker that dies lets its leases run out and the checks run elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from masthead.config import Settings
from masthead.dispatch.credentials import AccountCredentials
from masthead.dispatch.deliveries import BURST_IN_FLIGHT, YIELD_SECONDS
from masthead.dispatch.leases import LeasedRows
from masthead.domain.analytics import RECONNECT, post_gone, retry_at
from masthead.platforms.base import (
    AccountContext,
    AccountDisconnected,
    AccountInfo,
    MetricsReader,
    MetricsResult,
    MetricsSnapshot,
    Permanent,
    PostGone,
    PublishedPost,
    Publisher,
    Retryable,
)
from masthead.security import Secrets
from masthead.store import accounts, analytics
from masthead.store import budgets as budget_store
from masthead.store.database import Database
from masthead.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_IDLE_SLEEP = 15.0
"""Nothing due: look again after this at most (a refresh asked for meanwhile waits this long)."""
MIN_SLEEP = 0.5


def account_key(platform: str, account_id: int) -> str:
    """The budget key publishing waits on for this account (dispatch/engine.py)."""
    return f"{platform}:account:{account_id}"


def reads_key(platform: str, account_id: int) -> str:
    """Where a platform's "wait" on metrics reads is kept: the collector obeys publishing's
    waits too, but its own never hold publishing back."""
    return f"{account_key(platform, account_id)}:metrics"


class Collector(LeasedRows[analytics.ClaimedCheck]):
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
        """`publishing` tells how many posts this process is publishing right now."""
        lease = timedelta(seconds=settings.analytics_lease_seconds)
        super().__init__(db, analytics.claim, kind="an", lease=lease, clock=clock)
        self._readers: dict[str, MetricsReader] = {
            name: publisher
            for name, publisher in publishers.items()
            if isinstance(publisher, MetricsReader)
        }
        self._secrets = secrets
        self._publishing = publishing
        self._batch = settings.analytics_batch_size
        self._accounts = asyncio.Semaphore(settings.analytics_concurrency)
        self.requests = 0
        """Platform requests made (`fetch_metrics` calls), for the benchmark and tests."""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.health.started()
        self._task = asyncio.create_task(self._loop(), name="masthead-analytics")

    async def stop(self) -> None:
        """Stop claiming; checks being read are cut and handed back for anyone at once."""
        self._stop_claiming()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._db.write(lambda c: analytics.hand_back(c, owner=self.worker_id))

    async def _loop(self) -> None:
        while not self._stopping:
            if self._publishing() >= BURST_IN_FLIGHT:
                await asyncio.sleep(YIELD_SECONDS)
                continue
            self._wake.clear()
            if await self.run_once() == self._batch:
                continue
            await self._sleep()

    async def _sleep(self) -> None:
        await self._wait(
            lambda c: analytics.next_wakeup(c, self._clock()),
            longest=MAX_IDLE_SLEEP,
            shortest=MIN_SLEEP,
        )

    async def run_once(self) -> int:
        """Claim one batch of due checks, read them, record the outcomes; the number claimed."""
        now = self._clock()
        claimed = await self._claim(now, self._batch)
        if not claimed:
            return 0
        groups: dict[tuple[str, int], list[analytics.ClaimedCheck]] = {}
        for check in claimed:
            groups.setdefault((check.platform, check.account_id), []).append(check)
        results = await asyncio.gather(
            *(
                self._account(platform, account_id, checks)
                for (platform, account_id), checks in groups.items()
            )
        )
        outcomes = [outcome for group in results for outcome in group]
        await self.health.persist(
            lambda: self._db.write(
                lambda c: analytics.settle(c, owner=self.worker_id, outcomes=outcomes)
            )
        )
        return len(claimed)

    async def _account(
        self, platform: str, account_id: int, checks: list[analytics.ClaimedCheck]
    ) -> list[analytics.CheckOutcome]:
        async with self._accounts:
            reader = self._readers.get(platform)
            now = self._clock()
            if reader is None:  # its reader was removed since the checks were written
                return [
                    _ended(c, now, f"Analytics are not available for {platform}") for c in checks
                ]
            account = await self._db.read(lambda c: accounts.account_by_id(c, account_id))
            if account is None or account.status != "connected":
                await self._pause(account_id, None)
                return [_waiting(c, now) for c in checks]
            keys = [account_key(platform, account_id), reads_key(platform, account_id)]
            blocked = await self._db.read(lambda c: budget_store.blocked_until(c, keys))
            if blocked is not None and blocked > time.time():
                wait = blocked - time.time()
                return [_retry(c, now, "Rate limited by the platform", wait) for c in checks]
            credentials: dict[str, Any] = (
                orjson.loads(self._secrets.decrypt(account.credentials))
                if account.credentials
                else {}
            )
            info = AccountInfo(
                account.id, account.platform, account.external_id, account.username, credentials
            )
            ctx = AccountContext(info, AccountCredentials(self._db, self._secrets, account.id))
            outcomes: list[analytics.CheckOutcome] = []
            for start in range(0, len(checks), reader.metrics_batch):
                chunk = checks[start : start + reader.metrics_batch]
                outcomes += await self._read(reader, ctx, platform, account_id, chunk)
                if outcomes and outcomes[-1].waiting:
                    return outcomes + [_waiting(c, now) for c in checks[start + len(chunk) :]]
            return outcomes

    async def _read(
        self,
        reader: MetricsReader,
        ctx: AccountContext,
        platform: str,
        account_id: int,
        chunk: Sequence[analytics.ClaimedCheck],
    ) -> list[analytics.CheckOutcome]:
        while self._publishing() >= BURST_IN_FLIGHT:  # never ahead of publishing
            await asyncio.sleep(YIELD_SECONDS)
        posts: dict[str, PublishedPost] = {}
        for check in chunk:  # a post may have two checks due (a checkpoint and a refresh)
            posts[check.post_id] = PublishedPost(
                check.post_id,
                check.remote_id,
                check.public_url,
                check.published_at,
                check.target,
                check.data,
            )
        self.requests += 1
        try:
            answers = await reader.fetch_metrics(ctx, list(posts.values()))
        except AccountDisconnected as exc:
            await self._pause(account_id, exc.message)
            log.warning("account %s disconnected while reading metrics: %s", account_id, exc)
            return [_waiting(c, self._clock()) for c in chunk]
        except Retryable as exc:
            if exc.retry_after:
                until = time.time() + exc.retry_after
                key = reads_key(platform, account_id)
                await self._db.write(lambda c: budget_store.block(c, key, until))
            return [_retry(c, self._clock(), exc.message, exc.retry_after) for c in chunk]
        except Permanent as exc:
            return [_ended(c, self._clock(), exc.message) for c in chunk]
        now = self._clock()
        return [_answered(c, now, answers.get(c.post_id)) for c in chunk]

    async def _pause(self, account_id: int, reason: str | None) -> None:
        """Checks of a disconnected account wait for a reconnect; `reason` (the platform's
        words) disconnects it first, as a revoked token does when publishing."""
        now = self._clock()

        def work(conn: Connection) -> None:
            if reason is not None:
                accounts.disconnect(conn, account_id, reason, now)
            analytics.pause_account(conn, account_id, now)

        await self.health.persist(lambda: self._db.write(work))


def _outcome(check: analytics.ClaimedCheck, at: datetime, **fields: Any) -> analytics.CheckOutcome:
    return analytics.CheckOutcome(
        check.post_id, check.checkpoint, check.user_id, check.platform, at, **fields
    )


def _ended(check: analytics.ClaimedCheck, at: datetime, error: str) -> analytics.CheckOutcome:
    return _outcome(check, at, error=error, stop=True)


def _waiting(check: analytics.ClaimedCheck, at: datetime) -> analytics.CheckOutcome:
    return _outcome(check, at, error=RECONNECT, waiting=True)


def _retry(
    check: analytics.ClaimedCheck, at: datetime, error: str, retry_after: float | None = None
) -> analytics.CheckOutcome:
    """Again later if the check's retry window allows, else recorded as failed (the next
    checkpoint goes ahead)."""
    again = retry_at(at, check.attempt, check.deadline, retry_after)
    return _outcome(check, at, error=error, retry_at=again)


def _answered(
    check: analytics.ClaimedCheck, at: datetime, answer: MetricsResult | None
) -> analytics.CheckOutcome:
    if isinstance(answer, MetricsSnapshot):
        return _outcome(check, at, metrics=dict(answer.metrics), raw=dict(answer.raw))
    if isinstance(answer, PostGone):
        return _ended(check, at, post_gone(check.platform))
    if answer is None:
        return _retry(check, at, f"{check.platform} did not answer for this post")
    return _ended(check, at, answer.reason)
