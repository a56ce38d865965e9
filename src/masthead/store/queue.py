"""The dispatch queue's SQL: batch claims, leases, sending marks and outcomes.

Only `dispatch/` imports this module; everything else sees the queue through the port in
`dispatch/port.py`. One claim statement takes up to B due rows (ARCHITECTURE.md: ~0.06 ms per
post on PostgreSQL with SKIP LOCKED, measured in shared/tools/engine-bench/).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    DateTime,
    String,
    Text,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from masthead.domain.analytics import Checkpoints
from masthead.domain.states import OUTCOME_UNKNOWN, State
from masthead.store import analytics, comments, events
from masthead.store.leases import lease_due, unleased
from masthead.store.models import Post, PostItem, Worker
from masthead.store.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class ClaimedPost:
    id: str
    user_id: str
    account_id: int
    platform: str
    draft: dict[str, Any]
    scheduled_at: datetime | None
    created_at: datetime
    due_at: datetime
    attempt: int
    version: int
    started_at: datetime | None


def _claimable(now: datetime, dialect: str) -> Any:
    # SQLite has no statistics and, given `state IN (...)`, walks the state index through
    # every waiting post (all future ones too) and sorts them: 157 ms per claim with 45,000
    # posts scheduled ahead, inside the group commit, so the API stalled as the table grew.
    # A unary + keeps the state term off every index (sqlite.org/optoverview.html), so the
    # claim reads the `due_at` index in order and stops at its limit.
    state = literal_column("+posts.state", Post.state.type) if dialect == "sqlite" else Post.state
    return and_(
        Post.due_at <= now,
        state.in_((State.SCHEDULED, State.IN_PROGRESS)),
        unleased(Post.lease_until, now),
    )


def claim(
    conn: Connection,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    skip_locked: bool,
) -> list[ClaimedPost]:
    """Take up to `limit` due rows, oldest due first, and lease them to `owner`."""
    result = lease_due(
        conn,
        Post.id,
        where=_claimable(now, conn.dialect.name),
        order_by=[Post.due_at],
        limit=limit,
        skip_locked=skip_locked,
        values={
            "state": State.IN_PROGRESS,
            "lease_owner": owner,
            "lease_until": now + lease,
            "attempt": Post.attempt + 1,
            "updated_at": now,
        },
        returning=[
            Post.id,
            Post.user_id,
            Post.account_id,
            Post.platform,
            Post.draft,
            Post.scheduled_at,
            Post.created_at,
            Post.due_at,
            Post.attempt,
            Post.version,
            Post.started_at,
        ],
    )
    claimed = [ClaimedPost(*row) for row in result]
    claimed.sort(key=lambda post: post.due_at)
    return claimed


_FIRST_DUE = (
    select(Post.due_at)
    .where(Post.due_at.is_not(None), Post.lease_until.is_(None))
    .order_by(Post.due_at)
    .limit(1)
)
_FIRST_LEASE_END = select(func.min(Post.lease_until, type_=UTCDateTime())).where(
    Post.lease_until.is_not(None), Post.due_at.is_not(None)
)
"""Both built once: the engine reads them each time it goes to sleep, which under a steady
trickle of due posts is after nearly every claim, and building them cost ten times running
them (see store/posts._GET_POST)."""


def next_wakeup(conn: Connection) -> datetime | None:
    """The earliest moment a row becomes claimable: the first unleased due time (read off
    the `due_at` index) or the end of the earliest lease (few rows: only those in flight)."""
    first_due = conn.execute(_FIRST_DUE).scalar()
    first_lease_end = conn.execute(_FIRST_LEASE_END).scalar()
    times = [t for t in (first_due, first_lease_end) if t is not None]
    return min(times) if times else None


def renew(conn: Connection, *, owner: str, ids: list[str], until: datetime) -> None:
    conn.execute(
        update(Post).where(Post.id.in_(ids), Post.lease_owner == owner).values(lease_until=until)
    )


def existing_items(conn: Connection, post_id: str) -> list[Any]:
    rows = conn.execute(
        select(
            PostItem.position,
            PostItem.state,
            PostItem.remote_id,
            PostItem.public_url,
            PostItem.data,
        )
        .where(PostItem.post_id == post_id)
        .order_by(PostItem.position)
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class SendingMark:
    """An irreversible call about to be made for item `position` of a post claimed at
    `version`, with what `prepare` returned."""

    post_id: str
    version: int
    position: int
    data: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class SentMark:
    """The platform's answer for one item, stored over its sending mark."""

    post_id: str
    position: int
    remote_id: str
    public_url: str
    data: dict[str, Any] | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a post ended: published or failed (possibly with the outcome unknown)."""

    post_id: str
    platform: str
    """The post's platform: what is started after a publish depends on it."""
    state: State
    at: datetime
    public_url: str | None = None
    error: str | None = None
    outcome_unknown: bool = False
    answer: SentMark | None = None
    """The last item's answer, stored in the outcome's commit rather than a commit of its
    own before it."""


