"""Connecting a YouTube channel through the browser (Google OAuth with offline access): the
channel becomes the account, its playlists its subaccounts, and it can post at once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from masthead.dispatch.credentials import AccountCredentials
from tests.fakes.youtube import FakeYouTube
from tests.platforms.youtube.conftest import video, yt_post
from tests.support.files import FileServer
from tests.support.harness import Harness
from tests.support.platforms import publish

CALLBACK = "http://masthead.test/oauth/youtube/callback"


async def test_oauth_connects_the_channel_with_its_playlists_and_it_can_post(
    yt_app: Harness, fake_yt: FakeYouTube, files: FileServer
) -> None:
    caller = await yt_app.user()
    channel = fake_yt.add_channel("Ada Films", *(f"List {n}" for n in range(7)))
    fake_yt.authorize_as = channel.id

    started = await yt_app.client.post("/oauth/youtube/start", headers=caller.headers)
    url = started.json()["authorizeUrl"]
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(url)
    page = await yt_app.client.get(consent.headers["location"].removeprefix("http://masthead.test"))

    query = parse_qs(urlsplit(url).query)
    assert query["access_type"] == ["offline"] and query["redirect_uri"] == [CALLBACK]
    assert set(query["scope"][0].split()) == {
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube",
        "https://www.googleapis.com/auth/youtube.force-ssl",
    }
    assert page.status_code == 200, page.text
    [account] = (await yt_app.client.get("/v2/users/me/accounts", headers=caller.headers)).json()[
        "items"
    ]
    assert account["username"] == "@adafilms" and account["fullname"] == "Ada Films"
    subs = await yt_app.client.get(
        f"/v2/users/me/accounts/{account['id']}/subaccounts", headers=caller.headers
    )
    names = sorted(item["name"] for item in subs.json()["items"])
    assert names == [f"List {n}" for n in range(7)]  # two pages of playlists
    stored = await AccountCredentials(yt_app.db, yt_app.ctx.secrets, int(account["id"])).load()
    assert stored["refresh_token"] in fake_yt.refresh_tokens

    url, _ = video(files)
    status = await publish(yt_app, caller, yt_post(account["id"], url))
    assert status["status"] == "published", status
    assert len(fake_yt.videos_of(channel)) == 1
