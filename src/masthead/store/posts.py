"""Posts as the API sees them: create, read, list, and edit while still scheduled."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Dialect, and_, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from masthead.domain.states import EDITABLE_STATES, State
from masthead.store.db import execute_write
from masthead.store.models import Account, Post, PostItem, Subaccount
from masthead.store.pages import keyset_page


@dataclass(frozen=True, slots=True)
class PostRow:
    id: str
    user_id: str
    account_id: int
    platform: str
    draft: dict[str, Any]
    state: str
    outcome: str | None
    error_message: str | None
    public_url: str | None
    scheduled_at: datetime | None
    post_time: datetime
    started_at: datetime | None


_POST_COLUMNS = (
    Post.id,
    Post.user_id,
    Post.account_id,
    Post.platform,
    Post.draft,
    Post.state,
    Post.outcome,
    Post.error_message,
    Post.public_url,
    Post.scheduled_at,
    Post.post_time,
    Post.started_at,
)


def new_post_id() -> str:
    """A new post's id: a UUID of RFC 9562's version 7, the Unix time in milliseconds in its
    first 48 bits and 74 random bits after. Ids in time order go to the end of the primary
    key's index, so a group commit dirties a few of its pages instead of one per post (with
    random version-4 ids the WAL written per post grew from 6.3 to 9.1 KB as the table grew to
    45,000 rows, and the writer's CPU per post with it; 3.4 KB throughout with these)."""
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    raw[6] = raw[6] & 0x0F | 0x70  # version 7
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC's variant
    digits = raw.hex()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


@dataclass(frozen=True, slots=True)
class NewPost:
    id: str
    user_id: str
    account_id: int
    platform: str
    subaccount_id: str | None
    draft: dict[str, Any]
    scheduled_at: datetime | None
    slot_key: str | None = None


def new_post_values(post: NewPost, now: datetime) -> dict[str, Any]:
    when = post.scheduled_at or now
    return {
        "id": post.id,
        "user_id": post.user_id,
        "account_id": post.account_id,
        "platform": post.platform,
        "subaccount_id": post.subaccount_id,
        "draft": post.draft,
        "state": State.SCHEDULED,
        "scheduled_at": post.scheduled_at,
        "post_time": when,
        "due_at": when,
        "attempt": 0,
        "version": 1,
        "slot_key": post.slot_key,
        "created_at": now,
        "updated_at": now,
    }


_INSERT_POST = insert(Post)
"""Built once: constructing a statement per call costs more than executing it."""


@dataclass(frozen=True, slots=True)
class _CompiledInsert:
    sql: str
    binds: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    """Each parameter's column key and the dialect's bind processor for its type, in order."""


_COMPILED_INSERTS: WeakKeyDictionary[Dialect, dict[tuple[str, ...], _CompiledInsert]]
_COMPILED_INSERTS = WeakKeyDictionary()


def _compiled_insert(dialect: Dialect, keys: tuple[str, ...]) -> _CompiledInsert:
    """`_INSERT_POST` compiled once per dialect and set of columns, with its bind
    processors: executing the statement looks its compiled form up by a cache key built on
    every call, which with the parameters' processing was most of a post insert's cost in the
    writer thread."""
    compiled_for = _COMPILED_INSERTS.setdefault(dialect, {})
    found = compiled_for.get(keys)
    if found is None:
        compiled = _INSERT_POST.compile(dialect=dialect, column_keys=list(keys))
        assert compiled.positiontup is not None  # both drivers take positional parameters
        columns = Post.__table__.c
        found = compiled_for[keys] = _CompiledInsert(
            compiled.string,
            tuple(
                (key, columns[key].type.dialect_impl(dialect).bind_processor(dialect))
                for key in compiled.positiontup
            ),
        )
    return found


def insert_post(conn: Connection, post: NewPost, now: datetime) -> None:
    values = new_post_values(post, now)
    compiled = _compiled_insert(conn.dialect, tuple(values))
    execute_write(
        conn,
        compiled.sql,
        tuple(
            values[key] if process is None else process(values[key])
            for key, process in compiled.binds
        ),
    )


_GET_POST = select(*_POST_COLUMNS).where(
    Post.id == bindparam("post_id"), Post.user_id == bindparam("user_id")
)
"""The reads of `GET /v2/posts/{id}` are built once, with their values bound at each call:
building a select of ORM columns cost ten times executing it (188 against 18 us)."""


