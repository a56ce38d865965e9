"""Comments: stored once per platform comment id, inbound and outbound, the outbound ones
also a dispatch queue (claimed in batches with leases, like posts), and the per-post polling
state. Plain synchronous units of work (docs/design.md)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from masthead.domain.comments import (
    CommentFacts,
    CommentStatus,
    RemoteComment,
    comment_view,
    first_comment_text,
    next_poll_at,
)
from masthead.domain.events import COMMENT_RECEIVED
from masthead.store import events
from masthead.store.leases import lease_due, unleased
from masthead.store.models import Comment, CommentPoll, Post, PostItem
from masthead.store.pages import keyset_page
from masthead.store.types import UTCDateTime

_FACTS = (
    Comment.id,
    Comment.account_id,
    Comment.platform,
    Comment.post_id,
    PostItem.remote_id,
    Comment.parent_id,
    Comment.platform_comment_id,
    Comment.author_id,
    Comment.author_username,
    Comment.author_name,
    Comment.is_author,
    Comment.text,
    Comment.status,
    Comment.error_code,
    Comment.error_message,
    Comment.created_at,
    Comment.updated_at,
)


def _facts_query() -> Any:
    return select(*_FACTS).outerjoin(
        PostItem, and_(PostItem.post_id == Comment.post_id, PostItem.position == 0)
    )


@dataclass(frozen=True, slots=True)
class PublishedRef:
    """A post of the user's, as commenting on it needs it."""

    id: str
    user_id: str
    account_id: int
    platform: str
    state: str
    remote_id: str | None
    public_url: str | None
    finished_at: datetime | None
    target: dict[str, Any]
    data: dict[str, Any]


def published_post(
    conn: Connection, post_id: str, user_id: str | None = None
) -> PublishedRef | None:
    """The post with its first item's remote id; None if unknown (or another user's)."""
    query = (
        select(
            Post.id,
            Post.user_id,
            Post.account_id,
            Post.platform,
            Post.state,
            PostItem.remote_id,
            Post.public_url,
            Post.finished_at,
            Post.draft,
            PostItem.data,
        )
        .outerjoin(PostItem, and_(PostItem.post_id == Post.id, PostItem.position == 0))
        .where(Post.id == post_id)
    )
    if user_id is not None:
        query = query.where(Post.user_id == user_id)
    row = conn.execute(query).first()
    if row is None:
        return None
    draft = row.draft or {}
    return PublishedRef(
        id=row.id,
        user_id=row.user_id,
        account_id=row.account_id,
        platform=row.platform,
        state=row.state,
        remote_id=row.remote_id,
        public_url=row.public_url,
        finished_at=row.finished_at,
        target=dict(draft.get("target") or {}),
        data=dict(row.data or {}),
    )


def get(conn: Connection, user_id: str, comment_id: str, *, since: datetime) -> CommentFacts | None:
    row = conn.execute(
        _facts_query().where(
            Comment.id == comment_id, Comment.user_id == user_id, Comment.created_at >= since
        )
    ).first()
    return CommentFacts(*row) if row else None


def by_id(conn: Connection, comment_id: str) -> CommentFacts | None:
    row = conn.execute(_facts_query().where(Comment.id == comment_id)).first()
    return CommentFacts(*row) if row else None


@dataclass(frozen=True, slots=True)
class Filters:
    since: datetime
    """Retention's cutoff, or the caller's `since` when later."""
    until: datetime | None = None
    account_id: int | None = None
    post_id: str | None = None
    parent_id: str | None = None
    platforms: Collection[str] = ()
    statuses: Collection[str] = ()
    is_author: bool | None = None


