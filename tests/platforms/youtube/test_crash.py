"""Invariant 2 for TikTok and YouTube across a real crash of `masthead serve`: the process
dies in the middle of the irreversible upload; the next start asks the platform about the
stored publish_id / upload session and finishes or finds the post, never making a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from masthead.platforms.base import Publisher
from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.tiktok import TikTokPublisher
from masthead.platforms.youtube import YouTubePublisher
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.youtube import DISCOVERY, FakeYouTube
from tests.platforms.tiktok.conftest import tt_post
from tests.platforms.youtube.conftest import yt_post
from tests.support import samples
from tests.support.crashes import seed_connected
from tests.support.files import FileServer
from tests.support.harness import Caller
from tests.support.server import ServerProcess

SECRET = "tt-yt-crash-secret"


def _server(tmp_path: Path, files: FileServer, env: dict[str, str]) -> ServerProcess:
    return ServerProcess(
        tmp_path,
        {
            "MASTHEAD_SECRET_KEY": SECRET,
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_DISPATCH_LEASE_SECONDS": "3",
            "MASTHEAD_FETCH_ALLOW": files.allow,
            **env,
        },
    )


@pytest.fixture
def fake_yt() -> Iterator[FakeYouTube]:
    if not DISCOVERY.exists():
        pytest.skip(f"YouTube's discovery document is not at {DISCOVERY} (../shared/specs)")
    with FakeYouTube().running() as fake:
        yield fake


@pytest.fixture
def fake_tt() -> Iterator[FakeTikTok]:
    with FakeTikTok().running() as fake:
        yield fake


async def _seed(
    server: ServerProcess, publisher: Publisher, tokens: dict[str, Any]
) -> tuple[Caller, str]:
    credentials = credentials_from_token_response(tokens)
    return await seed_connected(server, SECRET, publisher, credentials)


async def _crash_and_restart(
    server: ServerProcess, caller: Caller, body: dict[str, Any], acted: Any
) -> dict[str, Any]:
    await asyncio.to_thread(server.start)
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        post_id = (await client.post("/v2/posts", json=body)).json()["postSubmissionId"]
    deadline = time.monotonic() + 30
    while not acted() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    server.kill()
    await asyncio.to_thread(server.start)
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        while True:
            status: dict[str, Any] = (await client.get(f"/v2/posts/{post_id}")).json()
            if status.get("status") in ("published", "failed") or time.monotonic() > deadline:
                return status
            await asyncio.sleep(0.05)


async def test_youtube_upload_cut_by_a_crash_is_resumed_from_the_stored_session(
    tmp_path: Path, fake_yt: FakeYouTube, files: FileServer
) -> None:
    server = _server(
        tmp_path,
        files,
        {
            "MASTHEAD_YOUTUBE_API_URL": fake_yt.url,
            "MASTHEAD_YOUTUBE_TOKEN_URL": f"{fake_yt.url}/token",
        },
    )
    channel = fake_yt.add_channel("Crash Films")
    publisher = YouTubePublisher(api_url=fake_yt.url, token_url="", app=None)
    caller, account = await _seed(server, publisher, fake_yt.issue_tokens(channel))
    data = samples.video(3.0)
    fake_yt.hang_seconds = 5.0  # outlives the kill; the fake then stops quickly
    fake_yt.fail_next("upload", "hang_half")
    try:
        status = await _crash_and_restart(
            server,
            caller,
            yt_post(account, files.add("crash.mp4", data)),
            lambda: any(s.data for s in fake_yt.sessions.values()),
        )
    finally:
        server.kill()

    [made] = fake_yt.videos_of(channel)
    [session] = fake_yt.sessions.values()
    assert status["status"] == "published", status
    assert status["publicUrl"] == f"https://www.youtube.com/watch?v={made.id}"
    assert made.data == data and session.bytes_sent == len(data)
    assert fake_yt.calls.count("insert") == 1


async def test_tiktok_crash_after_the_last_chunk_is_settled_by_the_publish_id(
    tmp_path: Path, fake_tt: FakeTikTok, files: FileServer
) -> None:
    server = _server(tmp_path, files, {"MASTHEAD_TIKTOK_API_URL": fake_tt.url})
    user = fake_tt.add_user("crashy")
    publisher = TikTokPublisher(api_url=fake_tt.url, app=None)
    caller, account = await _seed(server, publisher, fake_tt.issue_tokens(user))
    data = samples.video(3.0)
    fake_tt.hang_seconds = 5.0
    fake_tt.fail_next("chunk", "hang_after")
    try:
        status = await _crash_and_restart(
            server,
            caller,
            tt_post(account, [files.add("crash.mp4", data)]),
            lambda: any(p.data for p in fake_tt.publishes.values()),
        )
    finally:
        server.kill()

    [post] = fake_tt.published(user)
    assert status["status"] == "published", status
    assert status["publicUrl"] == f"https://www.tiktok.com/@crashy/video/{post.post_id}"
    assert post.data == data and post.bytes_sent == len(data)
    assert fake_tt.calls.count("init") == 1
