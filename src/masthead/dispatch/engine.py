"""The dispatch engine: claims due posts in batches and publishes them, exactly once.

One loop per worker process. It sleeps until the earliest due time or until woken (a new or
moved post), claims up to `batch_size` due rows in one statement, and publishes them
concurrently. Leases are renewed while work is in flight; a worker that dies stops renewing
and any other worker takes its rows over when the leases end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
from cachetools import TTLCache
from sqlalchemy import text
from sqlalchemy.engine import Connection

from masthead.config import Settings
from masthead.dispatch.batches import WriteBatcher
from masthead.dispatch.credentials import AccountCredentials
from masthead.dispatch.port import CHANNEL
from masthead.dispatch.resilience import EngineHealth, EngineState, backoff_delay
from masthead.domain.budgets import Budget, PlatformBudgets, parse_budgets
from masthead.domain.posts import draft_from_json
from masthead.domain.states import OUTCOME_UNKNOWN_PREFIX, State
from masthead.media.library import MediaLibrary, PostMedia
from masthead.metrics import BUDGET_WAITS, DISPATCH_LAG, POSTS_BY_STATE, PUBLISH_OUTCOMES
from masthead.platforms.base import (
    AccountDisconnected,
    AccountInfo,
    AnswerLost,
    MetricsReader,
    NotSent,
    OutcomeUnknown,
    Permanent,
    PublishContext,
    Publisher,
    PublishError,
    Retryable,
    SentItem,
)
from masthead.platforms.registry import BUDGETS, COMMENTS, RULES, analytics_checkpoints
from masthead.security import Secrets
from masthead.store import accounts, queue, users
from masthead.store import budgets as budget_store
from masthead.store.budgets import BudgetSpent
from masthead.store.database import Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")

RETRY_DELAYS = (10.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)
"""Seconds before attempt n+1 when the platform gives no Retry-After."""
WINDOW_WAIT_SECONDS = 60.0
"""A platform's Retry-After at least this long is a rate/quota window, not a failure."""
MAX_IDLE_SLEEP = 30.0
"""Upper bound on a sleep, so a clock jump or a missed wake-up costs at most this."""
HEARTBEAT_SECONDS = 10.0
SENDER_CACHE_SECONDS = 5.0
"""A disconnected account stops being sent to within this long (it is checked at request
time too)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    def __init__(
        self,
        db: Database,
        publishers: dict[str, Publisher],
        settings: Settings,
        secrets: Secrets,
        *,
        media: MediaLibrary | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._db = db
        self._publishers = publishers
        self._secrets = secrets
        self._media = media
        self._clock = clock
        self._batch = settings.dispatch_batch_size
        self._concurrency = settings.dispatch_concurrency
        self._lease = timedelta(seconds=settings.dispatch_lease_seconds)
        self._max_attempts = settings.dispatch_max_attempts
        self._budgets = parse_budgets(settings.rate_budgets, BUDGETS)
        # Checks are written with the outcome, only for platforms whose metrics can be read.
        self._schedules = {
            name: checkpoints
            for name, checkpoints in analytics_checkpoints(settings).items()
            if settings.analytics_enabled and isinstance(publishers.get(name), MetricsReader)
        }
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.health = EngineHealth(lambda: db.writer.unavailable)
        self._sending: dict[str, asyncio.Semaphore] = {}
        """Per platform, the requests that may be on their way at once: a post's sending mark
        is written only once it holds one, just before its request leaves, so a crash leaves
        at most this many outcomes unknown (invariant 2)."""
        self._send_limit = settings.dispatch_send_concurrency
        self.last_loop_at: datetime | None = None
        self._sleep_until: datetime | None = None
        self._due_while_awake: datetime | None = None
        """The earliest due time announced since the last sleep ended (see `wake`)."""
        self._senders: TTLCache[tuple[int, str], tuple[accounts.AccountRow, dict[str, Any], str]]
        self._senders = TTLCache(maxsize=10_000, ttl=SENDER_CACHE_SECONDS)
        self._sender_loads: dict[
            tuple[int, str], asyncio.Future[tuple[accounts.AccountRow, dict[str, Any], str] | None]
        ] = {}
        self._blocks: dict[str, float] = {}
        """Budget keys a platform told every worker to wait on (unix time until), as read
        with the last claim: a platform's wait reaches the other workers within one claim."""
        self._mark_sending: WriteBatcher[queue.SendingMark, bool] = WriteBatcher(
            db,
            lambda c, marks: queue.mark_sending(
                c, owner=self.worker_id, now=self._clock(), marks=marks
            ),
            self.health,
        )
        self._mark_sent: WriteBatcher[queue.SentMark, None] = WriteBatcher(
            db, queue.mark_sent, self.health
        )
        self._record_outcome: WriteBatcher[queue.Outcome, bool] = WriteBatcher(
            db,
            lambda c, outcomes: queue.finish(
                c,
                owner=self.worker_id,
                outcomes=outcomes,
                schedules=self._schedules,
                commented=COMMENTS,
            ),
            self.health,
        )

    def wake(self, due_at: datetime | None = None) -> None:
        """Called by the port (dispatch/port.py) after a post is stored, moved or cancelled,
        and by NOTIFY. A post due after the current sleep's end needs no wake-up: a burst of
        far-future posts then costs the engine nothing. While it is awake (claiming, reading
        its next wake-up), a post due later is kept for its next sleep to end by, rather than
        making that sleep end at once: under steady API traffic every group commit stored
        posts while it was awake, so it went round claiming and reading after every commit."""
        if due_at is None:
            self._wake.set()
        elif self._sleep_until is not None:
            if due_at < self._sleep_until:
                self._wake.set()
        elif due_at <= self._clock():
            self._wake.set()
        elif self._due_while_awake is None or due_at < self._due_while_awake:
            self._due_while_awake = due_at

    def in_flight(self) -> int:
        """Posts being published now (event deliveries yield to a burst of them)."""
        return len(self._inflight)

    @property
    def state(self) -> EngineState:
        """`stopped` when not started, stopping, or (a bug) a supervisor itself ended."""
        if not self._tasks or any(task.done() for task in self._tasks):
            return EngineState.STOPPED
        return self.health.state

    async def start(self) -> None:
        self.health.started()
        await self._heartbeat()
        await self._listen()
        self._tasks = [
            asyncio.create_task(
                self._supervise("dispatch loop", self._loop), name="masthead-dispatch"
            ),
            asyncio.create_task(
                self._supervise("dispatch housekeeping", self._housekeeping),
                name="masthead-dispatch-housekeeping",
            ),
        ]

    async def _supervise(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        """Run `body` for the life of the engine; restart it (after a backoff) if it ever ends
        on its own. Outages are waited out inside the loops; this catches the rest (bugs)."""
        restarts = 0
        while not self._stopping:
            try:
                await body()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s crashed; restarting it", name)
            else:
                if self._stopping:
                    return
                log.error("%s ended unexpectedly; restarting it", name)
            restarts += 1
            await asyncio.sleep(backoff_delay(restarts))

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, let in-flight work finish for up to `timeout`, hand back the rest."""
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._inflight:
            _, pending = await asyncio.wait(list(self._inflight.values()), timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        # From here a failed write is not retried: what cannot be handed back now is taken
        # over when its lease ends.
        self.health.stopped()
        try:
            handed_back = await self._write(self._hand_back)
        except Exception as exc:
            log.warning("worker %s could not hand its posts back (%s)", self.worker_id, exc)
        else:
            if handed_back:
                log.info("worker %s handed back %d posts", self.worker_id, handed_back)
        self._tasks = []

    def _hand_back(self, conn: Connection) -> int:
        count = queue.hand_back(conn, owner=self.worker_id, now=self._clock())
        queue.remove_worker(conn, self.worker_id)
        if count and not self._db.is_sqlite:  # wake the other workers now
            conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
        return count

    async def _loop(self) -> None:
        while not self._stopping:
            self.last_loop_at = self._clock()
            free = self._concurrency - len(self._inflight)
            claimed: list[queue.ClaimedPost] = []
            if free > 0:
                claimed = await self._claim(min(free, self._batch))
                for post in claimed:
                    if post.id in self._inflight:
                        # Its lease ran out during an outage and this worker took it again:
                        # the task that holds it goes on.
                        continue
                    self._inflight[post.id] = asyncio.create_task(
                        self._run(post), name=f"publish-{post.id}"
                    )
                if len(claimed) == min(free, self._batch):
                    await asyncio.sleep(0)
                    continue
            await self._sleep(free > 0)

    async def _claim(self, limit: int) -> list[queue.ClaimedPost]:
        now = self._clock()

        def claim(c: Connection) -> tuple[list[queue.ClaimedPost], dict[str, float]]:
            claimed = queue.claim(
                c,
                owner=self.worker_id,
                now=now,
                lease=self._lease,
                limit=limit,
                skip_locked=not self._db.is_sqlite,
            )
            return claimed, budget_store.blocks(c, time.time()) if claimed else self._blocks

        claimed, self._blocks = await self._write(claim)
        self.health.claimed(now)
        for post in claimed:
            if post.attempt == 1:
                DISPATCH_LAG.labels(post.platform).observe(
                    max(0.0, (now - post.due_at).total_seconds())
                )
        return claimed

    async def _sleep(self, can_claim: bool) -> None:
        timeout = MAX_IDLE_SLEEP
        if can_claim:
            next_at = await self._read(queue.next_wakeup)
            if next_at is not None:
                timeout = min(timeout, max(0.0, (next_at - self._clock()).total_seconds()))
        announced, self._due_while_awake = self._due_while_awake, None
        if announced is not None:
            timeout = min(timeout, max(0.0, (announced - self._clock()).total_seconds()))
        if timeout <= 0:
            await asyncio.sleep(0.001)  # due now but held by a live lease: don't spin hot
            return
        self._sleep_until = self._clock() + timedelta(seconds=timeout)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            self._sleep_until = None
        self._wake.clear()

    async def _housekeeping(self) -> None:
        """Renew the leases of in-flight posts, beat the heart, refresh the state gauge."""
        interval = min(HEARTBEAT_SECONDS, self._lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(interval)
            if self._inflight:
                await self._renew(list(self._inflight), self._clock() + self._lease)
            await self._heartbeat()
            await self._listen()
            counts = await self.health.persist(
                lambda: self._db.read_aside(queue.counts_by_state), write=False
            )
            for state, count in counts.items():
                POSTS_BY_STATE.labels(state).set(count)

    async def _renew(self, ids: list[str], until: datetime) -> None:
        await self._write(lambda c: queue.renew(c, owner=self.worker_id, ids=ids, until=until))

    async def _listen(self) -> None:
        """Wake-ups from other processes (PostgreSQL NOTIFY); none needed on SQLite."""
        try:
            await self._db.listen(CHANNEL, self.wake)
        except Exception:
            log.exception("cannot LISTEN for new posts; polling every %ss", MAX_IDLE_SLEEP)

    async def _heartbeat(self) -> None:
        now = self._clock()
        await self._write(
            lambda c: queue.heartbeat(
                c,
                worker_id=self.worker_id,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                now=now,
            )
        )

    async def _run(self, post: queue.ClaimedPost) -> None:
        try:
            await self._publish(post)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug, not a platform answer: keep the row for a retry
            log.exception("dispatch of post %s crashed", post.id)
            try:
                await self._retry(post, "Internal error while publishing; will retry", None)
            except Exception as exc:  # stopping: the lease's end hands it to the next worker
                log.warning("post %s left for its lease to end (%s)", post.id, exc)
        finally:
            self._inflight.pop(post.id, None)
            self._wake.set()

    async def _publish(self, post: queue.ClaimedPost) -> None:
        publisher = self._publishers.get(post.platform)
        if publisher is None:
            await self._finish(post, State.FAILED, error=f"No publisher for {post.platform}")
            return

        sender = await self._sender(post)
        if sender is None:
            await self._finish(
                post, State.FAILED, error="Invalid account credentials: the account is disconnected"
            )
            return
        account, credentials, signing_secret = sender
        existing: dict[int, Any] = {}
        if post.started_at is not None:  # an earlier attempt began sending: resume or reconcile
            rows = await self._read(lambda conn: queue.existing_items(conn, post.id))
            existing = {row.position: row for row in rows}
        draft = draft_from_json(post.draft)
        info = AccountInfo(
            account.id, account.platform, account.external_id, account.username, credentials
        )
        store = AccountCredentials(
            self._db, self._secrets, account.id, on_change=lambda: self._forget_sender(post)
        )
        post_media = (
            PostMedia(
                self._media,
                post.user_id,
                RULES[draft.target_type].files_for(draft.target.get("mediaType")),
            )
            if self._media is not None and draft.target_type in RULES
            else None
        )
        sent: list[SentItem] = []
        for position in range(len(draft.items)):
            ctx = PublishContext(
                post_id=post.id,
                account=info,
                target=draft.target,
                items=draft.items,
                scheduled_at=post.scheduled_at,
                signing_secret=signing_secret,
                previous=tuple(sent),
                credentials=store,
                media=post_media,
            )
            row = existing.get(position)
            if row is not None and row.state == "sent":
                sent.append(SentItem(row.remote_id, row.public_url, row.data or {}))
                continue
            if row is not None:  # a sending mark with no answer: a crash mid-call
                try:
                    async with self._slot(post.platform):
                        item = await self._reconcile(publisher, ctx, position, row.data or {})
                except NotSent as exc:  # the platform shows it never became a post
                    await self._forget_unsent(post.id, position)
                    await self._retry(post, exc.message, exc.retry_after)
                    return
                except Retryable as exc:  # the platform could not be asked now; the mark stays
                    await self._retry(post, exc.message, exc.retry_after, unknown=True)
                    return
                if item is None:
                    await self._finish(
                        post,
                        State.FAILED,
                        outcome_unknown=True,
                        error=f"{OUTCOME_UNKNOWN_PREFIX}the worker stopped after sending "
                        f"item {position + 1} and before its answer was stored; check the "
                        "platform before posting again",
                    )
                    return
                await self._mark_sent(
                    queue.SentMark(
                        post.id, position, item.remote_id, item.public_url, item.data, self._clock()
                    )
                )
            else:
                if await self._wait_for_budget(post):
                    return
                item = await self._send_one(post, publisher, ctx, position, sent)
                if item is None:
                    return
            sent.append(item)
        await self._finish(post, State.PUBLISHED, public_url=sent[0].public_url)

    async def _write(self, work: Callable[[Connection], T]) -> T:
        """The queue's writes are updates by key that cannot fail on their own, so they skip
        the per-write savepoint (a failure still falls back to isolated retries). Each is
        retried through a database outage."""
        return await self.health.persist(lambda: self._db.write(work, isolated=False))

    async def _read(self, work: Callable[[Connection], T]) -> T:
        return await self.health.persist(lambda: self._db.read(work), write=False)

    def _slot(self, platform: str) -> asyncio.Semaphore:
        slot = self._sending.get(platform)
        if slot is None:
            slot = self._sending[platform] = asyncio.Semaphore(self._send_limit)
        return slot

    async def _sender(
        self, post: queue.ClaimedPost
    ) -> tuple[accounts.AccountRow, dict[str, Any], str] | None:
        """The account (credentials decrypted) and the user's signing secret, cached for a
        few seconds: a burst of posts for one account reads and decrypts them once."""
        key = (post.account_id, post.user_id)
        cached = self._senders.get(key)
        if cached is not None:
            return cached
        # One read per account however many posts ask at once: in a burst every task of a
        # claim asks before the first answer lands (on PostgreSQL, a quarter of the worker's
        # time went to 10,000 identical reads and decryptions).
        loading = self._sender_loads.get(key)
        if loading is None:
            loading = self._sender_loads[key] = asyncio.ensure_future(self._load_sender(key))
            loading.add_done_callback(lambda _: self._sender_loads.pop(key, None))
        return await asyncio.shield(loading)

    async def _load_sender(
        self, key: tuple[int, str]
    ) -> tuple[accounts.AccountRow, dict[str, Any], str] | None:
        account_id, user_id = key

        def load(conn: Connection) -> tuple[accounts.AccountRow | None, str]:
            return (
                accounts.account_by_id(conn, account_id),
                users.webhook_secret(conn, self._secrets, user_id),
            )

        account, secret = await self._read(load)
        if account is None or account.status != "connected":
            return None
        credentials: dict[str, Any] = (
            orjson.loads(self._secrets.decrypt(account.credentials)) if account.credentials else {}
        )
        self._senders[key] = (account, credentials, secret)
        return account, credentials, secret

    def _budget_keys(self, post: queue.ClaimedPost) -> list[tuple[str, Budget | None]]:
        budgets = self._budgets.get(post.platform, PlatformBudgets())
        return [
            (f"{post.platform}:account:{post.account_id}", budgets.account),
            (f"{post.platform}:app", budgets.app),
        ]

    async def _wait_for_budget(self, post: queue.ClaimedPost) -> bool:
        """Spend one unit of the post's budgets (shared by all workers through the database);
        when one is spent, put the post back until it refills. True: the post was put back."""
        wants = self._budget_keys(post)
        now = time.time()
        try:
            if any(budget is not None for _, budget in wants):
                await self.health.persist(
                    lambda: self._db.write(lambda c: budget_store.spend(c, wants, now))
                )
            else:  # nothing to count: only a platform's "wait" can hold the post back
                blocked = max((self._blocks.get(key, 0.0) for key, _ in wants), default=0.0)
                if blocked > now:
                    raise BudgetSpent(blocked - now)
        except BudgetSpent as exc:
            at = self._clock() + timedelta(seconds=exc.wait)
            await self._write(
                lambda c: queue.defer(
                    c, post_id=post.id, owner=self.worker_id, now=self._clock(), at=at
                )
            )
            BUDGET_WAITS.labels(post.platform).inc()
            log.info("post %s waits %.1fs for its %s budget", post.id, exc.wait, post.platform)
            return True
        return False

    async def _block_budget(self, post: queue.ClaimedPost, seconds: float) -> None:
        """The platform said how long to wait: every worker waits for this account."""
        key = self._budget_keys(post)[0][0]
        until = time.time() + seconds
        await self.health.persist(
            lambda: self._db.write(lambda c: budget_store.block(c, key, until))
        )
        self._blocks[key] = max(until, self._blocks.get(key, 0.0))

    def _forget_sender(self, post: queue.ClaimedPost) -> None:
        self._senders.pop((post.account_id, post.user_id), None)

    async def _disconnect(self, post: queue.ClaimedPost, reason: str) -> None:
        now = self._clock()
        await self._write(lambda c: accounts.disconnect(c, post.account_id, reason, now))
        self._forget_sender(post)
        log.warning("account %s disconnected: %s", post.account_id, reason)

    async def _forget_unsent(self, post_id: str, position: int) -> None:
        await self._write(lambda c: queue.forget_unsent(c, post_id=post_id, position=position))

    async def _send_one(
        self,
        post: queue.ClaimedPost,
        publisher: Publisher,
        ctx: PublishContext,
        position: int,
        sent: list[SentItem],
    ) -> SentItem | None:
        """Prepare, mark, send, store the answer. None: the post is settled (published with
        its last item, retry, failure or dropped)."""
        try:
            prepared = await publisher.prepare(ctx, position)
        except AccountDisconnected as exc:
            await self._disconnect(post, exc.message)
            await self._finish(post, State.FAILED, error=_thread_error(exc.message, sent))
            return None
        except Permanent as exc:
            await self._finish(post, State.FAILED, error=_thread_error(exc.message, sent))
            return None
        except PublishError as exc:  # prepare creates nothing visible: always retry-safe
            await self._retry(post, exc.message, getattr(exc, "retry_after", None))
            return None
        slot = self._slot(post.platform)
        await slot.acquire()
        try:
            # Raises when the mark cannot be written: then nothing is sent (`_run` retries).
            marked = await self._mark_sending(
                queue.SendingMark(post.id, post.version, position, prepared)
            )
        except BaseException:
            slot.release()
            raise
        if not marked:
            slot.release()
            log.info("post %s changed after it was claimed; not sending", post.id)
            return None
        try:
            try:
                item = await publisher.send(ctx, position, prepared)
            finally:
                slot.release()
        except Retryable as exc:
            await self._write(lambda c: queue.forget_unsent(c, post_id=post.id, position=position))
            await self._retry(post, exc.message, exc.retry_after)
        except Permanent as exc:
            await self._write(lambda c: queue.forget_unsent(c, post_id=post.id, position=position))
            if isinstance(exc, AccountDisconnected):
                await self._disconnect(post, exc.message)
            await self._finish(post, State.FAILED, error=_thread_error(exc.message, sent))
        except OutcomeUnknown as exc:
            await self._finish(
                post, State.FAILED, outcome_unknown=True, error=OUTCOME_UNKNOWN_PREFIX + exc.message
            )
        except AnswerLost as exc:  # the mark stays: the next attempt reconciles (redelivers)
            await self._retry(post, exc.message, None, unknown=True)
        except Exception as exc:  # the request may have left: never guess
            log.exception("publisher %s crashed while sending %s", publisher.platform, post.id)
            await self._finish(
                post,
                State.FAILED,
                outcome_unknown=True,
                error=f"{OUTCOME_UNKNOWN_PREFIX}internal error while sending "
                f"({type(exc).__name__})",
            )
        else:
            answer = queue.SentMark(
                post.id, position, item.remote_id, item.public_url, item.data, self._clock()
            )
            if position < len(ctx.items) - 1:
                await self._mark_sent(answer)
                return item
            # The last item's answer goes in the outcome's commit: a commit less on each
            # post's way.
            first = sent[0] if sent else item
            await self._finish(post, State.PUBLISHED, public_url=first.public_url, answer=answer)
        return None

    async def _reconcile(
        self, publisher: Publisher, ctx: PublishContext, position: int, data: dict[str, Any]
    ) -> SentItem | None:
        try:
            return await publisher.reconcile(ctx, position, data)
        except Retryable:  # NotSent, or not told yet: the caller decides
            raise
        except Exception:
            log.exception("reconcile of %s item %d failed", ctx.post_id, position)
            return None

    async def _retry(
        self,
        post: queue.ClaimedPost,
        error: str,
        retry_after: float | None,
        *,
        unknown: bool = False,
    ) -> None:
        """Put the post back for a later attempt. `unknown`: a sending mark stays unanswered,
        so giving up leaves the outcome unknown."""
        if retry_after:
            await self._block_budget(post, retry_after)
        # A platform that names a wait of a minute or more is announcing a rate or quota
        # window (X's 15 minutes, YouTube's quota day, Instagram's 24 hours): waiting for it
        # is not a failed attempt, or a busy day would fail posts that only had to wait.
        window = retry_after is not None and retry_after >= WINDOW_WAIT_SECONDS
        if post.attempt >= self._max_attempts and not window:
            await self._finish(
                post,
                State.FAILED,
                error=f"{OUTCOME_UNKNOWN_PREFIX if unknown else ''}{error} "
                f"(gave up after {post.attempt} attempts)",
                outcome_unknown=unknown,
            )
            return
        delay = (
            retry_after
            if retry_after is not None
            else RETRY_DELAYS[min(post.attempt - 1, len(RETRY_DELAYS) - 1)]
        )
        now = self._clock()
        at = now + timedelta(seconds=max(1.0, delay))
        await self._write(
            lambda c: queue.retry_later(
                c,
                post_id=post.id,
                owner=self.worker_id,
                now=now,
                at=at,
                error=error,
                count_attempt=not window,
            )
        )
        PUBLISH_OUTCOMES.labels(post.platform, "retry").inc()
        log.info("post %s will retry at %s: %s", post.id, at.isoformat(), error)

    async def _finish(
        self,
        post: queue.ClaimedPost,
        state: State,
        *,
        public_url: str | None = None,
        error: str | None = None,
        outcome_unknown: bool = False,
        answer: queue.SentMark | None = None,
    ) -> None:
        await self._record_outcome(
            queue.Outcome(
                post.id,
                post.platform,
                state,
                self._clock(),
                public_url,
                error,
                outcome_unknown,
                answer,
            )
        )
        outcome = "unknown" if outcome_unknown else str(state)
        PUBLISH_OUTCOMES.labels(post.platform, outcome).inc()
        log.info(
            "post %s %s",
            post.id,
            outcome,
            extra={"post_id": post.id, "platform": post.platform, "error": error},
        )


def _thread_error(message: str, sent: list[SentItem]) -> str:
    if not sent:
        return message
    urls = ", ".join(item.public_url for item in sent)
    return f"{message} (thread item {len(sent) + 1}; the first {len(sent)} were published: {urls})"