def get_post(conn: Connection, user_id: str, post_id: str) -> PostRow | None:
    row = conn.execute(_GET_POST, {"post_id": post_id, "user_id": user_id}).first()
    return PostRow(*row) if row else None


@dataclass(frozen=True, slots=True)
class ItemResult:
    position: int
    state: str
    remote_id: str | None
    public_url: str | None


_POST_ITEMS = (
    select(PostItem.position, PostItem.state, PostItem.remote_id, PostItem.public_url)
    .where(PostItem.post_id == bindparam("post_id"))
    .order_by(PostItem.position)
)


def post_items(conn: Connection, post_id: str) -> list[ItemResult]:
    return [ItemResult(*row) for row in conn.execute(_POST_ITEMS, {"post_id": post_id})]


def list_posts(
    conn: Connection,
    user_id: str,
    *,
    since: datetime,
    until: datetime,
    states: Sequence[str],
    platforms: Sequence[str],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[PostRow]:
    """Newest `post_time` first; `after` is the (post_time, id) of the last row already seen."""
    query = select(*_POST_COLUMNS).where(
        Post.user_id == user_id,
        Post.post_time >= since,
        Post.post_time <= until,
        Post.state != State.CANCELLED,
    )
    if states:
        query = query.where(Post.state.in_(states))
    if platforms:
        query = query.where(Post.platform.in_(platforms))
    query = keyset_page(query, Post.post_time, Post.id, after=after, limit=limit, newest_first=True)
    return [PostRow(*row) for row in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    post: PostRow
    account_name: str | None
    account_username: str | None
    account_image: str | None
    account_status: str | None


def _scheduled(user_id: str) -> Any:
    return and_(
        Post.user_id == user_id,
        Post.state == State.SCHEDULED,
        Post.scheduled_at.is_not(None),
    )


def list_schedules(
    conn: Connection, user_id: str, *, after: tuple[datetime, str] | None, limit: int
) -> list[ScheduleRow]:
    query = (
        select(
            *_POST_COLUMNS,
            Account.fullname,
            Account.username,
            Account.profile_image_url,
            Account.status,
        )
        .join(Account, Account.id == Post.account_id)
        .where(_scheduled(user_id))
    )
    query = keyset_page(
        query, Post.scheduled_at, Post.id, after=after, limit=limit, newest_first=False
    )
    return [
        ScheduleRow(PostRow(*row[: len(_POST_COLUMNS)]), *row[len(_POST_COLUMNS) :])
        for row in conn.execute(query)
    ]


def count_schedules(conn: Connection, user_id: str) -> int:
    query = select(func.count()).select_from(Post).where(_scheduled(user_id))
    return int((conn.execute(query)).scalar_one())


def get_schedule(conn: Connection, user_id: str, post_id: str) -> ScheduleRow | None:
    query = (
        select(
            *_POST_COLUMNS,
            Account.fullname,
            Account.username,
            Account.profile_image_url,
            Account.status,
        )
        .join(Account, Account.id == Post.account_id)
        .where(_scheduled(user_id), Post.id == post_id)
    )
    row = (conn.execute(query)).first()
    return (
        ScheduleRow(PostRow(*row[: len(_POST_COLUMNS)]), *row[len(_POST_COLUMNS) :])
        if row
        else None
    )


def subaccount_name(conn: Connection, account_id: int, external_id: str) -> str | None:
    return (
        conn.execute(
            select(Subaccount.name).where(
                Subaccount.account_id == account_id, Subaccount.external_id == external_id
            )
        )
    ).scalar()


def _editable(user_id: str, post_id: str) -> Any:
    # A claimed post may still be edited until its first irreversible call (started_at);
    # the version bump makes the worker holding the old copy drop it.
    return and_(
        Post.id == post_id,
        Post.user_id == user_id,
        Post.scheduled_at.is_not(None),
        Post.state.in_(EDITABLE_STATES),
        Post.started_at.is_(None),
    )


def reschedule(
    conn: Connection,
    user_id: str,
    post_id: str,
    *,
    now: datetime,
    scheduled_at: datetime | None,
    draft: dict[str, Any] | None,
    account_id: int | None,
    platform: str | None,
    subaccount_id: str | None,
) -> bool:
    values: dict[str, Any] = {
        "state": State.SCHEDULED,
        "version": Post.version + 1,
        "lease_owner": None,
        "lease_until": None,
        "updated_at": now,
        "slot_key": None,
    }
    if scheduled_at is not None:
        values |= {"scheduled_at": scheduled_at, "due_at": scheduled_at, "post_time": scheduled_at}
    if draft is not None:
        values |= {
            "draft": draft,
            "account_id": account_id,
            "platform": platform,
            "subaccount_id": subaccount_id,
        }
    result = conn.execute(update(Post).where(_editable(user_id, post_id)).values(**values))
    return result.rowcount == 1


def cancel(conn: Connection, user_id: str, post_id: str, now: datetime) -> bool:
    result = conn.execute(
        update(Post)
        .where(_editable(user_id, post_id))
        .values(
            state=State.CANCELLED,
            version=Post.version + 1,
            due_at=None,
            lease_owner=None,
            lease_until=None,
            slot_key=None,
            updated_at=now,
            finished_at=now,
        )
    )
    return result.rowcount == 1


def occupied_times(
    conn: Connection,
    account_id: int,
    subaccount_id: str | None,
    start: datetime,
    end: datetime,
) -> set[datetime]:
    """Times at which this target already has a post waiting (slot occupancy)."""
    subaccount_id = subaccount_id or None  # n8n sends "" for "no page"
    query = select(Post.scheduled_at).where(
        Post.account_id == account_id,
        Post.scheduled_at >= start,
        Post.scheduled_at <= end,
        Post.state != State.CANCELLED,
    )
    query = query.where(
        Post.subaccount_id.is_(None)
        if subaccount_id is None
        else Post.subaccount_id == subaccount_id
    )
    return {row[0] for row in conn.execute(query) if row[0] is not None}


def fail_unsent(conn: Connection, post_id: str, error: str, now: datetime) -> bool:
    """Fail a post before anything of it was sent (its media was refused after ingest)."""
    return _fail_unsent(conn, Post.id == post_id, error, now) == 1


def fail_unsent_of_account(conn: Connection, account_id: int, error: str, now: datetime) -> int:
    """Fail every post of the account not yet begun (the account was removed); the posts are
    kept with the reason, and their slots are free again."""
    return _fail_unsent(conn, Post.account_id == account_id, error, now)


def _fail_unsent(conn: Connection, which: Any, error: str, now: datetime) -> int:
    """The version bump makes a worker that already claimed a post drop it before sending."""
    result = conn.execute(
        update(Post)
        .where(which, Post.state.in_(EDITABLE_STATES), Post.started_at.is_(None))
        .values(
            state=State.FAILED,
            error_message=error,
            version=Post.version + 1,
            due_at=None,
            lease_owner=None,
            lease_until=None,
            slot_key=None,
            updated_at=now,
            finished_at=now,
        )
    )
    return result.rowcount


def posts_between(
    conn: Connection,
    user_id: str,
    *,
    since: datetime,
    until: datetime,
    states: Sequence[str],
    platforms: Sequence[str],
    limit: int,
) -> list[PostRow]:
    """Posts going out in [since, until), earliest first, cancelled ones left out: a calendar's
    view of one period (the same index as list_posts: user_id, post_time)."""
    query = select(*_POST_COLUMNS).where(
        Post.user_id == user_id,
        Post.post_time >= since,
        Post.post_time < until,
        Post.state != State.CANCELLED,
    )
    if states:
        query = query.where(Post.state.in_(states))
    if platforms:
        query = query.where(Post.platform.in_(platforms))
    query = query.order_by(Post.post_time, Post.id).limit(limit)
    return [PostRow(*row) for row in conn.execute(query)]


def posts_by_ids(conn: Connection, post_ids: Sequence[str], *, owners: Any = None) -> list[PostRow]:
    """For writers that already hold the ids (the events outbox), whatever the owner, or of
    the users `owners` (a subquery of user ids) selects."""
    query = select(*_POST_COLUMNS).where(Post.id.in_(post_ids))
    if owners is not None:
        query = query.where(Post.user_id.in_(owners))
    return [PostRow(*row) for row in conn.execute(query)]


def items_of(conn: Connection, post_ids: Sequence[str]) -> dict[str, list[ItemResult]]:
    """`post_items` of many posts at once, by post, in position order."""
    found: dict[str, list[ItemResult]] = {}
    rows = conn.execute(
        select(
            PostItem.post_id,
            PostItem.position,
            PostItem.state,
            PostItem.remote_id,
            PostItem.public_url,
        )
        .where(PostItem.post_id.in_(post_ids))
        .order_by(PostItem.post_id, PostItem.position)
    )
    for post_id, position, state, remote_id, public_url in rows:
        found.setdefault(post_id, []).append(ItemResult(position, state, remote_id, public_url))
    return found
