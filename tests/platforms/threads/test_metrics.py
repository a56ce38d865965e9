"""Threads metrics: `GET /{media}/insights`, one request per post, against the fake, which
checks the metric names and the threads_manage_insights scope; faults and token refresh."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from masthead.platforms.base import (
    AccountContext,
    AccountDisconnected,
    MetricsReader,
    MetricsSnapshot,
    MetricsUnavailable,
    PostGone,
    Retryable,
)
from masthead.platforms.threads import ThreadsPublisher, long_lived_credentials
from masthead.timeutil import iso, utcnow
from tests.fakes.threads import ALL_SCOPES, FakeThreads, User
from tests.support.credentials import Credentials
from tests.support.metrics import account, published


@pytest.fixture
async def publisher(fake_threads: FakeThreads) -> AsyncIterator[ThreadsPublisher]:
    app = fake_threads.oauth_app()
    threads = ThreadsPublisher(api_url=fake_threads.url, app=app, rate_limit_wait=9.0)
    yield threads
    await threads.aclose()


@pytest.fixture
def author(fake_threads: FakeThreads) -> User:
    return fake_threads.add_user("baker")


def ctx_for(fake: FakeThreads, user: User, **token: object) -> AccountContext:
    body = fake.issue_token(user, **token)  # type: ignore[arg-type]
    return account("threads", long_lived_credentials(body, now=utcnow()), external_id=user.id)


async def test_insights_are_normalised_and_kept_raw(
    publisher: ThreadsPublisher, fake_threads: FakeThreads, author: User
) -> None:
    assert isinstance(publisher, MetricsReader)
    post = fake_threads.add_post(author, views=900, likes=44, replies=3, reposts=2, quotes=1)
    result = await publisher.fetch_metrics(ctx_for(fake_threads, author), [published(post.id)])
    assert result == {
        f"p-{post.id}": MetricsSnapshot(
            {
                "viewsCount": "900",
                "likesCount": "44",
                "repliesCount": "3",
                "threadsRepostsCount": "2",
                "threadsQuotesCount": "1",
            },
            {"views": 900, "likes": 44, "replies": 3, "reposts": 2, "quotes": 1},
        )
    }


async def test_one_request_per_post_and_a_deleted_post_is_gone(
    publisher: ThreadsPublisher, fake_threads: FakeThreads, author: User
) -> None:
    kept = fake_threads.add_post(author, shares=5)
    deleted = fake_threads.add_post(author, shares=1)
    del fake_threads.posts[deleted.id]
    result = await publisher.fetch_metrics(
        ctx_for(fake_threads, author), [published(kept.id), published(deleted.id)]
    )
    assert result[f"p-{kept.id}"] == MetricsSnapshot({"sharesCount": "5"}, {"shares": 5})
    assert result[f"p-{deleted.id}"] == PostGone("Post no longer exists on threads")
    assert len(fake_threads.calls("insights")) == 2


async def test_rate_limit_waits(
    publisher: ThreadsPublisher, fake_threads: FakeThreads, author: User
) -> None:
    post = fake_threads.add_post(author, views=1)
    fake_threads.fail_next("insights", "throttled")
    with pytest.raises(Retryable) as raised:
        await publisher.fetch_metrics(ctx_for(fake_threads, author), [published(post.id)])
    assert raised.value.retry_after == 9.0


async def test_an_ageing_token_is_refreshed_before_asking(
    publisher: ThreadsPublisher, fake_threads: FakeThreads, author: User
) -> None:
    post = fake_threads.add_post(author, views=1)
    body = fake_threads.issue_token(author, age=20 * 86400)
    now = utcnow()
    before = {
        "access_token": body["access_token"],
        "issued_at": iso(now - timedelta(days=20)),
        "expires_at": iso(now + timedelta(days=40)),
    }
    ctx = account("threads", before, external_id=author.id)
    result = await publisher.fetch_metrics(ctx, [published(post.id)])
    assert isinstance(result[f"p-{post.id}"], MetricsSnapshot)
    assert len(fake_threads.calls("refresh")) == 1
    assert isinstance(ctx.credentials, Credentials)
    assert ctx.credentials.stored["access_token"] != before["access_token"]


async def test_a_revoked_token_disconnects_the_account(
    publisher: ThreadsPublisher, fake_threads: FakeThreads, author: User
) -> None:
    post = fake_threads.add_post(author, views=1)
    ctx = ctx_for(fake_threads, author)
    fake_threads.tokens.clear()
    with pytest.raises(AccountDisconnected):
        await publisher.fetch_metrics(ctx, [published(post.id)])


async def test_a_grant_without_insights_is_refused_in_meta_words(
    publisher: ThreadsPublisher, fake_threads: FakeThreads, author: User
) -> None:
    post = fake_threads.add_post(author, views=1)
    scopes = tuple(s for s in ALL_SCOPES if s != "threads_manage_insights")
    result = await publisher.fetch_metrics(
        ctx_for(fake_threads, author, scopes=scopes), [published(post.id)]
    )
    refused = result[f"p-{post.id}"]
    assert isinstance(refused, MetricsUnavailable)
    assert "threads_manage_insights" in refused.reason


async def test_a_post_threads_refuses_ends_alone_and_the_others_are_read(
    publisher: ThreadsPublisher, fake_threads: FakeThreads, author: User
) -> None:
    first, refused, last = (fake_threads.add_post(author, views=n) for n in (1, 2, 3))
    fake_threads.fail_next("insights", "permission", after=1)
    result = await publisher.fetch_metrics(
        ctx_for(fake_threads, author), [published(p.id) for p in (first, refused, last)]
    )
    assert result[f"p-{first.id}"] == MetricsSnapshot({"viewsCount": "1"}, {"views": 1})
    assert result[f"p-{last.id}"] == MetricsSnapshot({"viewsCount": "3"}, {"views": 3})
    assert result[f"p-{refused.id}"] == MetricsUnavailable(
        "(#10) Application does not have permission for this action [Threads error 10]"
    )


async def test_a_rate_limit_on_a_later_post_still_stops_the_batch(
    publisher: ThreadsPublisher, fake_threads: FakeThreads, author: User
) -> None:
    posts = [fake_threads.add_post(author, views=n) for n in (1, 2, 3)]
    fake_threads.fail_next("insights", "throttled", after=1)
    with pytest.raises(Retryable):
        await publisher.fetch_metrics(
            ctx_for(fake_threads, author), [published(p.id) for p in posts]
        )
    assert len(fake_threads.calls("insights")) == 2  # the third post was not asked about
