"""YouTube through the public API: one resumable upload makes one video with every target
field mapped, its thumbnail and its playlists; the public URL is the watch URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.fakes.youtube import FakeYouTube
from tests.platforms.youtube.conftest import video, yt_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness
from tests.support.platforms import connected_account, publish

PAST = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()


async def test_video_is_uploaded_once_with_every_field_mapped(
    yt_app: Harness, fake_yt: FakeYouTube, files: FileServer
) -> None:
    caller = await yt_app.user()
    channel = fake_yt.add_channel("Ada Films")
    account = await connected_account("youtube", yt_app, caller, fake_yt, channel)
    url, data = video(files)

    status = await publish(
        yt_app,
        caller,
        yt_post(
            account,
            url,
            "A description",
            title="Launch day",
            privacyStatus="private",
            shouldNotifySubscribers=True,
            isMadeForKids=False,
            containsSyntheticMedia=True,
        ),
    )

    assert status["status"] == "published", status
    [made] = fake_yt.videos_of(channel)
    assert status["publicUrl"] == f"https://www.youtube.com/watch?v={made.id}"
    assert made.data == data
    assert made.notify is True
    assert made.resource["snippet"]["title"] == "Launch day"
    assert made.resource["snippet"]["description"] == "A description"
    assert made.resource["status"] == {
        "privacyStatus": "private",
        "selfDeclaredMadeForKids": False,
        "containsSyntheticMedia": True,
        "uploadStatus": "uploaded",
    }
    [session] = fake_yt.sessions.values()
    assert session.bytes_sent == len(data)


async def test_thumbnail_and_playlists_are_applied_to_the_video(
    yt_app: Harness, fake_yt: FakeYouTube, files: FileServer
) -> None:
    caller = await yt_app.user()
    channel = fake_yt.add_channel("Ada Films", "Talks", "Demos")
    account = await connected_account("youtube", yt_app, caller, fake_yt, channel)
    playlists = list(fake_yt.playlists)
    url, _ = video(files)
    thumbnail = samples.image("JPEG", (1280, 720))
    thumbnail_url = files.add("thumb.jpg", thumbnail)

    status = await publish(
        yt_app,
        caller,
        yt_post(account, url, thumbnailUrl=thumbnail_url, playlistIds=playlists),
    )

    assert status["status"] == "published", status
    [made] = fake_yt.videos_of(channel)
    assert made.thumbnail == thumbnail
    assert all(fake_yt.playlists[p][2] == [made.id] for p in playlists)


async def test_expired_token_is_refreshed_and_google_keeps_the_refresh_token(
    yt_app: Harness, fake_yt: FakeYouTube, files: FileServer
) -> None:
    caller = await yt_app.user()
    channel = fake_yt.add_channel("Late Films")
    account = await connected_account("youtube", yt_app, caller, fake_yt, channel, expires_at=PAST)
    url, _ = video(files)

    status = await publish(yt_app, caller, yt_post(account, url))

    assert status["status"] == "published", status
    assert fake_yt.calls.count("token") == 1
    assert len(fake_yt.videos_of(channel)) == 1


async def test_a_401_mid_publish_refreshes_once(
    yt_app: Harness, fake_yt: FakeYouTube, files: FileServer
) -> None:
    caller = await yt_app.user()
    channel = fake_yt.add_channel("Revoked Films")
    account = await connected_account("youtube", yt_app, caller, fake_yt, channel)
    fake_yt.expire_access_tokens()
    url, _ = video(files)

    status = await publish(yt_app, caller, yt_post(account, url))

    assert status["status"] == "published", status
    assert fake_yt.calls.count("token") == 1
    assert len(fake_yt.videos_of(channel)) == 1
