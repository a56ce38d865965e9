"""X metrics through the collector and the fake X (requests checked against X's OpenAPI):
100 ids per request, owner-only metrics while X serves them, a deleted post, a missing metric,
X's rate limit, a revoked token."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from masthead.dispatch.analytics import Collector
from masthead.domain.analytics import RECONNECT
from masthead.platforms.registry import analytics_checkpoints
from masthead.store import accounts, analytics
from masthead.timeutil import utcnow
from tests.fakes.x import FakeX, User
from tests.support.analytics import publish
from tests.support.harness import Harness
from tests.support.platforms import connected_account

DAY = timedelta(days=1)


async def _published(
    harness: Harness, fake: FakeX, count: int, age: timedelta = 25 * 3600 * timedelta(seconds=1)
) -> tuple[User, str, list[str], dict[str, str]]:
    """`count` posts on the fake X published `age` ago, recorded as Masthead published them;
    returns the X user, the account, the post ids and X's id of each."""
    caller = await harness.user()
    user = fake.add_user("ada")
    account = await connected_account("twitter", harness, caller, fake, user)
    tweets = [fake.add_tweet(user, f"post {n}", age) for n in range(count)]
    for n, tweet in enumerate(tweets):
        tweet.public_metrics.update(like_count=n, impression_count=10 * n, bookmark_count=1)
        tweet.non_public_metrics.update(impression_count=11 * n, url_link_clicks=2)
    ids = await publish(
        harness.db,
        caller,
        account,
        "twitter",
        [t.id for t in tweets],
        utcnow() - age,
        analytics_checkpoints(harness.settings),
    )
    return user, account, ids, dict(zip(ids, (t.id for t in tweets), strict=True))


def _collector(harness: Harness, ahead: timedelta = timedelta(0)) -> Collector:
    return Collector(
        harness.db,
        harness.ctx.publishers,
        harness.settings,
        harness.ctx.secrets,
        clock=lambda: utcnow() + ahead,
    )


async def _states(harness: Harness, ids: list[str]) -> dict[str, analytics.CollectionState]:
    return await harness.db.read(lambda c: analytics.collection_state(c, ids))


async def test_150_due_posts_take_two_requests_with_owner_metrics(
    x_app: Harness, fake_x: FakeX
) -> None:
    _, _, ids, _ = await _published(x_app, fake_x, 150)
    collector = _collector(x_app)
    assert await collector.run_once() == 150
    assert collector.requests == 2
    assert len(fake_x.calls("lookup")) == 2
    history = await x_app.db.read(lambda c: analytics.history(c, ids))
    assert history[ids[3]][0].metrics == {
        "impressionsCount": "33",
        "likesCount": "3",
        "repliesCount": "0",
        "savesCount": "1",
        "twitterRetweetsCount": "0",
        "twitterQuotesCount": "0",
        "clicksCount": "2",
        "profileVisitsCount": "0",
    }
    assert history[ids[3]][0].raw["public_metrics"]["impression_count"] == 30
    states = await _states(x_app, ids)
    assert {s.last_error for s in states.values()} == {None}
    # X's default schedule (24 h, 7 d, 30 d): the next check is about 7 days after publishing.
    next_at = states[ids[0]].next_fetch_at
    assert next_at is not None and next_at - utcnow() > 5 * DAY


async def test_posts_older_than_30_days_are_read_without_owner_metrics(
    x_app: Harness, fake_x: FakeX
) -> None:
    _, _, [post_id], _ = await _published(x_app, fake_x, 1, age=31 * DAY)
    collector = _collector(x_app)
    assert await collector.run_once() == 3  # every checkpoint is due: one request for all
    assert collector.requests == 1
    [snapshot, *_] = (await x_app.db.read(lambda c: analytics.history(c, [post_id])))[post_id]
    assert "clicksCount" not in snapshot.metrics
    assert snapshot.metrics["impressionsCount"] == "0"
    assert (await _states(x_app, [post_id]))[post_id].next_fetch_at is None


async def test_a_deleted_post_ends_and_a_missing_metric_is_left_out(
    x_app: Harness, fake_x: FakeX
) -> None:
    _, _, [gone, kept], remote = await _published(x_app, fake_x, 2)
    fake_x.tweets[remote[gone]].deleted = True
    fake_x.fail_next("lookup", "missing_metric")
    await _collector(x_app).run_once()
    states = await _states(x_app, [gone, kept])
    assert (states[gone].last_error, states[gone].next_fetch_at) == (
        "Post no longer exists on twitter",
        None,
    )
    [snapshot] = (await x_app.db.read(lambda c: analytics.history(c, [kept])))[kept]
    assert "clicksCount" not in snapshot.metrics and snapshot.metrics["likesCount"] == "1"


async def test_a_post_x_withholds_ends_alone_in_xs_words(x_app: Harness, fake_x: FakeX) -> None:
    _, _, [first, withheld, last], remote = await _published(x_app, fake_x, 3)
    fake_x.tweets[remote[withheld]].withheld = True
    await _collector(x_app).run_once()
    states = await _states(x_app, [first, withheld, last])
    assert (states[withheld].last_error, states[withheld].next_fetch_at) == (
        f"Sorry, you are not authorized to see the Post with id: [{remote[withheld]}].",
        None,
    )
    history = await x_app.db.read(lambda c: analytics.history(c, [first, last]))
    assert [len(history[first]), len(history[last])] == [1, 1]


async def test_x_rate_limit_is_waited_for_then_read_once(x_app: Harness, fake_x: FakeX) -> None:
    _, _, [post_id], _ = await _published(x_app, fake_x, 1)
    fake_x.fail_next("lookup", "rate_limit")
    collector = _collector(x_app)
    await collector.run_once()
    state = (await _states(x_app, [post_id]))[post_id]
    assert state.last_error is not None and "rate limit" in state.last_error
    assert state.next_fetch_at is not None and state.next_fetch_at > utcnow()
    blocked = _collector(x_app, ahead=timedelta(minutes=2))  # X's window has not ended
    assert await blocked.run_once() == 1
    assert blocked.requests == 0
    await asyncio.sleep(fake_x.rate_limit_seconds + 0.5)
    later = _collector(x_app, ahead=timedelta(minutes=4))
    assert await later.run_once() == 1
    assert later.requests == 1
    assert len(fake_x.calls("lookup")) == 2
    assert (await _states(x_app, [post_id]))[post_id].last_error is None


async def test_a_revoked_token_disconnects_and_stops_collection(
    x_app: Harness, fake_x: FakeX
) -> None:
    user, account, ids, _ = await _published(x_app, fake_x, 2)
    fake_x.revoke(user)
    collector = _collector(x_app)
    await collector.run_once()
    assert collector.requests == 1
    row = await x_app.db.read(lambda c: accounts.account_by_id(c, int(account)))
    assert row is not None and row.status == "disconnected"
    states = await _states(x_app, ids)
    assert {(s.last_error, s.next_fetch_at) for s in states.values()} == {(RECONNECT, None)}
    assert await _collector(x_app, ahead=40 * DAY).run_once() == 0
