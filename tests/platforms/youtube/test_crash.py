"""Invariant 2 for YouTube across a real crash of `masthead serve`: the process dies in the
middle of the irreversible upload; the next start asks YouTube about the stored upload session
and finishes the video, never making a second."""

from __future__ import annotations

from pathlib import Path

from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.youtube import YouTubePublisher
from tests.fakes.youtube import FakeYouTube
from tests.platforms.youtube.conftest import yt_post
from tests.support import samples
from tests.support.crashes import crash_server, kill_once_sent, restarted_state, seed_connected
from tests.support.files import FileServer

SECRET = "yt-crash-secret"


async def test_youtube_upload_cut_by_a_crash_is_resumed_from_the_stored_session(
    tmp_path: Path, fake_yt: FakeYouTube, files: FileServer
) -> None:
    server = crash_server(
        tmp_path,
        SECRET,
        {
            "MASTHEAD_FETCH_ALLOW": files.allow,
            "MASTHEAD_YOUTUBE_API_URL": fake_yt.url,
            "MASTHEAD_YOUTUBE_TOKEN_URL": f"{fake_yt.url}/token",
        },
    )
    channel = fake_yt.add_channel("Crash Films")
    publisher = YouTubePublisher(api_url=fake_yt.url, token_url="", app=None)
    credentials = credentials_from_token_response(fake_yt.issue_tokens(channel))
    caller, account = await seed_connected(server, SECRET, publisher, credentials)
    data = samples.video(3.0)
    fake_yt.hang_seconds = 5.0  # outlives the kill; the fake then stops quickly
    fake_yt.fail_next("upload", "hang_half")
    try:
        post = yt_post(account, files.add("crash.mp4", data))
        post_id = await kill_once_sent(
            server, caller, post, lambda: any(s.data for s in fake_yt.sessions.values())
        )
        status = await restarted_state(server, caller, post_id, within=30)
    finally:
        server.kill()

    [made] = fake_yt.videos_of(channel)
    [session] = fake_yt.sessions.values()
    assert status["status"] == "published", status
    assert status["publicUrl"] == f"https://www.youtube.com/watch?v={made.id}"
    assert made.data == data and session.bytes_sent == len(data)
    assert fake_yt.calls.count("insert") == 1
