"""Event webhooks with a real thread: connecting X is `account.connected`, and a published
thread's event carries every item's X URL."""

from __future__ import annotations

import pytest

from masthead.config import Settings
from tests.fakes.x import FakeX
from tests.platforms.twitter.conftest import x_post
from tests.support.events import check_signed, subscribe
from tests.support.harness import Harness
from tests.support.platforms import connected_account
from tests.support.receiver import Receiver


@pytest.fixture
def x_settings(x_settings: Settings, receiver: Receiver) -> Settings:
    """The X app's settings, with the event receiver on loopback allowed."""
    return x_settings.model_copy(update={"fetch_allow": frozenset({("127.0.0.1", receiver.port)})})


async def test_a_thread_event_has_each_items_url(
    x_app: Harness, fake_x: FakeX, receiver: Receiver
) -> None:
    caller = await x_app.user()
    hook = await subscribe(x_app, caller, receiver.events_url)
    user = fake_x.add_user("ada")
    account = await connected_account("twitter", x_app, caller, fake_x, user)
    response = await x_app.create_post(caller, x_post(account, "one", "two", "three"))
    post_id = response.json()["postSubmissionId"]

    connected, published = [
        check_signed(d, hook["secret"]) for d in await receiver.wait_for_events(2, timeout=20)
    ]
    assert connected["type"] == "account.connected"
    assert connected["data"]["id"] == account
    assert connected["data"]["username"] == "ada"
    assert published["type"] == "post.published"
    urls = [item["publicUrl"] for item in published["data"]["items"]]
    assert urls == [f"https://x.com/ada/status/{t.id}" for t in fake_x.tweets_by(user)]
    assert len(set(urls)) == 3
    assert published["data"]["publicUrl"] == urls[0]
    assert [p["publicUrl"] for p in published["data"]["posts"]] == urls
    assert published["data"] == {
        **await x_app.status(caller, post_id),
        "items": published["data"]["items"],
    }
