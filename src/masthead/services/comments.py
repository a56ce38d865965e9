"""Comments' use cases shared by the doors: queue one (`POST /v2/comments`), read one, list
them (contract section 10)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from masthead.domain import inputs
from masthead.domain.comments import (
    CommentStatus,
    InboxPost,
    check_text,
    comment_view,
    retention_cutoff,
)
from masthead.domain.comments import inbox as build_inbox
from masthead.domain.errors import ValidationFailed
from masthead.domain.states import State
from masthead.platforms.registry import COMMENTS, TARGET_TYPES
from masthead.services.errors import ApiError
from masthead.services.post_reads import decode_cursor, encode_cursor, storable_id
from masthead.services.posts import Created, replay, request_hash
from masthead.store import comments as store
from masthead.store import events, idempotency
from masthead.store.database import Database
from masthead.timeutil import utcnow

LIST_LIMIT = 250
POST_NOT_FOUND = "Post not found"
COMMENT_NOT_FOUND = "Comment not found"


def unsupported(platform: str) -> ApiError:
    return ApiError(422, f"Comments are not supported for {platform}")


def _string(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if value is not None and not isinstance(value, str):
        raise ValidationFailed.one(name, "must be a string")
    if not value:
        raise ValidationFailed.one(name, "is required")
    return value


async def create_comment(
    db: Database,
    user_id: str,
    body: Any,
    idempotency_key: str | None,
    retention_days: int,
) -> Created:
    """Validate, store the queued comment durably, wake dispatch; 201 with the comment."""
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
        raise ApiError(422, "Idempotency-Key: must be 1 to 255 characters")
    now = utcnow()
    # The route is part of the hash: a key reused across POST /v2/posts and this conflicts.
    digest = request_hash({"comment": body}) if idempotency_key else ""
    if idempotency_key:
        replayed = await replay(db, user_id, idempotency_key, digest, now)
        if replayed is not None:
            return replayed
    if not isinstance(body, dict):
        raise ValidationFailed.one("body", "must be a JSON object")
    post_id = _string(body, "postId", required=True)
    parent_id = _string(body, "parentCommentId", required=False)
    text = body.get("text")
    if post_id is None or not storable_id(post_id):
        raise ApiError(404, POST_NOT_FOUND)
    since = retention_cutoff(now, retention_days)

    def look(conn: Connection) -> tuple[store.PublishedRef | None, Any]:
        post = store.published_post(conn, post_id, user_id)
        parent = None
        if parent_id is not None and storable_id(parent_id):
            parent = store.get(conn, user_id, parent_id, since=since)
        return post, parent

    post, parent = await db.read(look)
    if post is None:
        raise ApiError(404, POST_NOT_FOUND)
    rules = COMMENTS.get(post.platform)
    if rules is None:
        raise unsupported(post.platform)
    if post.state != State.PUBLISHED or post.remote_id is None:
        raise ApiError(422, "Post is not published")
    if parent_id is not None:
        if parent is None:
            raise ApiError(404, COMMENT_NOT_FOUND)
        if parent.parent_id is not None:
            raise ValidationFailed.one("parentCommentId", "must be a top-level comment")
        if parent.post_id != post.id:
            raise ValidationFailed.one("parentCommentId", "belongs to another post")
        if parent.status != CommentStatus.POSTED:
            raise ValidationFailed.one("parentCommentId", "comment is not posted")
    checked = check_text(text, rules, post.platform)
    new = store.NewComment(
        id=str(uuid.uuid4()),
        user_id=user_id,
        account_id=post.account_id,
        post_id=post.id,
        platform=post.platform,
        parent_id=parent_id,
        text=checked,
    )

    def write(conn: Connection) -> Created:
        store.queue_outbound(conn, [new], now)
        facts = store.by_id(conn, new.id)
        assert facts is not None  # written just above, in this transaction
        response = comment_view(facts)
        events.announce(conn)  # wakes the comment loops once this commits
        if idempotency_key:
            idempotency.remember(
                conn,
                user_id=user_id,
                key=idempotency_key,
                request_hash=digest,
                status_code=201,
                response=response,
                now=now,
            )
        return Created(201, response, due_at=now)

    try:
        created = await db.write(write, isolated=bool(idempotency_key))
    except IntegrityError:
        if not idempotency_key:
            raise
        # Another request stored the same key meanwhile: answer as it was answered.
        replayed = await replay(db, user_id, idempotency_key, digest, now)
        if replayed is None:
            raise
        return replayed
    return created


async def get_comment(
    db: Database, user_id: str, comment_id: str, retention_days: int
) -> dict[str, Any]:
    if not storable_id(comment_id):
        raise ApiError(404, COMMENT_NOT_FOUND)
    since = retention_cutoff(utcnow(), retention_days)
    facts = await db.read(lambda conn: store.get(conn, user_id, comment_id, since=since))
    if facts is None:
        raise ApiError(404, COMMENT_NOT_FOUND)
    return comment_view(facts)


def _bool(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    if value not in ("true", "false"):
        raise ValidationFailed.one(name, "must be true or false")
    return value == "true"


async def listing(
    db: Database,
    user_id: str,
    *,
    retention_days: int,
    limit: int = 50,
    cursor: str | None = None,
    account_id: str | None = None,
    post_id: str | None = None,
    parent_comment_id: str | None = None,
    platforms: tuple[str, ...] | list[str] = (),
    since: str | None = None,
    until: str | None = None,
    is_author: str | None = None,
    statuses: tuple[str, ...] | list[str] = (),
) -> dict[str, Any]:
    if not 1 <= limit <= LIST_LIMIT:
        raise ValidationFailed.one("limit", f"must be between 1 and {LIST_LIMIT}")
    for platform in platforms:
        if platform not in TARGET_TYPES:
            raise ValidationFailed.one("platform", f"unknown platform {platform!r}")
    known = tuple(s.value for s in CommentStatus)
    for status in statuses:
        if status not in known:
            raise ValidationFailed.one("status", f"must be one of {', '.join(known)}")
    now = utcnow()
    floor = retention_cutoff(now, retention_days)
    start = inputs.parse_instant(since, "since") if since is not None else floor
    end = inputs.parse_instant(until, "until") if until is not None else None
    account = None
    if account_id is not None:
        account = inputs.row_id(account_id)
        if account is None:
            raise ValidationFailed.one("accountId", "must be a numeric string")
    after = decode_cursor(cursor) if cursor else None
    author = _bool(is_author, "isAuthor")
    unmatched = (post_id is not None and not storable_id(post_id)) or (
        parent_comment_id is not None and not storable_id(parent_comment_id)
    )
    if unmatched:
        return {"items": []}
    filters = store.Filters(
        since=max(start, floor),
        until=end,
        account_id=account,
        post_id=post_id,
        parent_id=parent_comment_id,
        platforms=tuple(platforms),
        statuses=tuple(statuses),
        is_author=author,
    )
    rows = await db.read(
        lambda conn: store.listing(conn, user_id, filters, after=after, limit=limit + 1)
    )
    body: dict[str, Any] = {"items": [comment_view(row) for row in rows[:limit]]}
    if len(rows) > limit:
        last = rows[limit - 1]
        body["cursor"] = encode_cursor(last.created_at, last.id)
    return body


INBOX_LIMIT = 500


async def inbox(db: Database, user_id: str, retention_days: int) -> list[InboxPost]:
    """The web inbox: the newest comments, grouped by post (domain/comments.inbox)."""
    filters = store.Filters(since=retention_cutoff(utcnow(), retention_days))
    rows = await db.read(
        lambda conn: store.listing(conn, user_id, filters, after=None, limit=INBOX_LIMIT)
    )
    return build_inbox(rows)
