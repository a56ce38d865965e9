"""The database layer on SQLite and PostgreSQL alike: times, claims, leases, edits, commits."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from masthead.domain.states import State
from masthead.store import accounts, posts, queue
from masthead.store.database import RESTART_WAIT_MS, Database
from masthead.store.db import BUSY_TIMEOUT_MS, execute_write, sqlite_engine
from masthead.store.models import Post, PostItem, User
from tests.store.conftest import Seeded
from tests.support.query_plans import planned

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def draft(account_id: int) -> dict[str, Any]:
    return {
        "accountId": str(account_id),
        "content": {"text": "hi", "mediaUrls": [], "platform": "other"},
        "target": {"targetType": "webhook", "url": "https://hooks.example.com/x"},
    }


def new_post(seeded: Seeded, at: datetime | None, post_id: str | None = None) -> posts.NewPost:
    return posts.NewPost(
        id=post_id or str(uuid.uuid4()),
        user_id=seeded.caller.user_id,
        account_id=seeded.account_id,
        platform="webhook",
        subaccount_id=None,
        draft=draft(seeded.account_id),
        scheduled_at=at,
    )


async def add_post(seeded: Seeded, at: datetime | None, *, now: datetime = NOW) -> str:
    post = new_post(seeded, at)
    await seeded.db.write(lambda c: posts.insert_post(c, post, now))
    return post.id


async def claim(
    db: Database, owner: str, now: datetime, limit: int = 10
) -> list[queue.ClaimedPost]:
    return await db.write(
        lambda c: queue.claim(
            c, owner=owner, now=now, lease=LEASE, limit=limit, skip_locked=not db.is_sqlite
        )
    )


async def test_times_come_back_in_utc_and_timezone_aware(seeded: Seeded) -> None:
    at = datetime(2030, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    post_id = await add_post(seeded, at)
    row = await seeded.db.read(lambda conn: posts.get_post(conn, seeded.caller.user_id, post_id))
    assert row is not None and row.scheduled_at is not None
    assert row.scheduled_at == datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
    assert row.scheduled_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused_on_the_way_in(seeded: Seeded) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        await add_post(seeded, datetime(2030, 1, 1, 10, 0))


async def test_a_post_is_stored_as_sqlalchemys_own_insert_stores_it(seeded: Seeded) -> None:
    """`insert_post` runs its statement compiled once; the row is the one the statement
    itself writes, column for column, on either engine (slot key and subaccount included)."""
    at = datetime(2030, 1, 1, 10, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=2)))

    def new(post_id: str, slot: str) -> posts.NewPost:
        return posts.NewPost(
            id=post_id,
            user_id=seeded.caller.user_id,
            account_id=seeded.account_id,
            platform="webhook",
            subaccount_id="page-1",
            draft={**draft(seeded.account_id), "ünïcode": ["✓", 1.5, None, True]},
            scheduled_at=at,
            slot_key=slot,
        )

    ours, theirs = new("ours", "slot-a"), new("theirs", "slot-b")

    def work(conn: Connection) -> list[tuple[Any, ...]]:
        posts.insert_post(conn, ours, NOW)
        conn.execute(insert(Post), posts.new_post_values(theirs, NOW))
        rows = conn.execute(select(Post).where(Post.id.in_(["ours", "theirs"])).order_by(Post.id))
        return [tuple(row) for row in rows]

    stored, reference = await seeded.db.write(work)
    differ = {"id": ("ours", "theirs"), "slot_key": ("slot-a", "slot-b")}
    columns = [column.key for column in Post.__table__.columns]
    for name, mine, its in zip(columns, stored, reference, strict=True):
        assert (mine, its) == differ.get(name, (its, its)), name


async def test_the_compiled_insert_follows_the_columns_it_is_given(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled statement is kept per set of columns, not once for all: values without
    a column insert that column's default, not a stale statement's KeyError."""
    await add_post(seeded, NOW)  # compiles the insert with every column
    full = posts.new_post_values

    def without_slot(post: posts.NewPost, now: datetime) -> dict[str, Any]:
        return {k: v for k, v in full(post, now).items() if k != "slot_key"}

    monkeypatch.setattr(posts, "new_post_values", without_slot)
    post_id = await add_post(seeded, NOW)
    stored = await seeded.db.read(
        lambda c: c.execute(select(Post.slot_key, Post.state).where(Post.id == post_id)).one()
    )
    assert tuple(stored) == (None, State.SCHEDULED)


