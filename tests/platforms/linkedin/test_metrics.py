"""LinkedIn metrics: a page's posts by organizationalEntityShareStatistics (20 a request,
Rest.li lists checked by the fake), a member's own posts only with r_member_postAnalytics;
faults and the refresh after a 401."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from masthead.platforms.base import (
    AccountDisconnected,
    MetricsReader,
    MetricsSnapshot,
    MetricsUnavailable,
    PostGone,
    Retryable,
)
from masthead.platforms.linkedin import LinkedInPublisher
from masthead.platforms.oauth import credentials_from_token_response
from tests.fakes.linkedin import ACTIVE_VERSIONS, ALL_SCOPES, FakeLinkedIn, Member, Organization
from tests.support.metrics import account, measured, published


def publisher_for(fake: FakeLinkedIn, *, member_analytics: bool = False) -> LinkedInPublisher:
    app = fake.oauth_app()
    return LinkedInPublisher(
        api_url=fake.url,
        version=max(ACTIVE_VERSIONS),
        app=app,
        token_url=fake.token_url,
        member_analytics=member_analytics,
    )


@pytest.fixture
async def linkedin(fake_linkedin: FakeLinkedIn) -> AsyncIterator[LinkedInPublisher]:
    publisher = publisher_for(fake_linkedin)
    yield publisher
    await publisher.aclose()


@pytest.fixture
def member(fake_linkedin: FakeLinkedIn) -> Member:
    return fake_linkedin.add_member("Ada")


@pytest.fixture
def page(fake_linkedin: FakeLinkedIn, member: Member) -> Organization:
    return fake_linkedin.add_organization("Ada's Bakery", {member.id: "ADMINISTRATOR"})


def credentials(fake: FakeLinkedIn, member: Member, **options: Any) -> dict[str, Any]:
    return credentials_from_token_response(fake.issue_tokens(member, **options))


def page_urn(page: Organization) -> str:
    return f"urn:li:organization:{page.id}"


async def test_page_statistics_are_normalised_and_kept_raw(
    linkedin: LinkedInPublisher, fake_linkedin: FakeLinkedIn, member: Member, page: Organization
) -> None:
    assert isinstance(linkedin, MetricsReader)
    statistics = {
        "impressionCount": 1200,
        "uniqueImpressionsCount": 800,
        "likeCount": 44,
        "commentCount": 0,
        "shareCount": 3,
        "clickCount": 41,
        "engagement": 0.0733,
    }
    post = fake_linkedin.add_post(page_urn(page), **statistics)
    result = await linkedin.fetch_metrics(
        account("linkedin", credentials(fake_linkedin, member), external_id=member.id),
        [published(post.urn, pageId=page.id)],
    )
    assert result == {
        f"p-{post.urn}": MetricsSnapshot(
            {
                "impressionsCount": "1200",
                "reachCount": "800",
                "likesCount": "44",
                "commentsCount": "0",
                "sharesCount": "3",
                "clicksCount": "41",
                "engagementRate": 0.0733,
            },
            statistics,
        )
    }


async def test_45_page_posts_take_3_requests_and_a_deleted_one_is_gone(
    linkedin: LinkedInPublisher, fake_linkedin: FakeLinkedIn, member: Member, page: Organization
) -> None:
    posts = [fake_linkedin.add_post(page_urn(page), likeCount=n) for n in range(45)]
    del fake_linkedin.posts[posts[12].urn]
    result = await linkedin.fetch_metrics(
        account("linkedin", credentials(fake_linkedin, member), external_id=member.id),
        [published(p.urn, pageId=page.id) for p in posts],
    )
    assert linkedin.metrics_batch == 20
    assert len(fake_linkedin.calls("organizationalEntityShareStatistics")) == 3
    assert result[f"p-{posts[12].urn}"] == PostGone("Post no longer exists on linkedin")
    assert result[f"p-{posts[44].urn}"] == MetricsSnapshot({"likesCount": "44"}, {"likeCount": 44})


async def test_a_members_post_is_not_measured_without_the_permission(
    linkedin: LinkedInPublisher, fake_linkedin: FakeLinkedIn, member: Member
) -> None:
    post = fake_linkedin.add_post(f"urn:li:person:{member.id}", IMPRESSION=10)
    result = await linkedin.fetch_metrics(
        account("linkedin", credentials(fake_linkedin, member), external_id=member.id),
        [published(post.urn)],
    )
    assert result == {
        f"p-{post.urn}": MetricsUnavailable("Analytics are not available for linkedin")
    }
    assert fake_linkedin.requests == []


async def test_a_members_post_is_measured_when_the_app_has_the_permission(
    fake_linkedin: FakeLinkedIn, member: Member
) -> None:
    publisher = publisher_for(fake_linkedin, member_analytics=True)
    assert publisher.oauth is not None and "r_member_postAnalytics" in publisher.oauth.scopes
    post = fake_linkedin.add_post(
        f"urn:li:person:{member.id}", IMPRESSION=300, MEMBERS_REACHED=250, REACTION=12, COMMENT=2
    )
    granted = credentials(fake_linkedin, member, scopes=(*ALL_SCOPES, "r_member_postAnalytics"))
    try:
        result = await publisher.fetch_metrics(
            account("linkedin", granted, external_id=member.id), [published(post.urn)]
        )
        without = await publisher.fetch_metrics(
            account("linkedin", credentials(fake_linkedin, member), external_id=member.id),
            [published(post.urn)],
        )
    finally:
        await publisher.aclose()
    assert result[f"p-{post.urn}"] == MetricsSnapshot(
        {"impressionsCount": "300", "reachCount": "250", "likesCount": "12", "commentsCount": "2"},
        {"IMPRESSION": 300, "MEMBERS_REACHED": 250, "REACTION": 12, "COMMENT": 2},
    )
    assert len(fake_linkedin.calls("memberCreatorPostAnalytics")) == 5 + 1
    assert without[f"p-{post.urn}"] == MetricsUnavailable(
        "Analytics are not available for linkedin"
    )


async def test_a_members_deleted_post_between_two_is_gone_alone(
    fake_linkedin: FakeLinkedIn, member: Member
) -> None:
    publisher = publisher_for(fake_linkedin, member_analytics=True)
    first, deleted, last = (
        fake_linkedin.add_post(f"urn:li:person:{member.id}", IMPRESSION=n) for n in (1, 2, 3)
    )
    del fake_linkedin.posts[deleted.urn]
    granted = credentials(fake_linkedin, member, scopes=(*ALL_SCOPES, "r_member_postAnalytics"))
    try:
        result = await publisher.fetch_metrics(
            account("linkedin", granted, external_id=member.id),
            [published(p.urn) for p in (first, deleted, last)],
        )
    finally:
        await publisher.aclose()
    assert measured(result) == {
        f"p-{first.urn}": {"impressionsCount": "1"},
        f"p-{last.urn}": {"impressionsCount": "3"},
    }
    assert result[f"p-{deleted.urn}"] == PostGone("Post no longer exists on linkedin")


async def test_rate_limit_waits_as_linkedin_says(
    linkedin: LinkedInPublisher, fake_linkedin: FakeLinkedIn, member: Member, page: Organization
) -> None:
    post = fake_linkedin.add_post(page_urn(page), likeCount=1)
    fake_linkedin.rate_limit_seconds = 9
    fake_linkedin.fail_next("organizationalEntityShareStatistics", "rate_limit")
    with pytest.raises(Retryable) as raised:
        await linkedin.fetch_metrics(
            account("linkedin", credentials(fake_linkedin, member), external_id=member.id),
            [published(post.urn, pageId=page.id)],
        )
    assert raised.value.retry_after == 9.0


async def test_an_expired_token_is_refreshed_once(
    linkedin: LinkedInPublisher, fake_linkedin: FakeLinkedIn, member: Member, page: Organization
) -> None:
    post = fake_linkedin.add_post(page_urn(page), likeCount=1)
    ctx = account("linkedin", credentials(fake_linkedin, member), external_id=member.id)
    fake_linkedin.expire_access_tokens()
    result = await linkedin.fetch_metrics(ctx, [published(post.urn, pageId=page.id)])
    assert isinstance(result[f"p-{post.urn}"], MetricsSnapshot)
    assert len(fake_linkedin.calls("organizationalEntityShareStatistics")) == 2


async def test_a_revoked_token_without_refresh_disconnects_the_account(
    linkedin: LinkedInPublisher, fake_linkedin: FakeLinkedIn, member: Member, page: Organization
) -> None:
    post = fake_linkedin.add_post(page_urn(page), likeCount=1)
    ctx = account(
        "linkedin", credentials(fake_linkedin, member, refresh=False), external_id=member.id
    )
    fake_linkedin.tokens.clear()
    with pytest.raises(AccountDisconnected):
        await linkedin.fetch_metrics(ctx, [published(post.urn, pageId=page.id)])
