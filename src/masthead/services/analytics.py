"""Analytics reads and the refresh (contract section 9), shared by the REST routes, the MCP
tools and the web page. Reads never call a platform: they serve what the collector stored."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from masthead.domain import inputs
from masthead.domain.analytics import DEFAULT_SORT, REFRESH_INTERVAL, SORT_KEYS, sort_value, totals
from masthead.domain.errors import ValidationFailed
from masthead.platforms.registry import SOCIAL
from masthead.services.errors import ApiError, rate_limited
from masthead.store import analytics as store
from masthead.store.database import Database
from masthead.timeutil import iso, utcnow

LIMIT = 100
DEFAULT_LIMIT = 20
WINDOW = timedelta(days=30)
PUBLISHED_SORTS = ("newest", "oldest")


@dataclass(frozen=True, slots=True)
class Window:
    since: datetime
    until: datetime


def window(since: str | None, until: str | None) -> Window:
    """`since`/`until` on publication time; defaults now - 30 days and now."""
    now = utcnow()
    start = inputs.parse_instant(since, "since") if since is not None else now - WINDOW
    end = inputs.parse_instant(until, "until") if until is not None else now
    if start > end:
        raise ApiError(422, "since: must not be after until")
    return Window(start, end)


def _limit(limit: int) -> int:
    if not 1 <= limit <= LIMIT:
        raise ApiError(422, f"limit: must be between 1 and {LIMIT}")
    return limit


def _platforms(values: Sequence[str]) -> list[str]:
    for value in values:
        if value not in SOCIAL:
            raise ApiError(422, f"platform: must be one of {', '.join(SOCIAL)} (got {value!r})")
    return list(values)


def _account(value: str | None) -> int | None:
    if value is None:
        return None
    number = inputs.row_id(value)
    if number is None:
        raise ApiError(422, "accountId: must be a numeric account id")
    return number


def snapshot(found: store.Snapshot) -> dict[str, Any]:
    return {"fetchedAt": iso(found.fetched_at), "metrics": found.metrics}


def _item(
    row: store.PublishedRow,
    history: Sequence[store.Snapshot],
    state: store.CollectionState | None,
) -> dict[str, Any]:
    content = row.draft.get("content", {})
    return {
        "id": row.id,
        "postSubmissionId": row.id,
        "platform": row.platform,
        "accountId": str(row.account_id),
        "content": content.get("text", ""),
        "createdAt": iso(row.published_at),
        "postUrl": row.public_url,
        "mediaUrls": list(content.get("mediaUrls", [])),
        "latestMetrics": snapshot(history[-1]) if history else None,
        "metricsHistory": [snapshot(s) for s in history],
        "lastError": state.last_error if state else None,
    }


def _encode_cursor(sort_by: str, value: int, at: datetime, post_id: str) -> str:
    raw = orjson.dumps({"s": sort_by, "v": value, "t": at.isoformat(), "id": post_id})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort_by: str) -> tuple[int, datetime, str]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        value, post_id = data["v"], data["id"]
        at = inputs.parse_instant(data["t"], "cursor")
        if data["s"] != sort_by or not isinstance(value, int) or not isinstance(post_id, str):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, ValidationFailed):
        raise ApiError(422, "cursor: is not a cursor returned by this endpoint") from None
    return value, at, post_id


@dataclass(frozen=True, slots=True)
class Measured:
    rows: list[store.PublishedRow]
    history: dict[str, list[store.Snapshot]]
    states: dict[str, store.CollectionState]


async def _measured(
    db: Database,
    user_id: str,
    span: Window,
    platforms: Sequence[str],
    account_id: int | None,
) -> Measured:
    def load(conn: Connection) -> Measured:
        rows = store.published_posts(
            conn,
            user_id,
            since=span.since,
            until=span.until,
            platforms=platforms,
            account_id=account_id,
        )
        ids = [row.id for row in rows]
        return Measured(rows, store.history(conn, ids), store.collection_state(conn, ids))

    return await db.read(load)


async def top_posts(
    db: Database,
    user_id: str,
    *,
    since: str | None = None,
    until: str | None = None,
    sort_by: str | None = None,
    limit: int = DEFAULT_LIMIT,
    platforms: Sequence[str] = (),
    account_id: str | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """GET /v2/analytics: measured posts published in the window, best first."""
    sort_by = sort_by or DEFAULT_SORT
    if sort_by not in SORT_KEYS:
        raise ApiError(422, f"sortBy: must be one of {', '.join(SORT_KEYS)}")
    limit = _limit(limit)
    span = window(since, until)
    after = _decode_cursor(cursor, sort_by) if cursor else None
    found = await _measured(db, user_id, span, _platforms(platforms), _account(account_id))
    ranked = sorted(
        (
            (sort_value(found.history[row.id][-1].metrics, sort_by), row)
            for row in found.rows
            if row.id in found.history
        ),
        key=lambda pair: (-pair[0], -pair[1].published_at.timestamp(), pair[1].id),
    )
    if after is not None:
        value, at, post_id = after
        mark = (-value, -at.timestamp(), post_id)
        ranked = [
            pair
            for pair in ranked
            if (-pair[0], -pair[1].published_at.timestamp(), pair[1].id) > mark
        ]
    page = ranked[:limit]
    body: dict[str, Any] = {
        "items": [_item(row, found.history[row.id], found.states.get(row.id)) for _, row in page]
    }
    if len(ranked) > limit:
        value, last = page[-1]
        body["cursor"] = _encode_cursor(sort_by, value, last.published_at, last.id)
    return body


async def published(
    db: Database,
    user_id: str,
    *,
    query: str | None = None,
    platform: str | None = None,
    sort_by: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
    account_id: str | None = None,
) -> dict[str, Any]:
    """GET /v2/published-posts: every published post, measured or not."""
    sort_by = sort_by or "newest"
    if sort_by not in PUBLISHED_SORTS:
        raise ApiError(422, f"sortBy: must be one of {', '.join(PUBLISHED_SORTS)}")
    if offset < 0:
        raise ApiError(422, "offset: must be 0 or more")
    limit = _limit(limit)
    platforms = _platforms([platform] if platform else [])
    number = _account(account_id)
    needle = (query or "").casefold()

    def load(conn: Connection) -> tuple[list[store.PublishedRow], dict[str, list[store.Snapshot]]]:
        rows = store.published_posts(conn, user_id, platforms=platforms, account_id=number)
        if needle:
            rows = [
                r
                for r in rows
                if needle in str(r.draft.get("content", {}).get("text", "")).casefold()
            ]
        if sort_by == "oldest":
            rows.reverse()
        page = rows[offset : offset + limit]
        return rows, store.history(conn, [r.id for r in page])

    rows, history = await db.read(load)
    items = []
    for row in rows[offset : offset + limit]:
        content = row.draft.get("content", {})
        snapshots = history.get(row.id)
        items.append(
            {
                "id": row.id,
                "content": content.get("text", ""),
                "postUrl": row.public_url,
                "platform": row.platform,
                "createdAt": iso(row.published_at),
                "mediaUrls": list(content.get("mediaUrls", [])),
                "latestMetrics": snapshot(snapshots[-1]) if snapshots else None,
                "accountId": str(row.account_id),
            }
        )
    return {"items": items, "count": len(rows)}


async def _published_post(db: Database, user_id: str, post_id: str) -> store.PublishedRow:
    """The caller's published post, or the contract's 404s."""
    if inputs.post_id(post_id) is None:
        raise ApiError(404, "Post not found")
    state, row = await db.read(lambda c: store.published_post(c, user_id, post_id))
    if not state or state == "cancelled":
        raise ApiError(404, "Post not found")
    if row is None:
        raise ApiError(404, "Post is not published")
    return row


async def post_analytics(db: Database, user_id: str, post_id: str) -> dict[str, Any]:
    """GET /v2/posts/{id}/analytics."""
    row = await _published_post(db, user_id, post_id)

    def load(
        conn: Connection,
    ) -> tuple[list[store.Snapshot], store.CollectionState | None]:
        return (
            store.history(conn, [post_id]).get(post_id, []),
            store.collection_state(conn, [post_id]).get(post_id),
        )

    history, state = await db.read(load)
    last_error = state.last_error if state else None
    if not history and last_error is None:
        raise ApiError(404, "Analytics have not yet synced for this post")
    latest = history[-1] if history else None
    return {
        "metrics": latest.metrics if latest else None,
        "lastFetchedAt": iso(latest.fetched_at) if latest else None,
        "history": [snapshot(s) for s in history],
        "lastError": last_error,
        "id": row.id,
        "platform": row.platform,
        "postUrl": row.public_url,
        "nextFetchAt": iso(state.next_fetch_at) if state and state.next_fetch_at else None,
        "platformMetrics": latest.raw if latest else None,
    }


async def by_platform(
    db: Database,
    user_id: str,
    *,
    since: str | None = None,
    until: str | None = None,
    account_id: str | None = None,
) -> dict[str, Any]:
    """GET /v2/analytics/platforms: per platform, posts, measured posts and totals."""
    found = await _measured(db, user_id, window(since, until), [], _account(account_id))
    grouped: dict[str, list[store.PublishedRow]] = {}
    for row in found.rows:
        grouped.setdefault(row.platform, []).append(row)
    return {
        "items": [
            _totals(found, rows) | {"platform": name} for name, rows in sorted(grouped.items())
        ]
    }


def _totals(found: Measured, rows: Sequence[store.PublishedRow]) -> dict[str, Any]:
    latest = [found.history[r.id][-1].metrics for r in rows if r.id in found.history]
    return {"postsCount": len(rows), "measuredPostsCount": len(latest), "totals": totals(latest)}


async def summary(
    db: Database,
    user_id: str,
    *,
    since: str | None = None,
    until: str | None = None,
    platforms: Sequence[str] = (),
    account_id: str | None = None,
) -> dict[str, Any]:
    """GET /v2/analytics/summary: totals over the window and its top post by views."""
    span = window(since, until)
    found = await _measured(db, user_id, span, _platforms(platforms), _account(account_id))
    measured = [row for row in found.rows if row.id in found.history]
    top = max(
        measured,
        key=lambda r: (
            sort_value(found.history[r.id][-1].metrics, DEFAULT_SORT),
            r.published_at,
        ),
        default=None,
    )
    return {
        "since": iso(span.since),
        "until": iso(span.until),
        **_totals(found, found.rows),
        "topPost": _item(top, found.history[top.id], found.states.get(top.id)) if top else None,
    }


async def refresh(db: Database, user_id: str, post_id: str) -> dict[str, Any]:
    """POST /v2/posts/{id}/analytics/refresh: one read now; at most one per 15 minutes."""
    row = await _published_post(db, user_id, post_id)
    now = utcnow()

    def ask(conn: Connection) -> float:
        last = store.last_refresh(conn, post_id)
        if last is not None and now - last < REFRESH_INTERVAL:
            return (last + REFRESH_INTERVAL - now).total_seconds()
        store.request_refresh(
            conn, post_id=post_id, account_id=row.account_id, platform=row.platform, now=now
        )
        return 0.0

    wait = await db.write(ask)
    if wait > 0:
        raise rate_limited(math.ceil(wait))
    return {"id": post_id, "status": "queued"}