async def test_a_conflicting_insert_fails_as_sqlalchemy_fails_it(seeded: Seeded) -> None:
    """`insert_post` skips SQLAlchemy's execution on SQLite (store/db.execute_write); a
    conflict still raises SQLAlchemy's IntegrityError, which the slot and idempotency retries
    catch, and the writer goes on."""
    first = await add_post(seeded, NOW)
    row = await seeded.db.read(lambda c: posts.get_post(c, seeded.caller.user_id, first))
    assert row is not None
    again = new_post(seeded, NOW, post_id=first)
    with pytest.raises(IntegrityError):
        await seeded.db.write(lambda c: posts.insert_post(c, again, NOW))
    assert await add_post(seeded, NOW)


def test_an_insert_outside_a_transaction_begins_one(tmp_path: Path) -> None:
    """As SQLAlchemy's autobegin does: nothing is written until the caller commits."""
    engine = sqlite_engine(f"sqlite:///{tmp_path / 'x.db'}", role="write")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id TEXT PRIMARY KEY)")
        conn.commit()
        execute_write(conn, "INSERT INTO t (id) VALUES (?)", ("a",))
        assert conn.in_transaction()
        conn.rollback()
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
        execute_write(conn, "INSERT INTO t (id) VALUES (?)", ("b",))
        conn.commit()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT id FROM t").scalars().all() == ["b"]
    engine.dispose()


async def test_claim_takes_only_due_rows_oldest_first(seeded: Seeded) -> None:
    later = await add_post(seeded, NOW + timedelta(minutes=5))
    second = await add_post(seeded, NOW - timedelta(seconds=10))
    first = await add_post(seeded, NOW - timedelta(seconds=20))
    claimed = await claim(seeded.db, "w1", NOW)
    assert [c.id for c in claimed] == [first, second]
    assert all(c.attempt == 1 for c in claimed)
    assert later not in {c.id for c in claimed}


async def test_a_leased_row_is_not_claimed_again_until_its_lease_ends(seeded: Seeded) -> None:
    post_id = await add_post(seeded, NOW)
    assert [c.id for c in await claim(seeded.db, "w1", NOW)] == [post_id]
    assert await claim(seeded.db, "w2", NOW + LEASE - timedelta(seconds=1)) == []
    taken_over = await claim(seeded.db, "w2", NOW + LEASE + timedelta(seconds=1))
    assert [c.id for c in taken_over] == [post_id]
    assert taken_over[0].attempt == 2


async def test_a_stopping_worker_hands_its_posts_back_without_spending_an_attempt(
    seeded: Seeded,
) -> None:
    post_id = await add_post(seeded, NOW)
    other = await add_post(seeded, NOW)
    await claim(seeded.db, "w1", NOW)
    await claim(seeded.db, "w2", NOW)  # nothing left for w2 while w1 holds both

    handed = await seeded.db.write(lambda c: queue.hand_back(c, owner="w1", now=NOW))
    taken = await claim(seeded.db, "w2", NOW)

    assert handed == 2
    assert {c.id for c in taken} == {post_id, other}
    assert all(c.attempt == 1 for c in taken)


async def test_waiting_for_a_platform_window_is_not_an_attempt(seeded: Seeded) -> None:
    post_id = await add_post(seeded, NOW)
    await claim(seeded.db, "w1", NOW)
    later = NOW + timedelta(minutes=15)

    await seeded.db.write(
        lambda c: queue.retry_later(
            c,
            post_id=post_id,
            owner="w1",
            now=NOW,
            at=later,
            error="rate limited",
            count_attempt=False,
        )
    )
    [again] = await claim(seeded.db, "w2", later)

    assert again.id == post_id
    assert again.attempt == 1


