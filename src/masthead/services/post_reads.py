"""A post's status and the list of posts, as the contract shows them (section 2)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from masthead.domain import inputs
from masthead.domain.comments import CommentFacts, first_comment_status
from masthead.domain.errors import ValidationFailed
from masthead.domain.events import post_status
from masthead.domain.states import LIST_STATES, State, list_state
from masthead.platforms.registry import TARGET_TYPES
from masthead.services.errors import ApiError
from masthead.store import accounts
from masthead.store import comments as comment_store
from masthead.store import posts as post_store
from masthead.store.database import Database
from masthead.timeutil import iso, utcnow

LIST_LIMIT = 250


def storable_id(value: str) -> bool:
    """Whether a post id could be in the store at all. Anything else is unknown (404, as the
    contract says of unknown ids) and never reaches the database."""
    return inputs.post_id(value) is not None


def encode_cursor(time: datetime, post_id: str) -> str:
    raw = orjson.dumps({"t": time.isoformat(), "id": post_id})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = inputs.parse_instant(data["t"], "cursor")
        post_id = data["id"]
        if not isinstance(post_id, str) or not storable_id(post_id):
            raise ValueError
    except (
        ValueError,
        KeyError,
        TypeError,
        binascii.Error,
        orjson.JSONDecodeError,
        ValidationFailed,
    ):
        raise ApiError(422, "cursor: is not a cursor returned by this endpoint") from None
    return when, post_id


def _parse_time(value: str | None, name: str, default: datetime) -> datetime:
    return default if value is None else inputs.parse_instant(value, name)


async def status(db: Database, user_id: str, post_id: str) -> dict[str, Any]:
    """GET /v2/posts/{id}: 404 for unknown ids, other users' posts and cancelled ones."""
    if not storable_id(post_id):
        raise ApiError(404, "Post not found")

    def lookup(
        conn: Connection,
    ) -> tuple[
        post_store.PostRow | None, list[post_store.ItemResult], set[int], CommentFacts | None
    ]:
        post = post_store.get_post(conn, user_id, post_id)
        if post is None:
            return None, [], set(), None
        return (
            post,
            post_store.post_items(conn, post_id),
            accounts.removed_ids(conn, user_id),
            comment_store.first_comment_of(conn, post_id),
        )

    post, items, removed, first = await db.read(lookup)
    if post is None or post.state == State.CANCELLED:
        raise ApiError(404, "Post not found")
    body = post_status(post, items)
    if post.account_id in removed:
        body["accountRemoved"] = True
    if first is not None:
        body["firstComment"] = first_comment_status(first)
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
    states: list[State] = []
    for value in statuses:
        if value not in LIST_STATES:
            raise ApiError(422, f"status: must be one of {', '.join(LIST_STATES)} (got {value!r})")
        states.extend(LIST_STATES[value])
    for value in platforms:
        if value not in TARGET_TYPES:
            raise ApiError(
                422, f"platform: must be one of {', '.join(TARGET_TYPES)} (got {value!r})"
            )
    after = decode_cursor(cursor) if cursor else None

    def load(conn: Connection) -> tuple[list[post_store.PostRow], set[int]]:
        rows = post_store.list_posts(
            conn,
            user_id,
            since=start,
            until=end,
            states=states,
            platforms=list(platforms),
            after=after,
            limit=limit + 1,
        )
        return rows, accounts.removed_ids(conn, user_id)

    rows, removed = await db.read(load)
    items = []
    for row in rows[:limit]:
        content = row.draft.get("content", {})
        state_type = list_state(row.state)
        state: dict[str, object] = {"type": state_type}
        if state_type == State.PUBLISHED:
            state["postUrl"] = row.public_url
        elif state_type == State.FAILED:
            state["errorMessage"] = row.error_message or "Publishing failed"
        item: dict[str, object] = {
            "id": row.id,
            "postTime": iso(row.post_time),
            "platform": row.platform,
            "text": content.get("text", ""),
            "mediaUrls": content.get("mediaUrls", []),
            "state": state,
        }
        if row.account_id in removed:
            item["accountRemoved"] = True
        items.append(item)
    body: dict[str, Any] = {"items": items}
    if len(rows) > limit:
        last = rows[limit - 1]
        body["cursor"] = encode_cursor(last.post_time, last.id)
    return body
