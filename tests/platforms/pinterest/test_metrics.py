"""Pinterest metrics: `GET /pins/{id}/analytics` per Pin against the fake, which checks each
request and answer against Pinterest's OpenAPI; faults and the refresh after a 401."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from masthead.platforms.base import (
    AccountDisconnected,
    MetricsReader,
    MetricsSnapshot,
    MetricsUnavailable,
    PostGone,
    Retryable,
)
from masthead.platforms.pinterest import PinterestPublisher
from tests.fakes.pinterest import FakePinterest, User
from tests.support.metrics import measured, published, signed_in


@pytest.fixture
async def pinterest(fake_pinterest: FakePinterest) -> AsyncIterator[PinterestPublisher]:
    publisher = PinterestPublisher(api_url=fake_pinterest.url, app=fake_pinterest.oauth_app())
    yield publisher
    await publisher.aclose()


@pytest.fixture
def pinner(fake_pinterest: FakePinterest) -> User:
    return fake_pinterest.add_user("baker")


async def test_an_image_pin_is_normalised_with_its_save_rate(
    pinterest: PinterestPublisher, fake_pinterest: FakePinterest, pinner: User
) -> None:
    assert isinstance(pinterest, MetricsReader)
    pin = fake_pinterest.add_pin(
        pinner, IMPRESSION=240, SAVE=20, SAVE_RATE=0.08, PIN_CLICK=37, OUTBOUND_CLICK=0
    )
    result = await pinterest.fetch_metrics(
        signed_in("pinterest", fake_pinterest.issue_tokens(pinner)), [published(pin.id)]
    )
    assert result == {
        f"p-{pin.id}": MetricsSnapshot(
            {
                "impressionsCount": "240",
                "savesCount": "20",
                "pinterestSaveRate": 0.08,
                "clicksCount": "37",
                "outboundClicksCount": "0",
            },
            {
                "IMPRESSION": 240,
                "SAVE": 20,
                "SAVE_RATE": 0.08,
                "PIN_CLICK": 37,
                "OUTBOUND_CLICK": 0,
            },
        )
    }


async def test_a_video_pin_has_views_and_a_missing_metric_is_absent(
    pinterest: PinterestPublisher, fake_pinterest: FakePinterest, pinner: User
) -> None:
    pin = fake_pinterest.add_pin(pinner, video=True, IMPRESSION=50, VIDEO_MRC_VIEW=31)
    result = await pinterest.fetch_metrics(
        signed_in("pinterest", fake_pinterest.issue_tokens(pinner)),
        [published(pin.id, data={"mediaType": "video"})],
    )
    snapshot = result[f"p-{pin.id}"]
    assert isinstance(snapshot, MetricsSnapshot)
    assert snapshot.metrics == {"impressionsCount": "50", "viewsCount": "31"}


async def test_one_request_per_pin_and_a_deleted_pin_is_gone(
    pinterest: PinterestPublisher, fake_pinterest: FakePinterest, pinner: User
) -> None:
    kept = fake_pinterest.add_pin(pinner, SAVE=1)
    deleted = fake_pinterest.add_pin(pinner, SAVE=2)
    del fake_pinterest.pins[deleted.id]
    result = await pinterest.fetch_metrics(
        signed_in("pinterest", fake_pinterest.issue_tokens(pinner)),
        [published(kept.id), published(deleted.id)],
    )
    assert result[f"p-{deleted.id}"] == PostGone("Post no longer exists on pinterest")
    assert isinstance(result[f"p-{kept.id}"], MetricsSnapshot)
    assert len(fake_pinterest.calls("pin-analytics")) == 2


async def test_a_pin_pinterest_refuses_ends_alone_and_the_others_are_read(
    pinterest: PinterestPublisher, fake_pinterest: FakePinterest, pinner: User
) -> None:
    first, refused, last = (fake_pinterest.add_pin(pinner, SAVE=n) for n in (1, 2, 3))
    fake_pinterest.fail_next("pin-analytics", "forbidden", after=1)
    result = await pinterest.fetch_metrics(
        signed_in("pinterest", fake_pinterest.issue_tokens(pinner)),
        [published(p.id) for p in (first, refused, last)],
    )
    assert measured(result) == {
        f"p-{first.id}": {"savesCount": "1"},
        f"p-{last.id}": {"savesCount": "3"},
    }
    assert result[f"p-{refused.id}"] == MetricsUnavailable("Not authorized to access board or Pin.")


async def test_rate_limit_waits_as_pinterest_says(
    pinterest: PinterestPublisher, fake_pinterest: FakePinterest, pinner: User
) -> None:
    pin = fake_pinterest.add_pin(pinner, SAVE=1)
    fake_pinterest.rate_limit_seconds = 7
    fake_pinterest.fail_next("pin-analytics", "rate_limit")
    with pytest.raises(Retryable) as raised:
        await pinterest.fetch_metrics(
            signed_in("pinterest", fake_pinterest.issue_tokens(pinner)), [published(pin.id)]
        )
    assert raised.value.retry_after == 7.0


async def test_an_expired_token_is_refreshed_once(
    pinterest: PinterestPublisher, fake_pinterest: FakePinterest, pinner: User
) -> None:
    pin = fake_pinterest.add_pin(pinner, SAVE=1)
    ctx = signed_in("pinterest", fake_pinterest.issue_tokens(pinner))
    fake_pinterest.expire_access_tokens()
    result = await pinterest.fetch_metrics(ctx, [published(pin.id)])
    assert isinstance(result[f"p-{pin.id}"], MetricsSnapshot)
    assert len(fake_pinterest.calls("pin-analytics")) == 2  # refused once, then answered


async def test_a_revoked_grant_disconnects_the_account(
    pinterest: PinterestPublisher, fake_pinterest: FakePinterest, pinner: User
) -> None:
    pin = fake_pinterest.add_pin(pinner, SAVE=1)
    ctx = signed_in("pinterest", fake_pinterest.issue_tokens(pinner))
    fake_pinterest.tokens.clear()
    fake_pinterest.refresh_tokens.clear()
    with pytest.raises(AccountDisconnected):
        await pinterest.fetch_metrics(ctx, [published(pin.id)])