async def test_next_wakeup_is_the_earliest_due_time_or_lease_end(seeded: Seeded) -> None:
    assert await seeded.db.read(queue.next_wakeup) is None
    await add_post(seeded, NOW + timedelta(minutes=5))
    await add_post(seeded, NOW + timedelta(minutes=1))
    assert await seeded.db.read(queue.next_wakeup) == NOW + timedelta(minutes=1)


async def test_a_post_edited_after_its_claim_cannot_be_marked_sending(seeded: Seeded) -> None:
    post_id = await add_post(seeded, NOW + timedelta(seconds=1))
    [claimed] = await claim(seeded.db, "w1", NOW + timedelta(seconds=1))
    moved = await seeded.db.write(
        lambda c: posts.reschedule(
            c,
            seeded.caller.user_id,
            post_id,
            now=NOW,
            scheduled_at=NOW + timedelta(hours=1),
            draft=None,
            account_id=None,
            platform=None,
            subaccount_id=None,
        )
    )
    assert moved
    marked = await seeded.db.write(
        lambda c: queue.mark_sending(
            c,
            owner="w1",
            now=NOW,
            marks=[queue.SendingMark(post_id, claimed.version, 0, None)],
        )
    )
    assert marked == [False]


async def test_a_post_cannot_be_edited_or_cancelled_once_sending_started(seeded: Seeded) -> None:
    post_id = await add_post(seeded, NOW + timedelta(seconds=1))
    [claimed] = await claim(seeded.db, "w1", NOW + timedelta(seconds=1))
    assert await seeded.db.write(
        lambda c: queue.mark_sending(
            c,
            owner="w1",
            now=NOW,
            marks=[queue.SendingMark(post_id, claimed.version, 0, {"k": "v"})],
        )
    ) == [True]
    cancelled = await seeded.db.write(
        lambda c: posts.cancel(c, seeded.caller.user_id, post_id, NOW)
    )
    assert cancelled is False
    row = await seeded.db.read(lambda conn: posts.get_post(conn, seeded.caller.user_id, post_id))
    assert row is not None and row.state == State.IN_PROGRESS


async def test_a_finished_post_leaves_the_queue(seeded: Seeded) -> None:
    post_id = await add_post(seeded, NOW)
    await claim(seeded.db, "w1", NOW)
    assert await seeded.db.write(
        lambda c: queue.finish(
            c,
            owner="w1",
            outcomes=[
                queue.Outcome(
                    post_id,
                    "webhook",
                    State.PUBLISHED,
                    NOW,
                    public_url="https://hooks.example.com/x",
                )
            ],
        )
    ) == [True]
    assert await claim(seeded.db, "w2", NOW + timedelta(days=1)) == []
    assert await seeded.db.read(queue.next_wakeup) is None


async def test_only_the_lease_owner_can_finish_a_post(seeded: Seeded) -> None:
    post_id = await add_post(seeded, NOW)
    await claim(seeded.db, "w1", NOW)
    finished = await seeded.db.write(
        lambda c: queue.finish(
            c, owner="w2", outcomes=[queue.Outcome(post_id, "webhook", State.FAILED, NOW)]
        )
    )
    assert finished == [False]


async def test_a_batch_of_outcomes_finishes_only_the_posts_still_held(seeded: Seeded) -> None:
    held, lost = await add_post(seeded, NOW), await add_post(seeded, NOW)
    await claim(seeded.db, "w1", NOW)
    # `lost` is taken over by w2 after its lease ended.
    await seeded.db.write(
        lambda c: c.execute(update(Post).where(Post.id == lost).values(lease_owner="w2"))
    )

    finished = await seeded.db.write(
        lambda c: queue.finish(
            c,
            owner="w1",
            outcomes=[
                queue.Outcome(held, "webhook", State.PUBLISHED, NOW, "https://x/1"),
                queue.Outcome(lost, "webhook", State.FAILED, NOW, error="boom"),
            ],
        )
    )

    assert finished == [True, False]
    rows = await seeded.db.read(
        lambda c: c.execute(
            select(Post.id, Post.state, Post.public_url, Post.due_at, Post.lease_owner).where(
                Post.id.in_([held, lost])
            )
        ).all()
    )
    assert {tuple(r) for r in rows} == {
        (held, State.PUBLISHED, "https://x/1", None, None),
        (lost, State.IN_PROGRESS, None, NOW, "w2"),
    }


