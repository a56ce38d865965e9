"""What /posts shows: a week of posts as a calendar and a filtered list, each post with its
account, text, media, public URL or error, and a post's thread items. Reads only; cancelling
and rescheduling go through services/schedules.py, the API's own rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from masthead.domain.states import State, public_status
from masthead.store import accounts
from masthead.store import posts as post_store
from masthead.store.database import Database

LIST_LIMIT = 50
STATUSES = (State.SCHEDULED, State.IN_PROGRESS, State.PUBLISHED, State.FAILED)
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm")
WEEK_LIMIT = 120
"""A week holding more posts than this shows its first ones and says so (the list below it
has them all): more would not be readable as a calendar, and would cost the page its speed."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PostView:
    id: str
    status: str
    platform: str
    account: str
    text: str
    images: list[str]
    videos: list[str]
    public_url: str | None
    error: str | None
    when: datetime
    """post_time in the viewer's time zone"""
    editable: bool

    @property
    def label(self) -> str:
        """The calendar's line for it, built here once rather than by filters per entry."""
        text = self.text if len(self.text) <= 40 else self.text[:39] + "…"
        return f"{self.when:%H:%M} {self.platform}: {text}"


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    posts: list[PostView]


@dataclass(frozen=True, slots=True)
class Week:
    start: date
    days: list[Day]
    truncated: bool


def _view(row: post_store.PostRow, names: dict[int, str], zone: ZoneInfo) -> PostView:
    content: dict[str, Any] = row.draft.get("content", {})
    media = [str(url) for url in content.get("mediaUrls", [])]
    videos = [u for u in media if u.lower().split("?")[0].endswith(VIDEO_SUFFIXES)]
    status = public_status(row.state, row.scheduled_at)
    return PostView(
        id=row.id,
        status=status,
        platform=row.platform,
        account=names.get(row.account_id, str(row.account_id)),
        text=str(content.get("text", "")),
        images=[u for u in media if u not in videos],
        videos=videos,
        public_url=row.public_url,
        error=row.error_message,
        when=row.post_time.astimezone(zone),
        editable=status == State.SCHEDULED and row.started_at is None,
    )


def _names(conn: Connection, user_id: str) -> dict[int, str]:
    return {
        a.id: f"@{a.username}" + (" (removed account)" if a.status == accounts.REMOVED else "")
        for a in accounts.list_accounts(conn, user_id, removed=True)
    }


def _stored_states(statuses: Sequence[str]) -> list[str]:
    """The stored states behind the shown statuses: an immediate post waiting for its turn is
    stored `scheduled` but shown `in-progress` (domain.states.public_status)."""
    states = {State.SCHEDULED if s == State.IN_PROGRESS else s for s in statuses}
    if State.IN_PROGRESS in statuses:
        states.add(State.IN_PROGRESS)
    return sorted(states)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def week(
    db: Database,
    user_id: str,
    start: date,
    zone: ZoneInfo,
    *,
    statuses: Sequence[str],
    platforms: Sequence[str],
) -> Week:
    since = datetime.combine(start, time(), tzinfo=zone).astimezone(UTC)
    until = datetime.combine(start + timedelta(days=7), time(), tzinfo=zone).astimezone(UTC)

    def load(conn: Connection) -> tuple[list[post_store.PostRow], dict[int, str]]:
        rows = post_store.posts_between(
            conn,
            user_id,
            since=since,
            until=until,
            states=_stored_states(statuses),
            platforms=platforms,
            limit=WEEK_LIMIT + 1,
        )
        return rows, _names(conn, user_id)

    rows, names = await db.read(load)
    views = [_view(row, names, zone) for row in rows[:WEEK_LIMIT]]
    if statuses:
        views = [v for v in views if v.status in statuses]
    by_day: dict[date, list[PostView]] = {start + timedelta(days=i): [] for i in range(7)}
    for view in views:
        by_day[view.when.date()].append(view)
    return Week(start, [Day(day, posts) for day, posts in by_day.items()], len(rows) > WEEK_LIMIT)


async def listing(
    db: Database,
    user_id: str,
    zone: ZoneInfo,
    *,
    statuses: Sequence[str],
    platforms: Sequence[str],
    after: tuple[datetime, str] | None,
) -> tuple[list[PostView], tuple[datetime, str] | None]:
    """Newest first, LIST_LIMIT at a time; returns the cursor of the next page, if any."""

    def load(conn: Connection) -> tuple[list[post_store.PostRow], dict[int, str]]:
        rows = post_store.list_posts(
            conn,
            user_id,
            since=EPOCH,
            until=FAR_FUTURE,
            states=_stored_states(statuses),
            platforms=platforms,
            after=after,
            limit=LIST_LIMIT + 1,
        )
        return rows, _names(conn, user_id)

    rows, names = await db.read(load)
    views = [_view(row, names, zone) for row in rows[:LIST_LIMIT]]
    if statuses:
        views = [v for v in views if v.status in statuses]
    cursor = None
    if len(rows) > LIST_LIMIT:
        last = rows[LIST_LIMIT - 1]
        cursor = (last.post_time, last.id)
    return views, cursor


@dataclass(frozen=True, slots=True)
class PostDetail:
    post: PostView
    items: list[tuple[str, post_store.ItemResult | None]]
    """Each thread item's text with what the publisher recorded for it (None: not reached)."""


async def detail(db: Database, user_id: str, post_id: str, zone: ZoneInfo) -> PostDetail | None:
    """None for unknown ids and other users' posts alike (isolation: 404, not 403)."""

    def load(
        conn: Connection,
    ) -> tuple[post_store.PostRow | None, list[post_store.ItemResult], dict[int, str]]:
        row = post_store.get_post(conn, user_id, post_id)
        if row is None:
            return None, [], {}
        return row, post_store.post_items(conn, post_id), _names(conn, user_id)

    row, items, names = await db.read(load)
    if row is None:
        return None
    content: dict[str, Any] = row.draft.get("content", {})
    texts = [str(content.get("text", ""))] + [
        str(extra.get("text", "")) for extra in content.get("additionalPosts") or ()
    ]
    by_position = {item.position: item for item in items}
    return PostDetail(
        _view(row, names, zone),
        [(text, by_position.get(i)) for i, text in enumerate(texts)],
    )
