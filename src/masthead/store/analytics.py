"""Metrics checks as a queue, and the snapshots they took (contract section 9).

A published post gets one check row per checkpoint of its platform's schedule, written in
the transaction that records it published (`schedule`, called by `queue.finish`), so no post
is published without its checks and a crash loses none. Checks are claimed like posts: one
statement leases up to B due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL); a worker that dies
lets its leases run out, and the check runs again under another. A check's outcome, its
snapshot and its `analytics.updated` event are written in one transaction (`settle`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, tuple_, update
from sqlalchemy.engine import Connection

from masthead.domain.analytics import RECONNECT, Checkpoints, due_times, retry_deadline
from masthead.domain.events import ANALYTICS_UPDATED
from masthead.domain.states import State
from masthead.store import events
from masthead.store.leases import unleased
from masthead.store.models import AnalyticsCheck, AnalyticsSnapshot, Post, PostItem
from masthead.store.types import UTCDateTime
from masthead.timeutil import iso

REFRESH = -1
"""The checkpoint number of an on-demand read (`POST /v2/posts/{id}/analytics/refresh`)."""
REFRESH_WINDOW = timedelta(minutes=5)
"""How long an on-demand read is retried."""


def schedule(
    conn: Connection,
    published: Mapping[str, datetime],
    schedules: Mapping[str, Checkpoints],
    rng: random.Random | None = None,
) -> int:
    """Check rows for posts just recorded published (id: publication time), for platforms
    with a schedule."""
    if not published or not schedules:
        return 0
    rows: list[dict[str, Any]] = []
    found = conn.execute(
        select(Post.id, Post.platform, Post.account_id).where(
            Post.id.in_(list(published)), Post.state == State.PUBLISHED
        )
    )
    for post_id, platform, account_id in found:
        checkpoints = schedules.get(platform)
        if not checkpoints:
            continue
        published_at = published[post_id]
        for index, due in enumerate(due_times(published_at, checkpoints, rng)):
            rows.append(
                {
                    "post_id": post_id,
                    "checkpoint": index,
                    "account_id": account_id,
                    "platform": platform,
                    "due_at": due,
                    "deadline": max(due, retry_deadline(checkpoints, index, published_at)),
                    "attempt": 0,
                }
            )
    if rows:
        conn.execute(insert(AnalyticsCheck), rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class ClaimedCheck:
    post_id: str
    checkpoint: int
    attempt: int
    deadline: datetime
    account_id: int
    platform: str
    user_id: str
    remote_id: str
    public_url: str | None
    published_at: datetime
    target: dict[str, Any]
    data: dict[str, Any]


def _claimable(now: datetime) -> Any:
    return and_(
        AnalyticsCheck.due_at <= now,
        unleased(AnalyticsCheck.lease_until, now),
    )


def claim(
    conn: Connection,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    skip_locked: bool,
) -> list[ClaimedCheck]:
    """Lease up to `limit` due checks, earliest first, with what a reader needs of each post."""
    due = (
        select(AnalyticsCheck.post_id, AnalyticsCheck.checkpoint)
        .where(_claimable(now))
        .order_by(AnalyticsCheck.due_at)
        .limit(limit)
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    keys = [tuple(row) for row in conn.execute(due)]
    if not keys:
        return []
    # `post_id IN` beside the key pairs: SQLite reads a row-value IN through no index and
    # walked every check (or every pending one) of every published post for each claim.
    claimed = AnalyticsCheck.post_id.in_(list({post_id for post_id, _ in keys}))
    conn.execute(
        update(AnalyticsCheck)
        .where(
            claimed,
            tuple_(AnalyticsCheck.post_id, AnalyticsCheck.checkpoint).in_(keys),
            _claimable(now),
        )
        .values(lease_owner=owner, lease_until=now + lease, attempt=AnalyticsCheck.attempt + 1)
    )
    rows = conn.execute(
        select(
            AnalyticsCheck.post_id,
            AnalyticsCheck.checkpoint,
            AnalyticsCheck.attempt,
            AnalyticsCheck.deadline,
            AnalyticsCheck.account_id,
            AnalyticsCheck.platform,
            Post.user_id,
            PostItem.remote_id,
            Post.public_url,
            Post.finished_at,
            Post.draft,
            PostItem.data,
        )
        .join(Post, Post.id == AnalyticsCheck.post_id)
        .join(PostItem, and_(PostItem.post_id == Post.id, PostItem.position == 0))
        .where(
            claimed,
            tuple_(AnalyticsCheck.post_id, AnalyticsCheck.checkpoint).in_(keys),
            AnalyticsCheck.lease_owner == owner,
        )
        .order_by(AnalyticsCheck.account_id, AnalyticsCheck.due_at)
    )
    return [
        ClaimedCheck(
            post_id,
            checkpoint,
            attempt,
            deadline,
            account_id,
            platform,
            user_id,
            remote_id or "",
            public_url,
            finished_at or deadline,
            dict(draft.get("target") or {}),
            dict(data or {}),
        )
        for (
            post_id,
            checkpoint,
            attempt,
            deadline,
            account_id,
            platform,
            user_id,
            remote_id,
            public_url,
            finished_at,
            draft,
            data,
        ) in rows
    ]


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """How one check went: a snapshot (`metrics` set), a retry (`retry_at` set), or the end
    of it (`error` without `retry_at`); `stop` ends the post's later checks too; `waiting`
    keeps it open, not due, until the account is reconnected (`resume_account`)."""

    post_id: str
    checkpoint: int
    user_id: str
    platform: str
    at: datetime
    metrics: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] | None = None
    error: str | None = None
    retry_at: datetime | None = None
    stop: bool = False
    waiting: bool = False


def settle(conn: Connection, *, owner: str, outcomes: Sequence[CheckOutcome]) -> None:
    """Record outcomes of checks this worker still holds, with their snapshots and events."""
    if not outcomes:
        return
    # Locked until commit: a claim after the lease ran out (another worker's) either took the
    # check before this read, or waits and finds it settled; never a snapshot from both.
    held = {
        (p, c)
        for p, c in conn.execute(
            select(AnalyticsCheck.post_id, AnalyticsCheck.checkpoint)
            .where(
                AnalyticsCheck.post_id.in_([o.post_id for o in outcomes]),
                AnalyticsCheck.lease_owner == owner,
            )
            .with_for_update()
        )
    }
    mine = [o for o in outcomes if (o.post_id, o.checkpoint) in held]
    snapshots = [o for o in mine if o.metrics is not None]
    if snapshots:
        conn.execute(
            insert(AnalyticsSnapshot),
            [
                {
                    "post_id": o.post_id,
                    "checkpoint": o.checkpoint,
                    "fetched_at": o.at,
                    "metrics": dict(o.metrics or {}),
                    "raw": dict(o.raw or {}),
                }
                for o in snapshots
            ],
        )
    if mine:  # one statement for the batch: 10,000 checks settle in one round trip
        conn.execute(
            update(AnalyticsCheck)
            .where(
                AnalyticsCheck.post_id == bindparam("o_post_id"),
                AnalyticsCheck.checkpoint == bindparam("o_checkpoint"),
                AnalyticsCheck.lease_owner == owner,
            )
            .values(
                due_at=bindparam("o_due_at", type_=UTCDateTime()),
                lease_owner=None,
                lease_until=None,
                last_error=bindparam("o_error"),
                done_at=bindparam("o_done_at", type_=UTCDateTime()),
            ),
            [
                {
                    "o_post_id": o.post_id,
                    "o_checkpoint": o.checkpoint,
                    "o_due_at": o.retry_at,
                    "o_error": o.error,
                    "o_done_at": None if o.retry_at or o.waiting else o.at,
                }
                for o in mine
            ],
        )
    for o in mine:
        if o.stop:
            conn.execute(
                update(AnalyticsCheck)
                .where(
                    AnalyticsCheck.post_id == o.post_id,
                    AnalyticsCheck.due_at.is_not(None),
                    AnalyticsCheck.lease_owner.is_(None),
                )
                .values(due_at=None, last_error=o.error, done_at=o.at)
            )
    if snapshots:
        events.record(
            conn,
            [
                events.NewEvent(
                    o.user_id,
                    ANALYTICS_UPDATED,
                    o.post_id,
                    {
                        "id": o.post_id,
                        "platform": o.platform,
                        "fetchedAt": iso(o.at),
                        "metrics": dict(o.metrics or {}),
                    },
                )
                for o in snapshots
            ],
            snapshots[0].at,
        )


def pause_account(conn: Connection, account_id: int, now: datetime) -> None:
    """A revoked token: the account's open checks wait, with the reason, for a reconnect."""
    conn.execute(
        update(AnalyticsCheck)
        .where(
            AnalyticsCheck.account_id == account_id,
            AnalyticsCheck.due_at.is_not(None),
            AnalyticsCheck.lease_owner.is_(None),
        )
        .values(due_at=None, last_error=RECONNECT)
    )