async def test_an_outcome_stores_the_last_answer_in_its_own_commit(seeded: Seeded) -> None:
    held, lost = await add_post(seeded, NOW), await add_post(seeded, NOW)
    claimed = await claim(seeded.db, "w1", NOW)
    await seeded.db.write(
        lambda c: queue.mark_sending(
            c,
            owner="w1",
            now=NOW,
            marks=[queue.SendingMark(p.id, p.version, 0, None) for p in claimed],
        )
    )
    # `lost` is taken over by w2 after its lease ended: its answer is stored all the same.
    await seeded.db.write(
        lambda c: c.execute(update(Post).where(Post.id == lost).values(lease_owner="w2"))
    )

    def answer(post_id: str) -> queue.SentMark:
        return queue.SentMark(post_id, 0, f"r-{post_id}", f"https://x/{post_id}", {"k": 1}, NOW)

    finished = await seeded.db.write(
        lambda c: queue.finish(
            c,
            owner="w1",
            outcomes=[
                queue.Outcome(
                    p, "webhook", State.PUBLISHED, NOW, f"https://x/{p}", answer=answer(p)
                )
                for p in (held, lost)
            ],
        )
    )

    assert finished == [True, False]
    items = await seeded.db.read(
        lambda c: c.execute(
            select(
                PostItem.post_id,
                PostItem.state,
                PostItem.remote_id,
                PostItem.public_url,
                PostItem.data,
                PostItem.sent_at,
            ).where(PostItem.post_id.in_([held, lost]))
        ).all()
    )
    assert sorted(tuple(r) for r in items) == sorted(
        (p, "sent", f"r-{p}", f"https://x/{p}", {"k": 1}, NOW) for p in (held, lost)
    )


async def test_one_failing_write_does_not_undo_its_neighbours_in_a_group_commit(
    seeded: Seeded,
) -> None:
    def insert_user(conn: Any, email: str) -> None:
        conn.execute(
            insert(User).values(
                id=str(uuid.uuid4()), email=email, name="", webhook_secret="x", created_at=NOW
            )
        )

    results = await asyncio.gather(
        seeded.db.write(lambda c: insert_user(c, "a@example.com")),
        seeded.db.write(lambda c: insert_user(c, "store@example.com")),  # duplicate email
        seeded.db.write(lambda c: insert_user(c, "b@example.com")),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], IntegrityError)
    emails = set(await seeded.db.read(lambda conn: conn.execute(select(User.email)).scalars()))
    assert {"a@example.com", "b@example.com", "store@example.com"} <= emails


async def test_concurrent_writes_share_commits(seeded: Seeded) -> None:
    before = seeded.db.writer.stats.batches
    await asyncio.gather(*(add_post(seeded, NOW + timedelta(days=1)) for _ in range(50)))
    assert seeded.db.writer.stats.batches - before < 50
    count = len(await seeded.db.read(lambda conn: conn.execute(select(Post.id)).all()))
    assert count == 50


async def test_the_state_gauge_is_answered_from_the_due_state_index(seeded: Seeded) -> None:
    """`counts_by_state` runs every heartbeat. Reading each due row from the table took
    seconds with a million posts scheduled ahead (bench part 5), inline on SQLite's event
    loop; the partial index on state answers it alone (migration 0008)."""
    await add_post(seeded, NOW + timedelta(days=30))
    await add_post(seeded, NOW + timedelta(days=31))
    assert await seeded.db.read(queue.counts_by_state) == {State.SCHEDULED: 2}
    if not seeded.db.is_sqlite:
        pytest.skip("PostgreSQL picks its plan by table size; the plan is checked on SQLite")

    def plan(conn: Any) -> str:
        rows = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT state, count(*) FROM posts"
            " WHERE due_at IS NOT NULL GROUP BY state"
        )
        return " ".join(str(row[-1]) for row in rows)

    assert "ix_posts_due_state" in await seeded.db.read(plan)


