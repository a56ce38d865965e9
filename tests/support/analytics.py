"""Published posts with their metrics checks, written the way the engine writes them: a post
leased, its first item sent, then `queue.finish` with the collection schedules (and the
platforms that have comments, where a test asks)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection

from masthead.domain.analytics import Checkpoints
from masthead.domain.states import State
from masthead.store import posts, queue
from masthead.store.database import Database
from masthead.store.models import AnalyticsCheck, AnalyticsSnapshot, Post, PostItem
from tests.support.harness import Caller

OWNER = "test-publisher"


async def publish(
    db: Database,
    caller: Caller,
    account: str,
    platform: str,
    remote_ids: Sequence[str],
    published_at: datetime,
    schedules: Mapping[str, Checkpoints],
    *,
    text: str = "hello",
    data: Mapping[str, str] | None = None,
    commented: Collection[str] = (),
) -> list[str]:
    """One published post per remote id; returns their Masthead ids."""
    ids = [str(uuid.uuid4()) for _ in remote_ids]
    draft = {
        "accountId": account,
        "content": {"text": text, "mediaUrls": [], "platform": platform},
        "target": {"targetType": platform},
    }

    def work(conn: Connection) -> None:
        for post_id, remote_id in zip(ids, remote_ids, strict=True):
            new = posts.NewPost(post_id, caller.user_id, int(account), platform, None, draft, None)
            posts.insert_post(conn, new, published_at)
            conn.execute(
                update(Post)
                .where(Post.id == post_id)
                .values(state=State.IN_PROGRESS, lease_owner=OWNER)
            )
            conn.execute(
                insert(PostItem).values(
                    post_id=post_id,
                    position=0,
                    state="sent",
                    remote_id=remote_id,
                    public_url=f"https://{platform}.example/{remote_id}",
                    data=dict(data or {}),
                    sending_at=published_at,
                    sent_at=published_at,
                )
            )
        queue.finish(
            conn,
            owner=OWNER,
            outcomes=[
                queue.Outcome(
                    i,
                    platform,
                    State.PUBLISHED,
                    published_at,
                    public_url=f"https://{platform}.example/{r}",
                )
                for i, r in zip(ids, remote_ids, strict=True)
            ],
            schedules=schedules,
            commented=commented,
        )

    await db.write(work)
    return ids


async def measure(
    db: Database,
    post_id: str,
    metrics: Mapping[str, Any],
    at: datetime,
    raw: Mapping[str, Any] | None = None,
) -> None:
    """A snapshot taken at `at`, as the collector stores one."""
    await db.write(
        lambda conn: conn.execute(
            insert(AnalyticsSnapshot).values(
                post_id=post_id,
                checkpoint=0,
                fetched_at=at,
                metrics=dict(metrics),
                raw=dict(raw or {}),
            )
        )
    )


async def fail_checks(db: Database, post_id: str, error: str, at: datetime) -> None:
    """Every check of the post ended with `error`, as after a deleted post."""
    await db.write(
        lambda conn: conn.execute(
            update(AnalyticsCheck)
            .where(AnalyticsCheck.post_id == post_id)
            .values(due_at=None, done_at=at, last_error=error)
        )
    )
