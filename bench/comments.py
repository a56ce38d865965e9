"""Part 10: comment polling. 1,000 published posts all due a poll, polled by the comment
poller against an in-process platform that answers each request after `latency` seconds (a
stand-in for Meta's round trip) with a few comments: requests made, time taken, rows stored.
Then publishing lag beside it: a burst of posts due at one instant, published by the dispatch
engine to the zero-latency platform (bench/null_platform.py), without polling and while the
poller works through the 1,000 posts, in the order without, with, with, without in the same
run (goal: with within 1.2x of without, comparing the means of each pair). One process, one
SQLite database: what is measured is the poller's cost to the engine sharing its process."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from statistics import fmean
from typing import Any, ClassVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from bench.null_platform import NullPublisher
from masthead.config import Settings
from masthead.dispatch.comment_polls import CommentPoller
from masthead.dispatch.engine import Dispatcher
from masthead.platforms.base import (
    AccountContext,
    PostGone,
    PublishContext,
    PublishedPost,
    Publisher,
    RemoteComment,
    SentItem,
)
from masthead.security import Secrets
from masthead.store import accounts, users
from masthead.store.database import Database
from masthead.store.migrate import upgrade
from masthead.store.models import Comment, CommentPoll, Post, PostItem
from masthead.store.posts import NewPost, insert_post
from masthead.timeutil import utcnow

GOAL_RATIO = 1.2


@dataclass(frozen=True)
class CommentsPlan:
    polled_posts: int = 1_000
    comments_per_post: int = 3
    latency: float = 0.02
    """Seconds the stand-in platform takes per request."""
    burst: int = 2_000
    """Posts due at one instant in each publishing run."""
    lead_seconds: float = 1.5


class ListingPlatform(Publisher):
    """Answers `list_comments` after `latency`, with the post's comments (the same ids on
    every poll plus one new one, as a lively post would)."""

    platform: ClassVar[str] = "instagram"

    def __init__(self, per_post: int, latency: float) -> None:
        self.requests = 0
        self._per_post = per_post
        self._latency = latency

    async def send(self, ctx: PublishContext, position: int, prepared: dict[str, Any]) -> SentItem:
        raise RuntimeError("the bench publishes nothing to this platform")

    async def list_comments(
        self, ctx: AccountContext, post: PublishedPost, since: datetime | None
    ) -> Sequence[RemoteComment] | PostGone:
        self.requests += 1
        await asyncio.sleep(self._latency)
        now = utcnow()
        count = self._per_post + (1 if since is not None else 0)
        return [
            RemoteComment(f"{post.remote_id}-{n}", None, f"comment {n}", now, False, "42")
            for n in range(count)
        ]


async def _owner(db: Database, secrets: Secrets) -> tuple[str, int, int]:
    now = utcnow()

    def work(conn: Connection) -> tuple[str, int, int]:
        user = users.create_user(conn, secrets, email="bench@localhost", name="Bench", now=now)
        ids = [
            accounts.add_account(
                conn,
                user_id=user.id,
                platform=platform,
                external_id=platform,
                username=platform,
                fullname=platform,
                now=now,
            )
            for platform in ("instagram", "webhook")
        ]
        return user.id, ids[0], ids[1]

    return await db.write(work)


async def _seed_published(db: Database, user_id: str, account_id: int, count: int) -> None:
    now = utcnow()
    draft = {
        "accountId": str(account_id),
        "content": {"text": "bench", "mediaUrls": ["https://x/y.jpg"], "platform": "instagram"},
        "target": {"targetType": "instagram"},
    }

    def work(conn: Connection) -> None:
        ids = [str(uuid.uuid4()) for _ in range(count)]
        for post_id in ids:
            insert_post(
                conn, NewPost(post_id, user_id, account_id, "instagram", None, draft, None), now
            )
        conn.execute(
            update(Post)
            .where(Post.id.in_(ids))
            .values(state="published", due_at=None, finished_at=now)
        )
        conn.execute(
            insert(PostItem),
            [
                {
                    "post_id": pid,
                    "position": 0,
                    "state": "sent",
                    "remote_id": f"m{n}",
                    "public_url": "https://x",
                    "data": {},
                    "sending_at": now,
                    "sent_at": now,
                }
                for n, pid in enumerate(ids)
            ],
        )
        conn.execute(
            insert(CommentPoll),
            [{"post_id": pid, "published_at": now, "next_poll_at": now} for pid in ids],
        )

    await db.write(work)


async def _seed_burst(
    db: Database, user_id: str, account_id: int, count: int, due: datetime
) -> None:
    draft = {
        "accountId": str(account_id),
        "content": {"text": "bench", "mediaUrls": [], "platform": "other"},
        "target": {"targetType": "webhook", "url": "https://hooks.invalid/x"},
    }

    def work(conn: Connection) -> None:
        for _ in range(count):
            post = NewPost(str(uuid.uuid4()), user_id, account_id, "webhook", None, draft, due)
            insert_post(conn, post, utcnow())

    await db.write(work)


def _due_again(conn: Connection) -> None:
    conn.execute(update(CommentPoll).values(next_poll_at=CommentPoll.published_at))


async def _publish_run(
    db: Database,
    settings: Settings,
    secrets: Secrets,
    workdir: Path,
    plan: CommentsPlan,
    owner: tuple[str, int, int],
    platform: ListingPlatform | None,
) -> dict[str, Any]:
    """A burst due at T, published by a dispatcher; with `platform`, a poller set up as the
    app sets it up (giving way to publishing bursts) polls the 1,000 posts from T."""
    out = workdir / f"burst-{uuid.uuid4().hex[:6]}.json"
    null = NullPublisher(out)
    dispatcher = Dispatcher(db, {"webhook": null}, settings, secrets)
    poller = None
    if platform is not None:
        poller = CommentPoller(
            db, {"instagram": platform}, settings, secrets, publishing=dispatcher.in_flight
        )
    due = utcnow() + timedelta(seconds=plan.lead_seconds)
    await _seed_burst(db, owner[0], owner[2], plan.burst, due)
    await dispatcher.start()
    polling: asyncio.Task[int] | None = None
    try:
        await asyncio.sleep(max(0.0, (due - utcnow()).total_seconds()))
        if poller is not None:
            await db.write(_due_again)
            polling = asyncio.create_task(poller.poll_due())
        deadline = time.time() + 120
        while (dispatcher.in_flight() or await db.read(_unpublished)) and time.time() < deadline:
            await asyncio.sleep(0.05)
        if polling is not None:
            await polling
    finally:
        await dispatcher.stop()
        await null.aclose()
    sent = [at for at, _ in json.loads(out.read_text())["deliveries"]]
    lags = sorted(max(0.0, at - due.timestamp()) * 1000 for at in sent)
    return {
        "polling": poller is not None,
        "published": len(lags),
        "lag_p50_ms": round(lags[len(lags) // 2], 1) if lags else None,
        "lag_p99_ms": round(lags[int(len(lags) * 0.99) - 1], 1) if lags else None,
        "seconds_to_all_published": round(lags[-1] / 1000, 3) if lags else None,
    }


def _unpublished(conn: Connection) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(Post)
            .where(Post.platform == "webhook", Post.due_at.is_not(None))
        ).scalar_one()
    )


async def run_comments(workdir: Path, plan: CommentsPlan) -> dict[str, Any]:
    """`workdir` must exist."""
    settings = Settings(
        data_dir=workdir,
        secret_key="bench-secret-key-0123456789",
        comments_poll_batch_size=200,
    )
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    db = Database(settings.sqlalchemy_url)
    await db.start()
    secrets = Secrets(settings.secret_keys)
    try:
        owner = await _owner(db, secrets)
        await _seed_published(db, owner[0], owner[1], plan.polled_posts)
        platform = ListingPlatform(plan.comments_per_post, plan.latency)
        poller = CommentPoller(db, {"instagram": platform}, settings, secrets)
        started = time.perf_counter()
        polled = await poller.poll_due()
        first_seconds = time.perf_counter() - started
        first_requests = platform.requests
        await db.write(_due_again)
        started = time.perf_counter()
        await poller.poll_due()
        second_seconds = time.perf_counter() - started
        second_requests = platform.requests - first_requests
        stored = await db.read(_stored)
        runs = []
        for polling in (False, True, True, False):
            runs.append(
                await _publish_run(
                    db, settings, secrets, workdir, plan, owner, platform if polling else None
                )
            )
    finally:
        await db.close()
    without = [r for r in runs if not r["polling"]]
    with_polling = [r for r in runs if r["polling"]]
    ratios = {
        key: round(fmean(r[key] for r in with_polling) / fmean(r[key] for r in without), 3)
        if all(r[key] for r in runs)
        else None
        for key in ("lag_p50_ms", "lag_p99_ms", "seconds_to_all_published")
    }
    return {
        "polled_posts": polled,
        "requests_first_poll": first_requests,
        "seconds_first_poll": round(first_seconds, 3),
        "requests_second_poll": second_requests,
        "seconds_second_poll": round(second_seconds, 3),
        "latency_per_request_s": plan.latency,
        "comments_stored": stored,
        "expected_comments": plan.polled_posts * (plan.comments_per_post + 1),
        "publishing": runs,
        "ratios": ratios,
        "goal": GOAL_RATIO,
        "ok": all(r is not None and r <= GOAL_RATIO for r in ratios.values()),
    }


def _stored(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(Comment)).scalar_one())
