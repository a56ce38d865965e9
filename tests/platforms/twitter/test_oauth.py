"""Connecting an X account through the browser: start → X's consent → callback → listed.
The state is single-use, expires, and alone decides whose account is connected."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from masthead import app as app_module
from masthead.config import Settings
from masthead.platforms.base import Publisher
from masthead.platforms.oauth import challenge
from masthead.platforms.registry import AVAILABLE, build_publishers
from masthead.store import accounts
from tests.conftest import make_settings
from tests.fakes.x import FakeX
from tests.platforms.twitter.conftest import x_post
from tests.support.harness import Caller, Harness, running_app

CALLBACK = "http://masthead.test/oauth/twitter/callback"


async def _start(harness: Harness, caller: Caller) -> str:
    response = await harness.client.post("/oauth/twitter/start", headers=caller.headers)
    assert response.status_code == 200, response.text
    url: str = response.json()["authorizeUrl"]
    return url


async def _consent(authorize_url: str) -> str:
    """The user's browser at X: X answers with a redirect back to Masthead's callback."""
    async with httpx.AsyncClient() as browser:
        response = await browser.get(authorize_url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return location.removeprefix("http://masthead.test")


async def _accounts(harness: Harness, caller: Caller) -> list[dict[str, str]]:
    response = await harness.client.get("/v2/users/me/accounts", headers=caller.headers)
    items: list[dict[str, str]] = response.json()["items"]
    return items


async def test_full_oauth_flow_connects_the_account_and_it_can_post(
    x_app: Harness, fake_x: FakeX
) -> None:
    caller = await x_app.user()
    fake_x.authorize_as = fake_x.add_user("hopper", "Grace Hopper").id

    url = await _start(x_app, caller)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(fake_x.authorize_url + "?")
    assert query["scope"] == ["tweet.read tweet.write users.read media.write offline.access"]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43 and len(query["state"][0]) >= 32

    page = await x_app.client.get(await _consent(url))

    [account] = await _accounts(x_app, caller)
    assert page.status_code == 200, page.text
    assert "@hopper" in page.text and account["id"] in page.text
    assert account == {
        "id": account["id"],
        "platform": "twitter",
        "fullname": "Grace Hopper",
        "username": "hopper",
    }
    posted = await x_app.create_post(caller, x_post(account["id"], "connected by OAuth"))
    post_id = posted.json()["postSubmissionId"]
    status = await x_app.wait_status(caller, post_id, {"published", "failed"})
    assert status["status"] == "published", status


async def test_a_callback_cannot_be_replayed(x_app: Harness, fake_x: FakeX) -> None:
    caller = await x_app.user()
    fake_x.authorize_as = fake_x.add_user("once").id
    callback = await _consent(await _start(x_app, caller))

    first = await x_app.client.get(callback)
    second = await x_app.client.get(callback)

    assert first.status_code == 200
    assert second.status_code == 400
    assert "already used" in second.text
    assert len(await _accounts(x_app, caller)) == 1


async def test_an_expired_state_is_refused(tmp_path: Path, fake_x: FakeX) -> None:
    settings = make_settings(
        tmp_path,
        public_url="http://masthead.test",
        x_api_url=fake_x.url,
        x_authorize_url=fake_x.authorize_url,
        x_client_id=fake_x.client_id,
        x_client_secret=fake_x.client_secret,
        oauth_state_seconds=0.2,
    )
    async with running_app(settings) as harness:
        caller = await harness.user()
        fake_x.authorize_as = fake_x.add_user("late").id
        callback = await _consent(await _start(harness, caller))
        await asyncio.sleep(0.3)

        page = await harness.client.get(callback)

        assert page.status_code == 400
        assert "expired" in page.text
        assert await _accounts(harness, caller) == []
        assert fake_x.calls("token") == []


async def test_the_state_decides_whose_account_it_is_not_the_browser(
    x_app: Harness, fake_x: FakeX
) -> None:
    mallory, alice = await x_app.user("mallory@example.com"), await x_app.user("alice@example.com")
    fake_x.authorize_as = fake_x.add_user("alice_on_x").id
    callback = await _consent(await _start(x_app, alice))

    # Mallory's browser (her API key) follows Alice's callback: it still connects to Alice.
    page = await x_app.client.get(callback, headers=mallory.headers)

    assert page.status_code == 200
    assert await _accounts(x_app, mallory) == []
    assert [a["username"] for a in await _accounts(x_app, alice)] == ["alice_on_x"]


async def test_a_forged_state_or_code_for_another_platform_attaches_nothing(
    x_app: Harness, fake_x: FakeX
) -> None:
    caller = await x_app.user()
    fake_x.authorize_as = fake_x.add_user("victim").id
    callback = await _consent(await _start(x_app, caller))
    query = parse_qs(urlsplit(callback).query)

    forged = await x_app.client.get(
        "/oauth/twitter/callback", params={"code": query["code"][0], "state": "guessed"}
    )
    elsewhere = await x_app.client.get(callback.replace("/twitter/", "/webhook/"))

    assert forged.status_code == 400
    assert elsewhere.status_code == 400
    assert await _accounts(x_app, caller) == []


async def test_access_denied_on_x_shows_an_error_and_spends_the_state(
    x_app: Harness, fake_x: FakeX
) -> None:
    caller = await x_app.user()
    fake_x.deny_authorization = True
    callback = await _consent(await _start(x_app, caller))

    page = await x_app.client.get(callback)

    assert page.status_code == 400
    assert "access_denied" in page.text
    assert await _accounts(x_app, caller) == []


async def test_the_verifier_sent_to_x_matches_the_challenge_of_the_authorize_url(
    x_app: Harness, fake_x: FakeX
) -> None:
    caller = await x_app.user()
    fake_x.authorize_as = fake_x.add_user("pkce").id
    url = await _start(x_app, caller)

    await x_app.client.get(await _consent(url))

    [token_call] = fake_x.calls("token")
    form = parse_qs(token_call.body.decode())
    assert challenge(form["code_verifier"][0]) == parse_qs(urlsplit(url).query)["code_challenge"][0]
    assert form["redirect_uri"] == [CALLBACK]


async def test_a_platform_without_an_oauth_app_says_it_is_not_configured(
    harness: Harness,
) -> None:
    caller = await harness.user()

    response = await harness.client.post("/oauth/twitter/start", headers=caller.headers)

    assert response.status_code == 400
    assert "not configured" in response.json()["message"]
    assert "MASTHEAD_X_CLIENT_ID" in response.json()["message"]


@pytest.mark.parametrize(
    ("platform", "status", "reason"),
    [
        ("linkedin", 400, "cannot be connected on this server yet"),
        ("webhook", 400, "not connected through OAuth"),
        ("myspace", 404, "Unknown"),
    ],
)
async def test_platforms_without_a_publisher_are_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str, status: int, reason: str
) -> None:
    def without_linkedin(settings: Settings, transports: None) -> dict[str, Publisher]:
        return {k: v for k, v in build_publishers(settings, transports).items() if k != "linkedin"}

    monkeypatch.setattr(app_module, "AVAILABLE", AVAILABLE - {"linkedin"})
    monkeypatch.setattr(app_module, "build_publishers", without_linkedin)
    async with running_app(make_settings(tmp_path, api_rate_limits="off")) as harness:
        caller = await harness.user()
        response = await harness.client.post(f"/oauth/{platform}/start", headers=caller.headers)
    assert response.status_code == status
    assert reason in response.json()["message"]


async def test_starting_a_connect_needs_an_api_key(x_app: Harness) -> None:
    response = await x_app.client.post("/oauth/twitter/start")
    assert response.status_code == 401


async def test_reconnecting_a_disconnected_account_keeps_its_account_id(
    x_app: Harness, fake_x: FakeX
) -> None:
    caller = await x_app.user()
    fake_x.authorize_as = fake_x.add_user("again").id
    await x_app.client.get(await _consent(await _start(x_app, caller)))
    [before] = await _accounts(x_app, caller)
    await x_app.db.write(
        lambda c: accounts.disconnect(c, int(before["id"]), "revoked", datetime.now(UTC))
    )

    page = await x_app.client.get(await _consent(await _start(x_app, caller)))

    assert page.status_code == 200
    assert await _accounts(x_app, caller) == [before]
    row = await x_app.db.read(lambda c: accounts.account_by_id(c, int(before["id"])))
    assert row is not None and row.status == "connected"