async def test_a_sending_mark_written_again_stands_and_still_lets_the_post_be_sent(
    seeded: Seeded,
) -> None:
    """A mark batch is written again when its commit's answer was lost (a connection cut
    during COMMIT, the commit done): the second write finds the mark and says send."""
    post_id = await add_post(seeded, NOW)
    [claimed] = await claim(seeded.db, "w1", NOW)
    mark = queue.SendingMark(post_id, claimed.version, 0, {"prepared": 1})

    def write(conn: Connection) -> list[bool]:
        return queue.mark_sending(conn, owner="w1", now=NOW, marks=[mark])

    assert await seeded.db.write(write) == [True]
    assert await seeded.db.write(write) == [True]
    items = await seeded.db.read(lambda conn: queue.existing_items(conn, post_id))
    assert [(i.position, i.state, i.data) for i in items] == [(0, "sending", {"prepared": 1})]


async def test_removing_an_account_fails_only_its_posts_not_yet_begun(seeded: Seeded) -> None:
    waiting = await add_post(seeded, NOW + timedelta(hours=1))
    sending = await add_post(seeded, NOW + timedelta(seconds=1))
    [claimed] = await claim(seeded.db, "w1", NOW + timedelta(seconds=1))
    await seeded.db.write(
        lambda c: queue.mark_sending(
            c, owner="w1", now=NOW, marks=[queue.SendingMark(sending, claimed.version, 0, None)]
        )
    )
    user = seeded.caller.user_id

    def remove(conn: Connection) -> int:
        assert accounts.remove_account(conn, user, seeded.account_id, NOW)
        return posts.fail_unsent_of_account(conn, seeded.account_id, "removed", NOW)

    assert await seeded.db.write(remove) == 1
    rows = {
        post_id: await seeded.db.read(lambda conn, p=post_id: posts.get_post(conn, user, p))
        for post_id in (waiting, sending)
    }
    assert rows[waiting] is not None and rows[waiting].state == State.FAILED
    assert rows[waiting].error_message == "removed"
    assert rows[sending] is not None and rows[sending].state == State.IN_PROGRESS
    assert await seeded.db.read(lambda c: accounts.get_account(c, user, seeded.account_id)) is None
    assert await seeded.db.read(lambda c: accounts.account_by_id(c, seeded.account_id))


async def test_a_claim_on_sqlite_reads_due_posts_only_through_the_due_index(
    seeded: Seeded,
) -> None:
    """SQLite has no statistics; given the state index it walked every post scheduled ahead
    for each claim (the soak's drift, docs/performance.md part 6)."""
    if not seeded.db.is_sqlite:
        pytest.skip("PostgreSQL plans from its statistics")
    await add_post(seeded, NOW + timedelta(days=30))
    due = await add_post(seeded, NOW - timedelta(seconds=1))

    def claim_and_plan(conn: Connection) -> tuple[list[queue.ClaimedPost], list[list[str]]]:
        return planned(
            conn,
            lambda c: queue.claim(c, owner="w1", now=NOW, lease=LEASE, limit=10, skip_locked=False),
            "UPDATE posts",
        )

    claimed, [plan] = await seeded.db.write(claim_and_plan)
    assert [c.id for c in claimed] == [due]
    assert any("USING INDEX ix_posts_due (" in step for step in plan), plan
    assert not any("ix_posts_due_state" in step for step in plan), plan


async def test_a_sending_mark_on_sqlite_finds_its_posts_by_key_not_by_a_scan(
    seeded: Seeded,
) -> None:
    """SQLite reads a row-value IN through no index: the (id, version) match alone scanned
    every post, published ones included, for each batch of marks (docs/performance.md part 6,
    2026-12-04)."""
    if not seeded.db.is_sqlite:
        pytest.skip("PostgreSQL plans from its statistics")
    await add_post(seeded, NOW + timedelta(days=30))
    post_id = await add_post(seeded, NOW - timedelta(seconds=1))
    [claimed] = await claim(seeded.db, "w1", NOW)
    mark = queue.SendingMark(post_id, claimed.version, 0, None)

    marked, [plan] = await seeded.db.write(
        lambda c: planned(
            c,
            lambda c: queue.mark_sending(c, owner="w1", now=NOW, marks=[mark]),
            "UPDATE posts",
        )
    )
    assert marked == [True]
    assert any("USING INDEX sqlite_autoindex_posts_1 (id=?)" in step for step in plan), plan
    assert not any(step.startswith("SCAN posts") for step in plan), plan