def resume_account(conn: Connection, account_id: int, now: datetime) -> None:
    """The account was connected again: its waiting checks are due now."""
    conn.execute(
        update(AnalyticsCheck)
        .where(
            AnalyticsCheck.account_id == account_id,
            AnalyticsCheck.done_at.is_(None),
            AnalyticsCheck.due_at.is_(None),
            AnalyticsCheck.last_error == RECONNECT,
        )
        .values(due_at=now, lease_owner=None, lease_until=None)
    )


def request_refresh(
    conn: Connection, *, post_id: str, account_id: int, platform: str, now: datetime
) -> None:
    """Queue an on-demand read now (one row per post, reused)."""
    found = conn.execute(
        update(AnalyticsCheck)
        .where(AnalyticsCheck.post_id == post_id, AnalyticsCheck.checkpoint == REFRESH)
        .values(due_at=now, deadline=now + REFRESH_WINDOW, attempt=0, done_at=None)
    ).rowcount
    if not found:
        conn.execute(
            insert(AnalyticsCheck).values(
                post_id=post_id,
                checkpoint=REFRESH,
                account_id=account_id,
                platform=platform,
                due_at=now,
                deadline=now + REFRESH_WINDOW,
                attempt=0,
            )
        )


def next_wakeup(conn: Connection, now: datetime) -> datetime | None:
    """The earliest moment a check becomes claimable: the end of a lease or a due time.

    Two reads off the due index instead of a minimum over every pending check (millions,
    with a checkpoint schedule per published post). A claim leases only checks due by then,
    so the leased ones are among those due by `now`; past `now` the first due time is the
    answer. A check leased by a worker whose clock runs ahead can lie past `now`: its due
    time then wakes this worker early, never late."""
    due_by_now = conn.execute(
        select(
            func.min(
                func.coalesce(AnalyticsCheck.lease_until, AnalyticsCheck.due_at),
                type_=UTCDateTime(),
            )
        ).where(AnalyticsCheck.due_at.is_not(None), AnalyticsCheck.due_at <= now)
    ).scalar()
    due_later = conn.execute(
        select(AnalyticsCheck.due_at)
        .where(AnalyticsCheck.due_at.is_not(None), AnalyticsCheck.due_at > now)
        .order_by(AnalyticsCheck.due_at)
        .limit(1)
    ).scalar()
    times = [t for t in (due_by_now, due_later) if t is not None]
    return min(times) if times else None


