"""A fake TikTok, an app served on a real port (TikTok pulls photos from Masthead's public
URL) whose TikTok settings point at the fake, and helpers to post."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from masthead.config import Settings
from masthead.dispatch.credentials import AccountCredentials
from masthead.domain.posts import ThreadItem
from masthead.domain.rules import UploadChunks
from masthead.platforms.base import AccountInfo, PublishContext
from masthead.platforms.tiktok import TikTokPublisher
from tests.fakes.tiktok import FakeTikTok
from tests.support.files import FileServer
from tests.support.harness import Harness, served_app
from tests.support.media import StaticMedia
from tests.support.platforms import fake_settings

LOOPBACK = "http://127.0.0.1:"
"""The verified prefix in tests: the served app's port is only known once it listens."""
SMALL_CHUNKS = UploadChunks(
    minimum=4 * 1024, maximum=8 * 1024, last_maximum=16 * 1024, max_count=1000
)
"""TikTok's chunk rules scaled down 8,000 times, so a test video of some 70 KB is cut the
way a video of a hundred MB is; the fake enforces the same object."""


@pytest.fixture
def fake_tt() -> Iterator[FakeTikTok]:
    with FakeTikTok(chunks=SMALL_CHUNKS).running(
        "requests TikTok's documentation does not allow"
    ) as fake:
        yield fake


def tt_settings(tmp_path: Path, fake: FakeTikTok, files: FileServer, **more: Any) -> Settings:
    return fake_settings(tmp_path, "tiktok", fake, fetch_allow=files.allow, **more)


@pytest.fixture
async def tt_app(tmp_path: Path, fake_tt: FakeTikTok, files: FileServer) -> AsyncIterator[Harness]:
    settings = tt_settings(tmp_path, fake_tt, files)
    async with served_app(settings, transports={"tiktok": fake_tt.transport()}) as running:
        await use_small_chunks(running)
        yield running


@pytest.fixture
async def tt_pull_app(
    tmp_path: Path, fake_tt: FakeTikTok, files: FileServer
) -> AsyncIterator[Harness]:
    """The app with its public URL verified with TikTok: photos and videos are pulled."""
    fake_tt.verified_prefixes = (LOOPBACK,)
    settings = tt_settings(tmp_path, fake_tt, files, tiktok_pull_prefixes=LOOPBACK)
    async with served_app(settings, transports={"tiktok": fake_tt.transport()}) as running:
        await use_small_chunks(running)
        yield running


async def use_small_chunks(harness: Harness) -> None:
    """The app's TikTok publisher, rebuilt from its settings with `SMALL_CHUNKS` and quick
    status polls (the engine reads the same publishers mapping)."""
    settings = harness.settings
    await harness.ctx.publishers["tiktok"].aclose()
    harness.ctx.publishers["tiktok"] = TikTokPublisher(
        api_url=settings.tiktok_api_url,
        app=settings.oauth_app("tiktok"),
        pull_prefixes=settings.tiktok_pull_prefixes,
        chunks=SMALL_CHUNKS,
        poll_interval=0.05,
    )


def tt_post(
    account_id: str, media: list[str], text: str = "Hello TikTok", **target: Any
) -> dict[str, Any]:
    fields = {
        "privacyLevel": "PUBLIC_TO_EVERYONE",
        "disabledComments": False,
        "disabledDuet": False,
        "disabledStitch": False,
        "isBrandedContent": False,
        "isYourBrand": False,
        "isAiGenerated": False,
        **target,
    }
    return {
        "post": {
            "accountId": account_id,
            "content": {"text": text, "mediaUrls": media, "platform": "tiktok"},
            "target": {"targetType": "tiktok", **fields},
        }
    }


TARGET = {
    "targetType": "tiktok",
    "privacyLevel": "PUBLIC_TO_EVERYONE",
    "disabledComments": False,
    "disabledDuet": False,
    "disabledStitch": False,
    "isBrandedContent": False,
    "isYourBrand": False,
    "isAiGenerated": False,
}


VIDEO_URL = "https://m.test/v.mp4"


def direct(
    harness: Harness, fake: FakeTikTok, account: int, open_id: str, username: str
) -> tuple[PublishContext, TikTokPublisher, bytes]:
    """A context over a video of 5 chunks and a bit, held in memory; a publisher with the
    small chunks; the video's bytes."""
    data = os.urandom(5 * SMALL_CHUNKS.maximum + 100)
    media = StaticMedia()
    media.add(VIDEO_URL, data, "video/mp4", duration=5.0)
    ctx = PublishContext(
        post_id="p1",
        account=AccountInfo(account, "tiktok", open_id, username),
        target=TARGET,
        items=(ThreadItem("direct", (VIDEO_URL,)),),
        scheduled_at=None,
        signing_secret="",
        credentials=AccountCredentials(harness.db, harness.ctx.secrets, account),
        media=media,
    )
    publisher = TikTokPublisher(
        api_url=fake.url,
        app=harness.settings.oauth_app("tiktok"),
        chunks=SMALL_CHUNKS,
        poll_interval=0.01,
    )
    return ctx, publisher, data