def listing(
    conn: Connection,
    user_id: str,
    filters: Filters,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[CommentFacts]:
    """Newest `created_at` first (ties by id); `after` is the last (created_at, id) seen."""
    query = _facts_query().where(Comment.user_id == user_id, Comment.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Comment.created_at <= filters.until)
    if filters.account_id is not None:
        query = query.where(Comment.account_id == filters.account_id)
    if filters.post_id is not None:
        query = query.where(Comment.post_id == filters.post_id)
    if filters.parent_id is not None:
        query = query.where(Comment.parent_id == filters.parent_id)
    if filters.platforms:
        query = query.where(Comment.platform.in_(list(filters.platforms)))
    if filters.statuses:
        query = query.where(Comment.status.in_(list(filters.statuses)))
    if filters.is_author is not None:
        query = query.where(Comment.is_author.is_(filters.is_author))
    query = keyset_page(
        query, Comment.created_at, Comment.id, after=after, limit=limit, newest_first=True
    )
    return [CommentFacts(*row) for row in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class NewComment:
    """An outbound comment, queued."""

    id: str
    user_id: str
    account_id: int
    post_id: str
    platform: str
    parent_id: str | None
    text: str
    first_comment: bool = False


def queue_outbound(conn: Connection, comments: Sequence[NewComment], now: datetime) -> None:
    if not comments:
        return
    conn.execute(
        insert(Comment),
        [
            {
                "id": c.id,
                "user_id": c.user_id,
                "account_id": c.account_id,
                "post_id": c.post_id,
                "platform": c.platform,
                "parent_id": c.parent_id,
                "platform_comment_id": None,
                "is_author": True,
                "first_comment": c.first_comment,
                "text": c.text,
                "status": CommentStatus.QUEUED.value,
                "due_at": now,
                "attempt": 0,
                "created_at": now,
                "updated_at": now,
            }
            for c in comments
        ],
    )


_FIRST_COMMENT = _facts_query().where(
    Comment.post_id == bindparam("post_id"), Comment.first_comment.is_(True)
)
"""Built once (read on every `GET /v2/posts/{id}`): see store/posts._GET_POST."""


def first_comment_of(conn: Connection, post_id: str) -> CommentFacts | None:
    row = conn.execute(_FIRST_COMMENT, {"post_id": post_id}).first()
    return CommentFacts(*row) if row else None


# -- the outbound queue ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimedComment:
    id: str
    user_id: str
    account_id: int
    post_id: str
    platform: str
    text: str
    attempt: int
    sending_at: datetime | None
    parent_platform_comment_id: str | None


def claim(
    conn: Connection,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    skip_locked: bool,
) -> list[ClaimedComment]:
    ids = list(
        lease_due(
            conn,
            Comment.id,
            where=and_(
                Comment.due_at.is_not(None),
                Comment.due_at <= now,
                unleased(Comment.lease_until, now),
            ),
            order_by=[Comment.due_at],
            limit=limit,
            skip_locked=skip_locked,
            values={
                "lease_owner": owner,
                "lease_until": now + lease,
                "attempt": Comment.attempt + 1,
                "status": CommentStatus.PROCESSING.value,
                "updated_at": now,
            },
            returning=[Comment.id],
        ).scalars()
    )
    if not ids:
        return []
    parent = Comment.__table__.alias("parent")
    rows = conn.execute(
        select(
            Comment.id,
            Comment.user_id,
            Comment.account_id,
            Comment.post_id,
            Comment.platform,
            Comment.text,
            Comment.attempt,
            Comment.sending_at,
            parent.c.platform_comment_id,
        )
        .outerjoin(parent, parent.c.id == Comment.parent_id)
        .where(Comment.id.in_(ids))
        .order_by(Comment.created_at)
    )
    return [ClaimedComment(*row) for row in rows]


def next_due(conn: Connection) -> datetime | None:
    """The earliest due outbound comment, or lease end of one held (as deliveries do)."""
    return conn.execute(
        select(
            func.min(func.coalesce(Comment.lease_until, Comment.due_at), type_=UTCDateTime())
        ).where(Comment.due_at.is_not(None))
    ).scalar()


def mark_sending(conn: Connection, *, comment_id: str, owner: str, now: datetime) -> bool:
    """The sending mark, written before the irreversible call; False if the lease was lost."""
    result = conn.execute(
        update(Comment)
        .where(
            Comment.id == comment_id,
            Comment.lease_owner == owner,
            Comment.sending_at.is_(None),
        )
        .values(sending_at=now, updated_at=now)
    )
    return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class Settled:
    """How an attempt at an outbound comment ended: posted (`platform_comment_id`), failed
    (`error_code`), or to be tried again at `retry_at`."""

    comment_id: str
    at: datetime
    platform_comment_id: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    retry_at: datetime | None = None
    keep_mark: bool = field(default=True)
    """A retry keeps the sending mark unless the platform certainly did not act."""


def settle(conn: Connection, *, owner: str, outcome: Settled) -> bool:
    """Store the outcome where `owner` still holds the lease. A posted comment that a poll
    already stored (its platform id seen before this answer was stored) replaces that row."""
    values: dict[str, Any] = {
        "lease_owner": None,
        "lease_until": None,
        "updated_at": outcome.at,
    }
    if outcome.platform_comment_id is not None:
        row = conn.execute(
            select(Comment.account_id).where(Comment.id == outcome.comment_id)
        ).first()
        if row is not None:
            duplicate = select(Comment.id).where(
                Comment.account_id == row[0],
                Comment.platform_comment_id == outcome.platform_comment_id,
                Comment.id != outcome.comment_id,
            )
            # Replies already stored under the polled copy move to this row first.
            conn.execute(
                update(Comment)
                .where(Comment.parent_id.in_(duplicate.scalar_subquery()))
                .values(parent_id=outcome.comment_id)
            )
            conn.execute(delete(Comment).where(Comment.id.in_(duplicate.scalar_subquery())))
        values |= {
            "status": CommentStatus.POSTED.value,
            "platform_comment_id": outcome.platform_comment_id,
            "due_at": None,
            "error_code": None,
            "error_message": None,
        }
    elif outcome.retry_at is not None:
        values |= {
            "status": CommentStatus.QUEUED.value,
            "due_at": outcome.retry_at,
            "error_message": outcome.error_message,
        }
        if not outcome.keep_mark:
            values["sending_at"] = None
    else:
        values |= {
            "status": CommentStatus.FAILED.value,
            "due_at": None,
            "error_code": outcome.error_code,
            "error_message": outcome.error_message,
        }
    result = conn.execute(
        update(Comment)
        .where(Comment.id == outcome.comment_id, Comment.lease_owner == owner)
        .values(**values)
    )
    return result.rowcount == 1


def hand_back(conn: Connection, *, owner: str) -> int:
    result = conn.execute(
        update(Comment)
        .where(Comment.lease_owner == owner, Comment.due_at.is_not(None))
        .values(lease_owner=None, lease_until=None, attempt=Comment.attempt - 1)
    )
    return result.rowcount


# -- inbound --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Captured:
    """Where inbound comments belong."""

    user_id: str
    account_id: int
    post_id: str
    platform: str


def store_inbound(
    conn: Connection,
    where: Captured,
    remote: Sequence[RemoteComment],
    new_id: Any,
    now: datetime,
) -> list[str]:
    """Store the comments not stored yet (by platform comment id), top-level ones first so
    that replies find their parent; returns the ids of the rows written. `new_id()` makes
    an id."""
    if not remote:
        return []
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    written: list[str] = []
    top = [c for c in remote if c.parent_platform_comment_id is None]
    replies = [c for c in remote if c.parent_platform_comment_id is not None]
    for batch in (top, replies):
        parents: dict[str, str] = {}
        if batch is replies and replies:
            wanted = {str(c.parent_platform_comment_id) for c in replies}
            parents = _ids_of(conn, where.account_id, wanted)
        for c in batch:
            row_id = new_id()
            parent = c.parent_platform_comment_id
            inserted = conn.execute(
                dialect.insert(Comment)
                .values(
                    id=row_id,
                    user_id=where.user_id,
                    account_id=where.account_id,
                    post_id=where.post_id,
                    platform=where.platform,
                    parent_id=parents.get(parent) if parent else None,
                    platform_comment_id=c.platform_comment_id,
                    is_author=c.is_author,
                    first_comment=False,
                    author_id=c.author_id,
                    author_username=c.author_username,
                    author_name=c.author_name,
                    text=c.text,
                    status=CommentStatus.POSTED.value,
                    attempt=0,
                    created_at=c.created_at,
                    updated_at=now,
                )
                .on_conflict_do_nothing()
            ).rowcount
            if inserted:
                written.append(row_id)
    return written


def _ids_of(conn: Connection, account_id: int, platform_ids: Collection[str]) -> dict[str, str]:
    rows = conn.execute(
        select(Comment.platform_comment_id, Comment.id).where(
            Comment.account_id == account_id,
            Comment.platform_comment_id.in_(list(platform_ids)),
        )
    )
    return {str(pid): cid for pid, cid in rows}


def posts_by_remote(
    conn: Connection, platform: str, remote_ids: Collection[str]
) -> dict[str, list[Captured]]:
    """Published posts by their platform id (a comment webhook names only that)."""
    rows = conn.execute(
        select(PostItem.remote_id, Post.user_id, Post.account_id, Post.id, Post.platform)
        .join(Post, Post.id == PostItem.post_id)
        .where(
            PostItem.remote_id.in_(list(remote_ids)),
            PostItem.position == 0,
            Post.platform == platform,
        )
    )
    found: dict[str, list[Captured]] = {}
    for remote_id, user_id, account_id, post_id, post_platform in rows:
        found.setdefault(str(remote_id), []).append(
            Captured(user_id, account_id, post_id, post_platform)
        )
    return found


def mark_gone(conn: Connection, account_id: int, platform_comment_id: str, now: datetime) -> None:
    conn.execute(
        update(Comment)
        .where(
            Comment.account_id == account_id,
            Comment.platform_comment_id == platform_comment_id,
        )
        .values(status=CommentStatus.DELETED.value, updated_at=now)
    )


def purge_before(conn: Connection, before: datetime) -> int:
    """Retention: comments created before `before` go (their replies with them)."""
    return conn.execute(delete(Comment).where(Comment.created_at < before)).rowcount


# -- after a publish: the first comment, and the polling schedule ----------------------------


def after_publish(conn: Connection, post_ids: Collection[str], at: datetime) -> None:
    """Inside the transaction that marks posts published: queue each one's `firstComment`
    (so that a crash cannot lose it) and start polling its comments. `post_ids` are posts
    on platforms that have comments (the caller knows which: `queue.finish`)."""
    if not post_ids:
        return
    rows = conn.execute(
        select(Post.id, Post.user_id, Post.account_id, Post.platform, Post.draft).where(
            Post.id.in_(list(post_ids))
        )
    ).all()
    if not rows:
        return
    firsts = []
    for post_id, user_id, account_id, platform, draft in rows:
        text = first_comment_text(dict((draft or {}).get("target") or {}))
        if text:
            firsts.append(
                NewComment(
                    str(uuid.uuid4()), user_id, account_id, post_id, platform, None, text, True
                )
            )
    queue_outbound(conn, firsts, at)
    if firsts:
        events.announce(conn)  # wakes the comment loops once this commits
    conn.execute(
        insert(CommentPoll),
        [
            {"post_id": row[0], "published_at": at, "next_poll_at": next_poll_at(at, at)}
            for row in rows
        ],
    )


@dataclass(frozen=True, slots=True)
class DuePoll:
    post_id: str
    published_at: datetime
    last_polled_at: datetime | None


def claim_polls(
    conn: Connection,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    skip_locked: bool,
) -> list[DuePoll]:
    rows = lease_due(
        conn,
        CommentPoll.post_id,
        where=and_(CommentPoll.next_poll_at <= now, unleased(CommentPoll.lease_until, now)),
        order_by=[CommentPoll.next_poll_at],
        limit=limit,
        skip_locked=skip_locked,
        values={"lease_owner": owner, "lease_until": now + lease},
        returning=[CommentPoll.post_id, CommentPoll.published_at, CommentPoll.last_polled_at],
    )
    return [DuePoll(*row) for row in rows]


def polled(
    conn: Connection, *, owner: str, post_id: str, at: datetime, next_at: datetime | None
) -> None:
    """A poll is done: schedule the next one, or end polling (`next_at` None)."""
    where = and_(CommentPoll.post_id == post_id, CommentPoll.lease_owner == owner)
    if next_at is None:
        conn.execute(delete(CommentPoll).where(where))
        return
    conn.execute(
        update(CommentPoll)
        .where(where)
        .values(next_poll_at=next_at, last_polled_at=at, lease_owner=None, lease_until=None)
    )


def record_events(conn: Connection, changes: Sequence[tuple[str, str]], now: datetime) -> int:
    """Events for comments written or settled in this transaction: (comment id, event type),
    each carrying the comment object as `GET /v2/comments/{id}` now shows it."""
    if not changes:
        return 0
    ids = [comment_id for comment_id, _ in changes]
    rows = conn.execute(
        select(Comment.user_id, *_FACTS)
        .outerjoin(PostItem, and_(PostItem.post_id == Comment.post_id, PostItem.position == 0))
        .where(Comment.id.in_(ids))
    ).all()
    found = {}
    for row in rows:
        values = tuple(row)
        found[values[1]] = (values[0], CommentFacts(*values[1:]))
    new = []
    for comment_id, event_type in changes:
        if comment_id in found:
            user_id, facts = found[comment_id]
            new.append(
                events.NewEvent(user_id, event_type, f"comment:{comment_id}", comment_view(facts))
            )
    return events.record(conn, new, now)


def capture(
    conn: Connection, where: Captured, remote: Sequence[RemoteComment], now: datetime
) -> list[str]:
    """Inbound comments from a poll or a webhook, each stored once, with `comment.received`
    for those from the audience that are new."""
    written = store_inbound(conn, where, remote, lambda: str(uuid.uuid4()), now)
    if written:
        received = conn.execute(
            select(Comment.id).where(Comment.id.in_(written), Comment.is_author.is_(False))
        ).scalars()
        record_events(conn, [(cid, COMMENT_RECEIVED) for cid in received], now)
    return written