def hand_back(conn: Connection, *, owner: str) -> None:
    """A worker stopping: its leased checks are free for anyone at once."""
    conn.execute(
        update(AnalyticsCheck)
        .where(AnalyticsCheck.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


@dataclass(frozen=True, slots=True)
class Snapshot:
    post_id: str
    fetched_at: datetime
    metrics: dict[str, Any]
    raw: dict[str, Any]


def history(conn: Connection, post_ids: Iterable[str]) -> dict[str, list[Snapshot]]:
    """Each post's snapshots, oldest first."""
    found: dict[str, list[Snapshot]] = {}
    rows = conn.execute(
        select(
            AnalyticsSnapshot.post_id,
            AnalyticsSnapshot.fetched_at,
            AnalyticsSnapshot.metrics,
            AnalyticsSnapshot.raw,
        )
        .where(AnalyticsSnapshot.post_id.in_(list(post_ids)))
        .order_by(AnalyticsSnapshot.post_id, AnalyticsSnapshot.fetched_at, AnalyticsSnapshot.id)
    )
    for row in rows:
        found.setdefault(row[0], []).append(Snapshot(*row))
    return found


@dataclass(frozen=True, slots=True)
class CollectionState:
    last_error: str | None
    next_fetch_at: datetime | None
    scheduled: bool
    """Some check exists (the post is measured at all)."""


def collection_state(conn: Connection, post_ids: Iterable[str]) -> dict[str, CollectionState]:
    """Per post: the error of its check that is failing now (retrying or waiting for a
    reconnect), else of its last finished check; and when its next check is due."""
    rows = conn.execute(
        select(
            AnalyticsCheck.post_id,
            AnalyticsCheck.due_at,
            AnalyticsCheck.done_at,
            AnalyticsCheck.last_error,
        )
        .where(AnalyticsCheck.post_id.in_(list(post_ids)))
        .order_by(AnalyticsCheck.post_id, AnalyticsCheck.done_at, AnalyticsCheck.checkpoint)
    )
    found: dict[str, CollectionState] = {}
    failing: dict[str, str] = {}
    for post_id, due_at, done_at, last_error in rows:
        state = found.get(post_id, CollectionState(None, None, True))
        next_at = state.next_fetch_at
        if due_at is not None and (next_at is None or due_at < next_at):
            next_at = due_at
        error = state.last_error
        if done_at is None:
            if last_error is not None:
                failing[post_id] = last_error
        else:
            error = last_error
        found[post_id] = CollectionState(error, next_at, True)
    return {
        post_id: CollectionState(failing.get(post_id, state.last_error), state.next_fetch_at, True)
        for post_id, state in found.items()
    }


@dataclass(frozen=True, slots=True)
class PublishedRow:
    id: str
    platform: str
    account_id: int
    draft: dict[str, Any]
    public_url: str | None
    published_at: datetime


_PUBLISHED_COLUMNS = (
    Post.id,
    Post.platform,
    Post.account_id,
    Post.draft,
    Post.public_url,
    Post.finished_at,
)


def published_posts(
    conn: Connection,
    user_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    platforms: Sequence[str] = (),
    account_id: int | None = None,
) -> list[PublishedRow]:
    """A user's published posts, by publication time, newest first."""
    query = select(*_PUBLISHED_COLUMNS).where(
        Post.user_id == user_id, Post.state == State.PUBLISHED
    )
    if since is not None:
        query = query.where(Post.finished_at >= since)
    if until is not None:
        query = query.where(Post.finished_at <= until)
    if platforms:
        query = query.where(Post.platform.in_(list(platforms)))
    if account_id is not None:
        query = query.where(Post.account_id == account_id)
    rows = conn.execute(query.order_by(Post.finished_at.desc(), Post.id.desc()))
    return [PublishedRow(*row) for row in rows]


def published_post(conn: Connection, user_id: str, post_id: str) -> tuple[str, PublishedRow | None]:
    """A user's post by id: its state (empty when it is not theirs) and, if published, its row."""
    row = conn.execute(
        select(Post.state, *_PUBLISHED_COLUMNS).where(Post.id == post_id, Post.user_id == user_id)
    ).first()
    if row is None:
        return "", None
    state, *rest = row
    return str(state), PublishedRow(*rest) if state == State.PUBLISHED else None


def last_refresh(conn: Connection, post_id: str) -> datetime | None:
    """When the post's last refresh was asked for (its deadline is that time plus 5 minutes)."""
    deadline = conn.execute(
        select(AnalyticsCheck.deadline).where(
            AnalyticsCheck.post_id == post_id, AnalyticsCheck.checkpoint == REFRESH
        )
    ).scalar()
    return None if deadline is None else deadline - REFRESH_WINDOW
