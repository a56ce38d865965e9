"""A fake YouTube, an app whose YouTube settings point at it, and helpers to post a video."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from masthead.config import OAuthApp, Settings
from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.youtube import YouTubePublisher
from tests.conftest import make_settings
from tests.fakes.youtube import DISCOVERY, Channel, FakeYouTube
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness, running_app


@pytest.fixture
def fake_yt() -> Iterator[FakeYouTube]:
    if not DISCOVERY.exists():
        pytest.skip(f"YouTube's discovery document is not at {DISCOVERY} (../shared/specs)")
    with FakeYouTube().running("requests that YouTube's discovery document refuses") as fake:
        yield fake


@pytest.fixture
async def youtube(fake_yt: FakeYouTube) -> AsyncIterator[YouTubePublisher]:
    """A publisher pointed at the fake, for tests that call it directly."""
    app = OAuthApp(fake_yt.client_id, fake_yt.client_secret, f"{fake_yt.url}/o", fake_yt.url)
    publisher = YouTubePublisher(api_url=fake_yt.url, token_url=f"{fake_yt.url}/token", app=app)
    yield publisher
    await publisher.aclose()


@pytest.fixture
def yt_settings(tmp_path: Path, fake_yt: FakeYouTube, files: FileServer) -> Settings:
    return make_settings(
        tmp_path,
        api_rate_limits="off",
        public_url="http://masthead.test",
        fetch_allow=files.allow,
        youtube_api_url=fake_yt.url,
        youtube_authorize_url=f"{fake_yt.url}/o/oauth2/v2/auth",
        youtube_token_url=f"{fake_yt.url}/token",
        youtube_client_id=fake_yt.client_id,
        youtube_client_secret=fake_yt.client_secret,
    )


@pytest.fixture
async def yt_app(yt_settings: Settings, fake_yt: FakeYouTube) -> AsyncIterator[Harness]:
    async with running_app(yt_settings, transports={"youtube": fake_yt.transport()}) as running:
        yield running


async def connect_yt(
    harness: Harness, caller: Caller, fake: FakeYouTube, channel: Channel, **tokens: Any
) -> str:
    """Connect `channel` for `caller` the way `masthead accounts add` does."""
    credentials = {**credentials_from_token_response(fake.issue_tokens(channel)), **tokens}
    return await harness.connect(caller, "youtube", credentials)


def yt_post(
    account_id: str, video_url: str, text: str = "About it", **target: Any
) -> dict[str, Any]:
    fields = {
        "title": "My video",
        "privacyStatus": "unlisted",
        "shouldNotifySubscribers": False,
        **target,
    }
    return {
        "post": {
            "accountId": account_id,
            "content": {"text": text, "mediaUrls": [video_url], "platform": "youtube"},
            "target": {"targetType": "youtube", **fields},
        }
    }


def video(files: FileServer, seconds: float = 2.0) -> tuple[str, bytes]:
    data = samples.video(seconds)
    return files.add(f"clip{seconds}.mp4", data), data


async def publish(
    harness: Harness, caller: Caller, body: dict[str, Any], timeout: float = 30
) -> dict[str, Any]:
    response = await harness.create_post(caller, body)
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    return await harness.wait_status(caller, post_id, {"published", "failed"}, timeout)