# The batch functions below take the marks of many in-flight posts at once: a statement per
# batch rather than per post is what lets one worker finish 10,000 posts in seconds
# (docs/performance.md).


def mark_sending(
    conn: Connection, *, owner: str, now: datetime, marks: Sequence[SendingMark]
) -> list[bool]:
    """Record that irreversible calls are about to be made. False for a post that was edited,
    cancelled or taken over since it was claimed: this worker must not send it."""
    if not marks:
        return []
    marked = set(
        conn.execute(
            update(Post)
            .where(
                # The plain `id IN` is what reaches the primary key: SQLite scans the whole
                # table for a row-value IN alone, once per batch (docs/performance.md part 6).
                Post.id.in_([m.post_id for m in marks]),
                tuple_(Post.id, Post.version).in_([(m.post_id, m.version) for m in marks]),
                Post.lease_owner == owner,
                Post.state == State.IN_PROGRESS,
            )
            .values(started_at=func.coalesce(Post.started_at, now), updated_at=now)
            .returning(Post.id)
        ).scalars()
    )
    rows = [
        {
            "post_id": m.post_id,
            "position": m.position,
            "state": "sending",
            "sending_at": now,
            "data": m.data,
        }
        for m in marks
        if m.post_id in marked
    ]
    if rows:
        # A batch written again after a commit whose answer was lost (a connection cut during
        # COMMIT) finds its own marks there: they stand, and the posts may still be sent.
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(PostItem).on_conflict_do_nothing(), rows)
    return [m.post_id in marked for m in marks]


def mark_sent(conn: Connection, marks: Sequence[SentMark]) -> None:
    if not marks:
        return
    conn.execute(
        update(PostItem)
        .where(
            PostItem.post_id == bindparam("m_post_id"),
            PostItem.position == bindparam("m_position"),
        )
        .values(
            state="sent",
            remote_id=bindparam("m_remote_id"),
            public_url=bindparam("m_public_url"),
            data=bindparam("m_data", type_=PostItem.data.type),
            sent_at=bindparam("m_at", type_=UTCDateTime()),
        ),
        [
            {
                "m_post_id": m.post_id,
                "m_position": m.position,
                "m_remote_id": m.remote_id,
                "m_public_url": m.public_url,
                "m_data": m.data,
                "m_at": m.at,
            }
            for m in marks
        ],
    )


def forget_unsent(conn: Connection, *, post_id: str, position: int) -> None:
    """The platform certainly did not act: drop the mark so a retry may send again."""
    conn.execute(
        delete(PostItem).where(
            PostItem.post_id == post_id,
            PostItem.position == position,
            PostItem.state == "sending",
        )
    )


def finish(
    conn: Connection,
    *,
    owner: str,
    outcomes: Sequence[Outcome],
    schedules: Mapping[str, Checkpoints] | None = None,
    commented: Collection[str] = (),
) -> list[bool]:
    """Take finished posts out of the queue. False for a post whose lease `owner` no longer
    holds (another worker took it over): that worker's outcome stands. Published posts get
    their metrics checks by `schedules` (per platform) in the same transaction, and those on
    the `commented` platforms their first comment and comment polling."""
    if not outcomes:
        return []
    # An answer is true whoever holds the lease now: it is stored either way, as its own
    # write would have been.
    mark_sent(conn, [o.answer for o in outcomes if o.answer is not None])
    if conn.dialect.name == "postgresql":
        held = _finish_postgres(conn, owner, outcomes)
    else:
        held = _finish_sqlite(conn, owner, outcomes)
    if held:
        events.post_finished(
            conn,
            [(o.post_id, o.state, o.outcome_unknown) for o in outcomes if o.post_id in held],
            outcomes[0].at,
        )
        # Only the posts of platforms that have checks or comments are looked up for them: a
        # burst to the webhook otherwise paid two reads of 500 ids each per batch for nothing.
        published = [o for o in outcomes if o.post_id in held and o.state == State.PUBLISHED]
        if schedules:
            analytics.schedule(
                conn, {o.post_id: o.at for o in published if o.platform in schedules}, schedules
            )
        comments.after_publish(
            conn, [o.post_id for o in published if o.platform in commented], outcomes[0].at
        )
    return [o.post_id in held for o in outcomes]


# One statement for the whole batch: the update takes the rows `owner` still holds and says
# which they were. A locking read followed by an update per row cost a round trip more and
# an execution per post.
_FINISH_POSTGRES = text(
    """
UPDATE posts SET state = o.state, public_url = o.public_url, error_message = o.error,
       outcome = o.outcome, due_at = NULL, lease_owner = NULL, lease_until = NULL,
       finished_at = o.at, updated_at = o.at
FROM unnest(:ids, :states, :urls, :errors, :outcomes, :ats)
     AS o(id, state, public_url, error, outcome, at)
WHERE posts.id = o.id AND posts.lease_owner = :owner
RETURNING posts.id
"""
).bindparams(
    bindparam("ids", type_=postgresql.ARRAY(String)),
    bindparam("states", type_=postgresql.ARRAY(String)),
    bindparam("urls", type_=postgresql.ARRAY(Text)),
    bindparam("errors", type_=postgresql.ARRAY(Text)),
    bindparam("outcomes", type_=postgresql.ARRAY(String)),
    bindparam("ats", type_=postgresql.ARRAY(DateTime(timezone=True))),
)


