"""A fake YouTube, an app whose YouTube settings point at it, and helpers to post a video."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from masthead.config import Settings
from masthead.platforms.youtube import YouTubePublisher
from tests.fakes.youtube import DISCOVERY, FakeYouTube
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness, running_app
from tests.support.platforms import fake_settings


@pytest.fixture
def fake_yt() -> Iterator[FakeYouTube]:
    if not DISCOVERY.exists():
        pytest.skip(f"YouTube's discovery document is not at {DISCOVERY} (../shared/specs)")
    with FakeYouTube().running("requests that YouTube's discovery document refuses") as fake:
        yield fake


@pytest.fixture
async def youtube(fake_yt: FakeYouTube) -> AsyncIterator[YouTubePublisher]:
    """A publisher pointed at the fake, for tests that call it directly."""
    publisher = YouTubePublisher(
        api_url=fake_yt.url, token_url=f"{fake_yt.url}/token", app=fake_yt.oauth_app()
    )
    yield publisher
    await publisher.aclose()


@pytest.fixture
def yt_settings(tmp_path: Path, fake_yt: FakeYouTube, files: FileServer) -> Settings:
    return fake_settings(
        tmp_path,
        "youtube",
        fake_yt,
        fetch_allow=files.allow,
        youtube_token_url=f"{fake_yt.url}/token",
    )


@pytest.fixture
async def yt_app(yt_settings: Settings, fake_yt: FakeYouTube) -> AsyncIterator[Harness]:
    async with running_app(yt_settings, transports={"youtube": fake_yt.transport()}) as running:
        yield running


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
