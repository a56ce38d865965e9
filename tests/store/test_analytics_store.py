"""Metrics checks and snapshots on both engines: checks written with the published outcome,
batch claims with leases, outcomes (snapshot, retry, stop), pause and resume, the event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from masthead.domain.analytics import RECONNECT
from masthead.security import Secrets
from masthead.services import webhooks
from masthead.store import accounts, analytics
from masthead.store.models import AnalyticsCheck, Event
from masthead.timeutil import utcnow
from tests.store.conftest import Seeded
from tests.support.analytics import publish
from tests.support.query_plans import planned

H = timedelta(hours=1)
LEASE = timedelta(seconds=60)
SCHEDULES = {"webhook": (H, 24 * H)}


def _claim(owner: str, at: timedelta, limit: int = 10):  # type: ignore[no-untyped-def]
    def claim(conn: Connection) -> list[analytics.ClaimedCheck]:
        return analytics.claim(
            conn,
            owner=owner,
            now=utcnow() + at,
            lease=LEASE,
            limit=limit,
            skip_locked=conn.dialect.name == "postgresql",
        )

    return claim


async def test_a_published_post_gets_one_check_per_checkpoint_in_the_outcome_write(
    seeded: Seeded,
) -> None:
    now = utcnow()
    [post_id] = await publish(
        seeded.db, seeded.caller, str(seeded.account_id), "webhook", ["r1"], now, SCHEDULES
    )
    await publish(seeded.db, seeded.caller, str(seeded.account_id), "webhook", ["r2"], now, {})
    rows = await seeded.db.read(
        lambda c: c.execute(
            select(
                AnalyticsCheck.post_id, AnalyticsCheck.checkpoint, AnalyticsCheck.due_at
            ).order_by(AnalyticsCheck.checkpoint)
        ).all()
    )
    assert [(r[0], r[1]) for r in rows] == [(post_id, 0), (post_id, 1)]
    assert rows[0][2] is not None and rows[1][2] is not None
    assert now + H <= rows[0][2] <= now + H + timedelta(minutes=6)
    assert now + 24 * H <= rows[1][2] <= now + 24 * H + timedelta(minutes=30)


async def test_claims_lease_checks_and_a_dead_workers_checks_run_again(seeded: Seeded) -> None:
    now = utcnow()
    ids = await publish(
        seeded.db, seeded.caller, str(seeded.account_id), "webhook", ["r1", "r2"], now, SCHEDULES
    )
    assert await seeded.db.write(_claim("a", timedelta(0))) == []
    first = await seeded.db.write(_claim("a", 2 * H))
    assert sorted(c.post_id for c in first) == sorted(ids)
    assert {(c.checkpoint, c.attempt, c.remote_id) for c in first} == {
        (0, 1, "r1"),
        (0, 1, "r2"),
    }
    assert await seeded.db.write(_claim("b", 2 * H)) == []
    again = await seeded.db.write(_claim("b", 2 * H + LEASE * 2))
    assert {(c.checkpoint, c.attempt) for c in again} == {(0, 2)}
    assert len(again) == 2


async def test_outcomes_store_snapshots_retry_and_stop_with_the_event(seeded: Seeded) -> None:
    await webhooks.create(
        seeded.db,
        Secrets(["store-test-key"]),
        frozenset(),
        seeded.caller.user_id,
        url="https://hooks.example.com/x",
        events=["analytics.updated"],
    )
    now = utcnow()
    a, b, c = await publish(
        seeded.db,
        seeded.caller,
        str(seeded.account_id),
        "webhook",
        ["r1", "r2", "r3"],
        now,
        SCHEDULES,
    )
    await seeded.db.write(_claim("w", 2 * H))
    at = now + 2 * H
    user = seeded.caller.user_id
    await seeded.db.write(
        lambda conn: analytics.settle(
            conn,
            owner="w",
            outcomes=[
                analytics.CheckOutcome(
                    a, 0, user, "webhook", at, {"likesCount": "3"}, {"like_count": 3}
                ),
                analytics.CheckOutcome(b, 0, user, "webhook", at, error="busy", retry_at=at + H),
                analytics.CheckOutcome(c, 0, user, "webhook", at, error="gone", stop=True),
                analytics.CheckOutcome(a, 1, user, "webhook", at, {"likesCount": "9"}),
            ],
        )
    )
    history = await seeded.db.read(lambda conn: analytics.history(conn, [a, b, c]))
    assert [s.metrics for s in history[a]] == [{"likesCount": "3"}]
    assert history[a][0].raw == {"like_count": 3}
    assert b not in history and c not in history
    state = await seeded.db.read(lambda conn: analytics.collection_state(conn, [a, b, c]))
    assert state[a].last_error is None and state[a].next_fetch_at is not None
    assert (state[b].last_error, state[b].next_fetch_at) == ("busy", at + H)
    assert (state[c].last_error, state[c].next_fetch_at) == ("gone", None)
    payloads = await seeded.db.read(
        lambda conn: conn.execute(select(Event.type, Event.subject, Event.payload)).all()
    )
    assert [(t, s) for t, s, _ in payloads] == [("analytics.updated", a)]
    assert payloads[0][2]["metrics"] == {"likesCount": "3"}


async def test_a_revoked_account_waits_and_resumes_on_reconnect(seeded: Seeded) -> None:
    now = utcnow()
    [post_id] = await publish(
        seeded.db, seeded.caller, str(seeded.account_id), "webhook", ["r1"], now, SCHEDULES
    )
    await seeded.db.write(lambda c: analytics.pause_account(c, seeded.account_id, now))
    assert await seeded.db.write(_claim("w", 48 * H)) == []
    state = await seeded.db.read(lambda c: analytics.collection_state(c, [post_id]))
    assert (state[post_id].last_error, state[post_id].next_fetch_at) == (RECONNECT, None)
    account = await seeded.db.read(lambda c: accounts.account_by_id(c, seeded.account_id))
    assert account is not None
    await seeded.db.write(
        lambda c: accounts.save_connected(
            c,
            user_id=seeded.caller.user_id,
            platform="webhook",
            external_id=account.external_id,
            username="again",
            fullname="Again",
            profile_image_url=None,
            credentials=None,
            subaccounts=[],
            now=now,
        )
    )
    claimed = await seeded.db.write(_claim("w", timedelta(seconds=1)))
    assert sorted(c.checkpoint for c in claimed) == [0, 1]


async def test_a_claim_on_sqlite_leases_its_checks_by_key_not_by_a_scan(seeded: Seeded) -> None:
    """SQLite reads a row-value IN through no index: the (post, checkpoint) match alone
    walked the checks of every published post for each claim (docs/performance.md part 6,
    2026-12-04)."""
    if not seeded.db.is_sqlite:
        pytest.skip("PostgreSQL plans from its statistics")
    now = utcnow()
    await publish(
        seeded.db, seeded.caller, str(seeded.account_id), "webhook", ["r1", "r2"], now, SCHEDULES
    )
    statements = (
        "UPDATE analytics_checks",
        "SELECT analytics_checks.post_id, analytics_checks.checkpoint, analytics_checks.attempt",
    )
    claimed, plans = await seeded.db.write(lambda c: planned(c, _claim("a", 2 * H), statements))
    assert len(claimed) == 2
    assert len(plans) == 2
    for plan in plans:
        assert any(
            "USING INDEX sqlite_autoindex_analytics_checks_1 (post_id=?)" in step for step in plan
        ), plan


async def test_next_wakeup_is_the_first_due_check_or_the_first_lease_end(seeded: Seeded) -> None:
    db = seeded.db
    now = utcnow()
    assert await db.read(lambda c: analytics.next_wakeup(c, now)) is None
    await publish(
        db, seeded.caller, str(seeded.account_id), "webhook", ["r1", "r2"], now, SCHEDULES
    )
    dues = await db.read(
        lambda c: (
            c.execute(select(AnalyticsCheck.due_at).order_by(AnalyticsCheck.due_at)).scalars().all()
        )
    )
    assert await db.read(lambda c: analytics.next_wakeup(c, now)) == dues[0]

    claimed = await db.write(_claim("a", 2 * H))
    assert len(claimed) == 2, "both first checkpoints are leased"
    leased = select(AnalyticsCheck.lease_until).where(AnalyticsCheck.lease_until.is_not(None))
    lease_ends = await db.read(lambda c: c.execute(leased).scalars().all())
    later = now + 2 * H + timedelta(seconds=1)
    assert await db.read(lambda c: analytics.next_wakeup(c, later)) == min(lease_ends)
    past_the_lease = max(lease_ends) + timedelta(seconds=1)
    assert await db.read(lambda c: analytics.next_wakeup(c, past_the_lease)) == min(lease_ends)


async def test_next_wakeup_on_sqlite_reads_the_due_index_not_every_pending_check(
    seeded: Seeded,
) -> None:
    """A minimum over every pending check walked a checkpoint schedule per published post
    each time the collector went idle."""
    if not seeded.db.is_sqlite:
        pytest.skip("PostgreSQL plans from its statistics")
    now = utcnow()
    await publish(
        seeded.db, seeded.caller, str(seeded.account_id), "webhook", ["r1", "r2"], now, SCHEDULES
    )
    _, plans = await seeded.db.read(
        lambda c: planned(c, lambda c: analytics.next_wakeup(c, now), "SELECT")
    )
    assert len(plans) == 2
    for plan in plans:
        assert any(
            step.startswith("SEARCH") and "INDEX ix_analytics_checks_due (due_at" in step
            for step in plan
        ), plan