def _finish_postgres(conn: Connection, owner: str, outcomes: Sequence[Outcome]) -> set[str]:
    rows = conn.execute(
        _FINISH_POSTGRES,
        {
            "owner": owner,
            "ids": [o.post_id for o in outcomes],
            "states": [str(o.state) for o in outcomes],
            "urls": [o.public_url for o in outcomes],
            "errors": [o.error for o in outcomes],
            "outcomes": [OUTCOME_UNKNOWN if o.outcome_unknown else None for o in outcomes],
            "ats": [o.at for o in outcomes],
        },
    )
    return set(rows.scalars())


def _finish_sqlite(conn: Connection, owner: str, outcomes: Sequence[Outcome]) -> set[str]:
    """The database is this process's alone while the transaction lasts: read who still
    holds what, then update those."""
    held = set(
        conn.execute(
            select(Post.id).where(
                Post.id.in_([o.post_id for o in outcomes]), Post.lease_owner == owner
            )
        ).scalars()
    )
    params = [
        {
            "o_id": o.post_id,
            "o_state": o.state,
            "o_public_url": o.public_url,
            "o_error": o.error,
            "o_outcome": OUTCOME_UNKNOWN if o.outcome_unknown else None,
            "o_at": o.at,
        }
        for o in outcomes
        if o.post_id in held
    ]
    if params:
        at = bindparam("o_at", type_=UTCDateTime())
        conn.execute(
            update(Post)
            .where(Post.id == bindparam("o_id"), Post.lease_owner == owner)
            .values(
                state=bindparam("o_state"),
                public_url=bindparam("o_public_url"),
                error_message=bindparam("o_error"),
                outcome=bindparam("o_outcome"),
                due_at=None,
                lease_owner=None,
                lease_until=None,
                finished_at=at,
                updated_at=at,
            ),
            params,
        )
    return held


def retry_later(
    conn: Connection,
    *,
    post_id: str,
    owner: str,
    now: datetime,
    at: datetime,
    error: str,
    count_attempt: bool = True,
) -> bool:
    values: dict[str, Any] = {
        "due_at": at,
        "lease_owner": None,
        "lease_until": None,
        "error_message": error,
        "updated_at": now,
    }
    if not count_attempt:
        values["attempt"] = Post.attempt - 1
    result = conn.execute(
        update(Post).where(Post.id == post_id, Post.lease_owner == owner).values(**values)
    )
    return result.rowcount == 1


def defer(conn: Connection, *, post_id: str, owner: str, now: datetime, at: datetime) -> bool:
    """Put a post back until `at` because a budget is spent: waiting is not an attempt."""
    result = conn.execute(
        update(Post)
        .where(Post.id == post_id, Post.lease_owner == owner)
        .values(
            due_at=at,
            lease_owner=None,
            lease_until=None,
            attempt=Post.attempt - 1,
            updated_at=now,
        )
    )
    return result.rowcount == 1


def heartbeat(conn: Connection, *, worker_id: str, hostname: str, pid: int, now: datetime) -> None:
    updated = conn.execute(update(Worker).where(Worker.id == worker_id).values(heartbeat_at=now))
    if updated.rowcount == 0:
        conn.execute(
            insert(Worker).values(
                id=worker_id, hostname=hostname, pid=pid, started_at=now, heartbeat_at=now
            )
        )


def hand_back(conn: Connection, *, owner: str, now: datetime) -> int:
    """A stopping worker's leases, given up so that another worker takes the posts at once
    instead of after the lease. The claim's attempt is not counted: a shutdown is not a
    failure. A post whose item has a sending mark is reconciled by the next claimer."""
    result = conn.execute(
        update(Post)
        .where(Post.lease_owner == owner, Post.due_at.is_not(None))
        .values(
            lease_owner=None,
            lease_until=None,
            attempt=func.max(Post.attempt - 1, 0)
            if conn.dialect.name == "sqlite"
            else func.greatest(Post.attempt - 1, 0),
            updated_at=now,
        )
    )
    return result.rowcount


def remove_worker(conn: Connection, worker_id: str) -> None:
    conn.execute(delete(Worker).where(Worker.id == worker_id))


def live_workers(conn: Connection, since: datetime) -> int:
    query = select(func.count()).select_from(Worker).where(Worker.heartbeat_at >= since)
    return int((conn.execute(query)).scalar_one())


def counts_by_state(conn: Connection) -> dict[str, int]:
    """Posts still waiting or in flight, by state: read through the small partial index on
    `due_at` (a count over the whole table grows with history and stalled the loop)."""
    query = select(Post.state, func.count()).where(Post.due_at.is_not(None)).group_by(Post.state)
    return {state: int(count) for state, count in conn.execute(query)}
