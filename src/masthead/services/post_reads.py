"""A post's status and the list of posts, as the contract shows them (section 2)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from masthead.domain.posts import TARGET_TYPES
from masthead.domain.states import OUTCOME_UNKNOWN, State, public_status
from masthead.services.errors import ApiError
from masthead.store import posts as post_store
from masthead.store.database import Database
from masthead.timeutil import iso, utcnow

LIST_STATES = {"scheduled": State.SCHEDULED, "published": State.PUBLISHED, "failed": State.FAILED}
LIST_LIMIT = 250


def storable_id(value: str) -> bool:
    """Whether a post id could be in the store at all. Anything else is unknown (404, as the
    contract says of unknown ids) and never reaches the database (PostgreSQL refuses NUL)."""
    return 0 < len(value) <= 64 and "\x00" not in value


def encode_cursor(time: datetime, post_id: str) -> str:
    raw = orjson.dumps({"t": time.isoformat(), "id": post_id})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromisoformat(data["t"])
        post_id = data["id"]
        if when.tzinfo is None or not isinstance(post_id, str) or not storable_id(post_id):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ApiError(422, "cursor: is not a cursor returned by this endpoint") from None
    return when, post_id


def _parse_time(value: str | None, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ApiError(422, f"{name}: must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ApiError(422, f"{name}: must carry a time zone offset (Z or +02:00)")
    return parsed


async def status(db: Database, user_id: str, post_id: str) -> dict[str, Any]:
    """GET /v2/posts/{id}: 404 for unknown ids, other users' posts and cancelled ones."""
    if not storable_id(post_id):
        raise ApiError(404, "Post not found")

    def lookup(conn: Connection) -> tuple[post_store.PostRow | None, list[post_store.ItemResult]]:
        post = post_store.get_post(conn, user_id, post_id)
        return post, post_store.post_items(conn, post_id) if post is not None else []

    post, items = await db.read(lookup)
    if post is None or post.state == State.CANCELLED:
        raise ApiError(404, "Post not found")
    shown = public_status(post.state, post.scheduled_at)
    body: dict[str, Any] = {"postSubmissionId": post.id, "status": shown}
    if post.scheduled_at is not None:
        body["scheduledTime"] = iso(post.scheduled_at)
    if shown == State.PUBLISHED:
        body["publicUrl"] = post.public_url
    if shown == State.FAILED:
        body["errorMessage"] = post.error_message or "Publishing failed"
        if post.outcome == OUTCOME_UNKNOWN:
            body["outcome"] = OUTCOME_UNKNOWN
    if items:
        body["posts"] = [
            {"publicUrl": item.public_url, "platformPostId": item.remote_id}
            for item in items
            if item.state == "sent"
        ]
    return body


async def listing(
    db: Database,
    user_id: str,
    *,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    statuses: Sequence[str] = (),
    platforms: Sequence[str] = (),
) -> dict[str, Any]:
    """GET /v2/posts: posts whose time is within [since, until] (default: a week either side
    of now), newest first, `limit` (1 to 250) a page."""
    if not 1 <= limit <= LIST_LIMIT:
        raise ApiError(422, f"limit: must be between 1 and {LIST_LIMIT}")
    now = utcnow()
    start = _parse_time(since, "since", now - timedelta(days=7))
    end = _parse_time(until, "until", now + timedelta(days=7))
    states = []
    for value in statuses:
        if value not in LIST_STATES:
            raise ApiError(
                422, f"status: must be one of scheduled, published, failed (got {value!r})"
            )
        states.append(LIST_STATES[value])
    for value in platforms:
        if value not in TARGET_TYPES:
            raise ApiError(
                422, f"platform: must be one of {', '.join(TARGET_TYPES)} (got {value!r})"
            )
    if State.SCHEDULED in states:
        states.append(State.IN_PROGRESS)
    after = decode_cursor(cursor) if cursor else None
    rows = await db.read(
        lambda conn: post_store.list_posts(
            conn,
            user_id,
            since=start,
            until=end,
            states=states,
            platforms=list(platforms),
            after=after,
            limit=limit + 1,
        )
    )
    items = []
    for row in rows[:limit]:
        content = row.draft.get("content", {})
        state_type = public_status(row.state, row.scheduled_at)
        state: dict[str, object] = {"type": state_type}
        if state_type == State.PUBLISHED:
            state["postUrl"] = row.public_url
        elif state_type == State.FAILED:
            state["errorMessage"] = row.error_message or "Publishing failed"
        items.append(
            {
                "id": row.id,
                "postTime": iso(row.post_time),
                "platform": row.platform,
                "text": content.get("text", ""),
                "mediaUrls": content.get("mediaUrls", []),
                "state": state,
            }
        )
    body: dict[str, Any] = {"items": items}
    if len(rows) > limit:
        last = rows[limit - 1]
        body["cursor"] = encode_cursor(last.post_time, last.id)
    return body
