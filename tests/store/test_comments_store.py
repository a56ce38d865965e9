"""store/comments.py on both engines: one row per platform comment id, even when a poll sees
an outbound comment before its answer is stored; the first comment and polling start with
the publish."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select

from masthead.security import Secrets
from masthead.store import comments as store
from masthead.store.database import Database
from masthead.store.migrate import upgrade
from masthead.store.models import Comment, CommentPoll
from masthead.timeutil import utcnow
from tests.store.conftest import Seeded
from tests.support.analytics import publish
from tests.support.comments import remote, seed_post
from tests.support.harness import seed_account, seed_user


async def test_a_poll_that_sees_an_outbound_comment_first_leaves_one_row(seeded: Seeded) -> None:
    db, caller = seeded.db, seeded.caller
    account = str(seeded.account_id)
    post = await seed_post(db, caller, account, "instagram")
    outbound = store.NewComment(
        str(uuid.uuid4()), caller.user_id, seeded.account_id, post, "instagram", None, "Hi all"
    )
    now = utcnow()
    await db.write(lambda c: store.queue_outbound(c, [outbound], now))
    [claimed] = await db.write(
        lambda c: store.claim(
            c, owner="w1", now=now, lease=timedelta(minutes=2), limit=5, skip_locked=False
        )
    )
    assert await db.write(
        lambda c: store.mark_sending(c, comment_id=claimed.id, owner="w1", now=now)
    )
    where = store.Captured(caller.user_id, seeded.account_id, post, "instagram")
    seen = [remote("c1", "Hi all", is_author=True), remote("c2", "Hello!", parent="c1")]
    await db.write(lambda c: store.capture(c, where, seen, now))
    settled = store.Settled(claimed.id, now, platform_comment_id="c1")
    assert await db.write(lambda c: store.settle(c, owner="w1", outcome=settled))

    rows = await db.read(
        lambda c: c.execute(
            select(Comment.id, Comment.platform_comment_id, Comment.parent_id).order_by(
                Comment.platform_comment_id
            )
        ).all()
    )
    assert [(r[0], r[1]) for r in rows] == [(outbound.id, "c1"), (rows[1][0], "c2")]
    assert rows[1][2] == outbound.id, "the reply follows its parent to the outbound row"


async def test_a_published_post_gets_its_first_comment_and_a_poll_schedule(seeded: Seeded) -> None:
    db, caller = seeded.db, seeded.caller
    account = str(seeded.account_id)
    story = await seed_post(
        db, caller, account, "instagram", target={"mediaType": "story", "firstComment": "x"}
    )
    feed = await seed_post(db, caller, account, "instagram", target={"firstComment": "Link"})
    now = utcnow()
    await db.write(lambda c: store.after_publish(c, [story, feed], now))
    first = await db.read(lambda c: store.first_comment_of(c, feed))
    assert first is not None and (first.text, first.status, first.is_author) == (
        "Link",
        "queued",
        True,
    )
    assert await db.read(lambda c: store.first_comment_of(c, story)) is None
    later = now + timedelta(minutes=10)
    due = await db.write(
        lambda c: store.claim_polls(
            c, owner="p", now=later, lease=timedelta(minutes=2), limit=10, skip_locked=False
        )
    )
    assert sorted(p.post_id for p in due) == sorted([story, feed])


async def test_finish_starts_comments_only_on_the_platforms_that_have_them(
    seeded: Seeded,
) -> None:
    db, caller = seeded.db, seeded.caller
    account = str(seeded.account_id)
    now = utcnow()
    commented = {"instagram"}
    [gram] = await publish(db, caller, account, "instagram", ["g1"], now, {}, commented=commented)
    await publish(db, caller, account, "webhook", ["h1"], now, {}, commented=commented)
    polled = await db.read(lambda c: c.execute(select(CommentPoll.post_id)).scalars().all())
    assert polled == [gram], "only the platform with comments is polled"


async def test_the_upgrade_polls_posts_published_within_retention(database_url: str) -> None:
    """Revision 0012 gives Instagram and Facebook posts published in the last 45 days a poll."""
    await asyncio.to_thread(upgrade, database_url, "0010")
    db = Database(database_url)
    await db.start()
    try:
        caller = await seed_user(db, Secrets(["store-test-key"]), "old@example.com")
        account = await seed_account(db, caller, "instagram")
        recent = await seed_post(db, caller, account, "instagram", at=utcnow() - timedelta(days=3))
        await seed_post(db, caller, account, "instagram", at=utcnow() - timedelta(days=60))
        hook = await seed_account(db, caller, "webhook")
        await seed_post(db, caller, hook, "webhook")
    finally:
        await db.close()
    await asyncio.to_thread(upgrade, database_url)
    db = Database(database_url)
    await db.start()
    try:
        polled = await db.read(lambda c: list(c.execute(select(CommentPoll.post_id)).scalars()))
    finally:
        await db.close()
    assert polled == [recent]
