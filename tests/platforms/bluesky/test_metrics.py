"""Bluesky metrics through the collector: getPosts on the fake AppView (lexicon-checked) in
front of the real PDS, 25 AT-URIs per request, a deleted record found in the repository, a missing
count, the AppView's rate limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from masthead.dispatch.analytics import Collector
from masthead.domain.atproto_ids import rkey_of
from masthead.platforms.registry import analytics_checkpoints
from masthead.store import analytics
from masthead.timeutil import utcnow
from tests.fakes.bluesky_appview import POST, POSTS, FakeAppView, post_as, rate_limited, session
from tests.platforms.bluesky.conftest import bluesky_settings, connect
from tests.support.analytics import publish
from tests.support.bluesky_pds import Pds, PdsAccount
from tests.support.harness import Harness, running_app


@dataclass
class Posted:
    app: Harness
    ids: list[str]
    uris: list[str]


@pytest.fixture
async def posted(
    tmp_path: Path,
    pds: Pds,
    alice: PdsAccount,
    appview: FakeAppView,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Posted]:
    count = getattr(request, "param", 3)
    settings = bluesky_settings(tmp_path, pds.url, bluesky_appview_url=appview.url)
    async with running_app(settings, run_worker=False) as app:
        caller = await app.user()
        account = await connect(app, caller, alice)
        as_alice = session(pds, alice)
        uris = [post_as(pds, as_alice, f"post {n}")["uri"] for n in range(count)]
        ids = await publish(
            app.db,
            caller,
            account,
            "bluesky",
            uris,
            utcnow() - timedelta(hours=7),
            analytics_checkpoints(settings),
        )
        yield Posted(app, ids, uris)


def _collector(app: Harness) -> Collector:
    return Collector(app.db, app.ctx.publishers, app.settings, app.ctx.secrets)


async def _history(app: Harness, ids: list[str]) -> dict[str, list[analytics.Snapshot]]:
    return await app.db.read(lambda c: analytics.history(c, ids))


@pytest.mark.parametrize("posted", [30], indirect=True)
async def test_30_posts_take_two_requests_of_at_most_25(
    posted: Posted, appview: FakeAppView
) -> None:
    appview.counts[posted.uris[4]] = {"likeCount": 7, "replyCount": 2, "repostCount": 1}
    collector = _collector(posted.app)
    assert await collector.run_once() == 30
    assert collector.requests == 2
    assert sorted(len(uris) for uris in appview.uris) == [5, 25]
    history = await _history(posted.app, posted.ids)
    assert history[posted.ids[4]][0].metrics == {
        "likesCount": "7",
        "repliesCount": "2",
        "blueskyRepostsCount": "1",
        "blueskyQuotesCount": "0",
    }
    assert len(history) == 30


async def test_a_deleted_record_ends_collection_and_a_missing_count_stays_absent(
    posted: Posted, appview: FakeAppView, pds: Pds, alice: PdsAccount
) -> None:
    gone, kept, _ = posted.ids
    pds.xrpc(
        "com.atproto.repo.deleteRecord",
        {"repo": alice.did, "collection": POST, "rkey": rkey_of(posted.uris[0])},
        session(pds, alice)["accessJwt"],
    )
    appview.missing_metric()
    await _collector(posted.app).run_once()
    states = await posted.app.db.read(lambda c: analytics.collection_state(c, posted.ids))
    assert (states[gone].last_error, states[gone].next_fetch_at) == (
        "Post no longer exists on bluesky",
        None,
    )
    [snapshot] = (await _history(posted.app, [kept]))[kept]
    assert "likesCount" not in snapshot.metrics and snapshot.metrics["repliesCount"] == "0"


async def test_the_appviews_rate_limit_is_retried_later(
    posted: Posted, appview: FakeAppView
) -> None:
    appview.faults.append(rate_limited(POSTS))
    collector = _collector(posted.app)
    await collector.run_once()
    states = await posted.app.db.read(lambda c: analytics.collection_state(c, posted.ids))
    assert {s.last_error for s in states.values()} == {"Bluesky rate limit: Rate Limit Exceeded"}
    assert all(s.next_fetch_at is not None and s.next_fetch_at > utcnow() for s in states.values())
    assert await _history(posted.app, posted.ids) == {}
