"""Invariant 2 for TikTok across a real crash of `masthead serve`: the process dies after the
last chunk of the irreversible upload; the next start asks TikTok about the stored publish_id
and finds the post, never making a second."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.tiktok import TikTokPublisher
from tests.fakes.tiktok import FakeTikTok
from tests.platforms.tiktok.conftest import tt_post
from tests.support import samples
from tests.support.crashes import crash_server, kill_once_sent, restarted_state, seed_connected
from tests.support.files import FileServer

SECRET = "tt-crash-secret"


@pytest.fixture
def fake_tt() -> Iterator[FakeTikTok]:
    """With TikTok's own chunk rules, as the server has them (the folder's fake scales them
    down for publishers built in the test)."""
    with FakeTikTok().running() as fake:
        yield fake


async def test_tiktok_crash_after_the_last_chunk_is_settled_by_the_publish_id(
    tmp_path: Path, fake_tt: FakeTikTok, files: FileServer
) -> None:
    server = crash_server(
        tmp_path,
        SECRET,
        {"MASTHEAD_FETCH_ALLOW": files.allow, "MASTHEAD_TIKTOK_API_URL": fake_tt.url},
    )
    user = fake_tt.add_user("crashy")
    publisher = TikTokPublisher(api_url=fake_tt.url, app=None)
    credentials = credentials_from_token_response(fake_tt.issue_tokens(user))
    caller, account = await seed_connected(server, SECRET, publisher, credentials)
    data = samples.video(3.0)
    fake_tt.hang_seconds = 5.0
    fake_tt.fail_next("chunk", "hang_after")
    try:
        post = tt_post(account, [files.add("crash.mp4", data)])
        post_id = await kill_once_sent(
            server, caller, post, lambda: any(p.data for p in fake_tt.publishes.values())
        )
        status = await restarted_state(server, caller, post_id, within=30)
    finally:
        server.kill()

    [made] = fake_tt.published(user)
    assert status["status"] == "published", status
    assert status["publicUrl"] == f"https://www.tiktok.com/@crashy/video/{made.post_id}"
    assert made.data == data and made.bytes_sent == len(data)
    assert fake_tt.calls.count("init") == 1
