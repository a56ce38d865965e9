"""The outbound comment loop: claims queued comments in batches and posts them, with the
post guarantees (contract section 10, ARCHITECTURE.md invariants 1 and 2).

A comment is durable before `POST /v2/comments` answers; here its sending mark is written
durably before the platform call and its platform id after it. A comment found with a mark
but no id (the process died, or the answer was lost) is settled by `find_comment`, never
sent again; when that cannot tell, it ends `failed` with "Outcome unknown:". Errors where the
platform certainly did not act are retried with the engine's backoff. Its own loop and bound
on calls in flight, beside the post dispatcher, under its own EngineHealth.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from masthead.config import Settings
from masthead.dispatch import engine
from masthead.dispatch.credentials import account_context
from masthead.dispatch.leases import LeasedRows, drain
from masthead.domain.comments import (
    MISSING_PERMISSION_MESSAGE,
    OUTCOME_UNKNOWN_PREFIX,
    CommentRefused,
    ErrorCode,
)
from masthead.domain.events import COMMENT_FAILED, COMMENT_POSTED
from masthead.platforms.base import (
    AccountContext,
    AccountDisconnected,
    CommentDraft,
    CommentsWriter,
    OutcomeUnknown,
    Permanent,
    PublishedPost,
    Publisher,
    PublishError,
    Retryable,
)
from masthead.security import Secrets
from masthead.store import comments as store
from masthead.store import events
from masthead.store.database import Database
from masthead.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_IDLE_SLEEP = 30.0


def published(ref: store.PublishedRef) -> PublishedPost | None:
    if ref.remote_id is None or ref.finished_at is None:
        return None
    return PublishedPost(
        ref.id, ref.remote_id, ref.public_url, ref.finished_at, ref.target, ref.data
    )


class CommentSender(LeasedRows[store.ClaimedComment]):
    def __init__(
        self,
        db: Database,
        publishers: dict[str, Publisher],
        settings: Settings,
        secrets: Secrets,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        lease = timedelta(seconds=settings.dispatch_lease_seconds)
        super().__init__(db, store.claim, kind="cm", lease=lease, clock=clock)
        self._publishers = publishers
        self._secrets = secrets
        self._concurrency = settings.comments_concurrency
        self._max_attempts = settings.dispatch_max_attempts
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        # Queued comments are announced like events (store/events.py's wake-ups).
        self._unsubscribe = events.subscribe(self.wake)
        await self._listen()
        self.health.started()
        self._task = asyncio.create_task(self._loop(), name="masthead-comments")

    async def stop(self, timeout: float = 10.0) -> None:
        self._stop_claiming()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await drain(self._inflight, timeout)
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self._db.write(lambda c: store.hand_back(c, owner=self.worker_id))

    async def _listen(self) -> None:
        try:
            await self._db.listen(events.CHANNEL, self.wake)
        except Exception:
            log.exception("cannot LISTEN for comments; polling every %ss", MAX_IDLE_SLEEP)

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            free = self._concurrency - len(self._inflight)
            if free > 0:
                now = self._clock()
                claimed = await self._claim(now, free)
                for comment in claimed:
                    task = asyncio.create_task(self._run(comment))
                    self._inflight.add(task)
                    task.add_done_callback(self._done)
                if claimed:
                    self.health.claimed(now)
                if len(claimed) == free:
                    await asyncio.sleep(0)
                    continue
            await self._sleep()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()

    async def _sleep(self) -> None:
        next_due = None if self._inflight else store.next_due
        await self._wait(next_due, longest=MAX_IDLE_SLEEP, shortest=0.05)

    async def _run(self, comment: store.ClaimedComment) -> None:
        try:
            outcome = await self._attempt(comment)
        except Exception:
            if self._stopping:
                return  # the lease's end hands it to the next worker
            log.exception("comment %s: internal error; will retry", comment.id)
            # Kept mark: if the error came after the call, the next attempt looks first.
            outcome = self._retry(
                comment, "Internal error while posting; will retry", None, acted=True
            )
        await self._settle(comment, outcome)

    async def _settle(self, comment: store.ClaimedComment, outcome: store.Settled) -> None:
        final = outcome.retry_at is None
        event = COMMENT_POSTED if outcome.platform_comment_id is not None else COMMENT_FAILED

        def write(conn: Connection) -> None:
            if store.settle(conn, owner=self.worker_id, outcome=outcome) and final:
                store.record_events(conn, [(comment.id, event)], outcome.at)

        await self.health.persist(lambda: self._db.write(write))

    def _failed(self, comment: store.ClaimedComment, code: int, message: str) -> store.Settled:
        log.info("comment %s failed (%d): %s", comment.id, code, message)
        return store.Settled(comment.id, self._clock(), error_code=code, error_message=message)

    def _retry(
        self,
        comment: store.ClaimedComment,
        message: str,
        after: float | None,
        *,
        acted: bool = False,
        code: int = ErrorCode.RATE_LIMITED,
    ) -> store.Settled:
        """Again later, or failed once the attempts are spent. `acted`: the platform may have
        acted (the mark stays, so the next attempt looks before sending)."""
        if comment.attempt >= self._max_attempts:
            if acted:
                return self._failed(
                    comment, ErrorCode.UNKNOWN, f"{OUTCOME_UNKNOWN_PREFIX} {message}"
                )
            return self._failed(comment, code, message)
        delay = (
            after
            if after is not None
            else engine.RETRY_DELAYS[min(comment.attempt - 1, len(engine.RETRY_DELAYS) - 1)]
        )
        now = self._clock()
        return store.Settled(
            comment.id,
            now,
            error_message=message,
            retry_at=now + timedelta(seconds=delay),
            keep_mark=acted,
        )

    async def _attempt(self, comment: store.ClaimedComment) -> store.Settled:
        publisher = self._publishers.get(comment.platform)
        if not isinstance(publisher, CommentsWriter):
            return self._failed(
                comment, ErrorCode.REFUSED, f"Comments cannot be posted on {comment.platform}"
            )
        ref = await self._db.read(lambda c: store.published_post(c, comment.post_id))
        post = published(ref) if ref is not None else None
        if post is None:
            return self._failed(comment, ErrorCode.GONE, "The post is no longer published")
        ctx = await account_context(self._db, self._secrets, comment.account_id)
        if ctx is None:
            return self._failed(comment, ErrorCode.MISSING_PERMISSION, MISSING_PERMISSION_MESSAGE)
        draft = CommentDraft(comment.text, comment.parent_platform_comment_id)
        if comment.sending_at is not None:  # an earlier attempt sent it: look, never resend
            return await self._reconcile(comment, publisher, ctx, post, draft)
        now = self._clock()
        marked = await self.health.persist(
            lambda: self._db.write(
                lambda c: store.mark_sending(
                    c, comment_id=comment.id, owner=self.worker_id, now=now
                )
            )
        )
        if not marked:  # the lease was lost: whoever holds it now carries on
            return self._retry(comment, "Lease lost before sending", 0.0)
        try:
            remote_id = await publisher.send_comment(ctx, post, draft)
        except OutcomeUnknown as exc:
            return self._retry(comment, exc.message, None, acted=True)
        except PublishError as exc:
            return self._refused(comment, exc)
        return store.Settled(comment.id, self._clock(), platform_comment_id=remote_id)

    async def _reconcile(
        self,
        comment: store.ClaimedComment,
        publisher: CommentsWriter,
        ctx: AccountContext,
        post: PublishedPost,
        draft: CommentDraft,
    ) -> store.Settled:
        try:
            found = await publisher.find_comment(ctx, post, draft)
        except Retryable as exc:
            return self._retry(comment, exc.message, exc.retry_after, acted=True)
        except PublishError as exc:
            found = None
            log.info("comment %s: cannot look for it (%s)", comment.id, exc.message)
        if found is not None:
            return store.Settled(comment.id, self._clock(), platform_comment_id=found)
        return self._failed(
            comment,
            ErrorCode.UNKNOWN,
            f"{OUTCOME_UNKNOWN_PREFIX} the platform's answer was lost and the comment is not "
            "among the post's comments",
        )

    def _refused(self, comment: store.ClaimedComment, exc: PublishError) -> store.Settled:
        if isinstance(exc, Retryable):
            return self._retry(comment, exc.message, exc.retry_after)
        if isinstance(exc, CommentRefused):
            return self._failed(comment, exc.code, exc.message)
        if isinstance(exc, AccountDisconnected):
            return self._failed(comment, ErrorCode.MISSING_PERMISSION, exc.message)
        if isinstance(exc, Permanent):
            return self._failed(comment, ErrorCode.REFUSED, exc.message)
        return self._failed(comment, ErrorCode.UNKNOWN, exc.message)