async def test_a_wal_restart_waits_for_a_long_reader_only_a_moment(seeded: Seeded) -> None:
    """A RESTART checkpoint holds new writes back while it waits for readers; with the
    connections' 10 s busy timeout one slow reader held every write back for seconds (the
    soak's 1-3 s spikes). Past RESTART_WAIT_MS it ends as a PASSIVE checkpoint instead."""
    if not seeded.db.is_sqlite:
        pytest.skip("a SQLite checkpoint")
    db_file = seeded.db.url.split("///", 1)[1]
    with closing(sqlite3.connect(db_file)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM posts").fetchone()  # holds its snapshot
        await add_post(seeded, NOW + timedelta(days=1))  # a frame past that snapshot
        started = time.monotonic()
        await seeded.db._restart_wal()
        waited = time.monotonic() - started
        reader.execute("COMMIT")
    assert waited < 10 * RESTART_WAIT_MS / 1000, waited
    await add_post(seeded, NOW + timedelta(days=2))
    timeout = await seeded.db.write(lambda c: c.exec_driver_sql("PRAGMA busy_timeout").scalar())
    assert timeout == BUSY_TIMEOUT_MS


async def test_a_wal_restart_takes_its_turn_after_a_long_batch_instead_of_giving_up(
    seeded: Seeded,
) -> None:
    """The RESTART runs on the writer's thread between two group commits. From a connection
    of its own it had to take the write lock from the writer through SQLite's busy handler:
    it gave up after RESTART_WAIT_MS whenever a batch ran longer (and the WAL grew on), and
    the writer, sleeping in the same handler, waited up to 25 ms more than the lock was
    held (docs/performance.md part 6)."""
    if not seeded.db.is_sqlite:
        pytest.skip("a SQLite checkpoint")
    for day in range(1, 4):
        await add_post(seeded, NOW + timedelta(days=day))
    before = await asyncio.to_thread(seeded.db._checkpoint, "PASSIVE")
    entered, release = threading.Event(), threading.Event()

    def long_batch(conn: Connection) -> None:
        entered.set()
        release.wait(5)

    batch = asyncio.ensure_future(seeded.db.write(long_batch))
    await asyncio.to_thread(entered.wait, 5)
    restart = asyncio.ensure_future(seeded.db._restart_wal())
    await asyncio.sleep(4 * RESTART_WAIT_MS / 1000)
    assert not restart.done()  # waiting for the batch, not giving up on it
    release.set()
    await asyncio.gather(batch, restart)
    await add_post(seeded, NOW + timedelta(days=5))
    after = await asyncio.to_thread(seeded.db._checkpoint, "PASSIVE")
    assert 0 < after < before, (before, after)  # the WAL started over with that commit


async def test_the_sqlite_writer_keeps_its_connection_until_a_batch_fails(seeded: Seeded) -> None:
    """A checkout and its reset per batch cost 40 of SQLAlchemy's 88 us in a one-row commit,
    so the writer keeps its connection; a batch that raised leaves it in an unknown state, so
    the next batch (here the isolated retry of the same jobs) starts on a fresh one."""
    if not seeded.db.is_sqlite:
        pytest.skip("the SQLite writer's own connection")
    first = await seeded.db.write(lambda conn: conn)
    assert await seeded.db.write(lambda conn: conn) is first

    def fails(conn: Connection) -> None:
        raise RuntimeError("a bug in a write")

    with pytest.raises(RuntimeError):
        await seeded.db.write(fails, isolated=False)
    assert first.closed
    after = await seeded.db.write(lambda conn: conn)
    assert after is not first
    assert await seeded.db.write(lambda conn: conn) is after
