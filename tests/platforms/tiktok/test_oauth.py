"""Connecting a TikTok account through the browser: Login Kit v2 with a client key, PKCE and
comma-separated scopes; the account is named by its TikTok username and can post at once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from tests.fakes.tiktok import FakeTikTok
from tests.platforms.tiktok.conftest import tt_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness
from tests.support.platforms import publish


async def test_oauth_connects_the_tiktok_account_and_it_can_post(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller = await tt_app.user()
    user = fake_tt.add_user("grace")
    fake_tt.authorize_as = user.open_id

    started = await tt_app.client.post("/oauth/tiktok/start", headers=caller.headers)
    url = started.json()["authorizeUrl"]
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(url)
    callback = urlsplit(consent.headers["location"])
    page = await tt_app.client.get(f"{callback.path}?{callback.query}")

    query = parse_qs(urlsplit(url).query)
    assert query["client_key"] == [fake_tt.client_id]
    assert query["scope"] == [
        "user.info.basic,user.info.profile,video.publish,video.upload,video.list"
    ]
    assert query["code_challenge_method"] == ["S256"]
    assert page.status_code == 200, page.text
    [account] = (await tt_app.client.get("/v2/users/me/accounts", headers=caller.headers)).json()[
        "items"
    ]
    assert (account["username"], account["fullname"]) == ("grace", "Grace")

    clip = files.add("oauth.mp4", samples.video(2.0))
    status = await publish(tt_app, caller, tt_post(account["id"], [clip]))
    assert status["status"] == "published", status
    assert len(fake_tt.published(user)) == 1
