"""TikTok through the public API: creator_info first, a video in Content-Range chunks (or
pulled from a verified prefix), photos pulled from Masthead's hosted URLs, drafts to the
inbox, every target field mapped, and the public URL from TikTok's post id."""

from __future__ import annotations

from tests.fakes.tiktok import FakeTikTok
from tests.platforms.tiktok.conftest import tt_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness
from tests.support.platforms import connected_account, publish


def _clip(files: FileServer) -> tuple[str, bytes]:
    data = samples.video(4.0, "640x480")
    return files.add("clip.mp4", data), data


async def test_video_is_uploaded_in_chunks_and_published_once_with_every_field(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller = await tt_app.user()
    user = fake_tt.add_user("ada")
    account = await connected_account("tiktok", tt_app, caller, fake_tt, user)
    url, data = _clip(files)

    status = await publish(
        tt_app,
        caller,
        tt_post(
            account,
            [url],
            "my caption #fyp",
            disabledComments=True,
            disabledStitch=True,
            isBrandedContent=True,
            isAiGenerated=True,
            videoCoverTimestamp=1500,
        ),
    )

    assert status["status"] == "published", status
    [post] = fake_tt.published(user)
    assert status["publicUrl"] == f"https://www.tiktok.com/@ada/video/{post.post_id}"
    assert post.data == data and post.bytes_sent == len(data)
    assert post.source["total_chunk_count"] == len(data) // post.source["chunk_size"] > 2
    assert post.post_info == {
        "title": "my caption #fyp",
        "privacy_level": "PUBLIC_TO_EVERYONE",
        "disable_comment": True,
        "disable_duet": False,
        "disable_stitch": True,
        "brand_content_toggle": True,
        "brand_organic_toggle": False,
        "is_aigc": True,
        "video_cover_timestamp_ms": 1500,
    }
    assert fake_tt.calls[0] == "creator_info"


async def test_settings_the_creator_turned_off_stay_off(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller = await tt_app.user()
    user = fake_tt.add_user("quiet", comment_disabled=True, duet_disabled=True)
    account = await connected_account("tiktok", tt_app, caller, fake_tt, user)
    url, _ = _clip(files)

    status = await publish(tt_app, caller, tt_post(account, [url]))

    assert status["status"] == "published", status
    [post] = fake_tt.published(user)
    assert post.post_info["disable_comment"] is True and post.post_info["disable_duet"] is True
    assert post.post_info["disable_stitch"] is False


async def test_private_post_links_to_the_profile(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller = await tt_app.user()
    user = fake_tt.add_user("shy")
    account = await connected_account("tiktok", tt_app, caller, fake_tt, user)
    url, _ = _clip(files)

    status = await publish(tt_app, caller, tt_post(account, [url], privacyLevel="SELF_ONLY"))

    assert status["status"] == "published", status
    assert status["publicUrl"] == "https://www.tiktok.com/@shy"
    assert len(fake_tt.published(user)) == 1


async def test_draft_goes_to_the_inbox(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller = await tt_app.user()
    user = fake_tt.add_user("drafty")
    account = await connected_account("tiktok", tt_app, caller, fake_tt, user)
    url, data = _clip(files)

    status = await publish(tt_app, caller, tt_post(account, [url], isDraft=True))

    assert status["status"] == "published", status
    [post] = fake_tt.published(user)
    assert (post.mode, post.status, post.data) == ("inbox", "SEND_TO_USER_INBOX", data)
    assert status["publicUrl"] == "https://www.tiktok.com/@drafty"


async def test_photos_are_pulled_from_the_hosted_urls_as_jpeg(
    tt_pull_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller = await tt_pull_app.user()
    user = fake_tt.add_user("snaps")
    account = await connected_account("tiktok", tt_pull_app, caller, fake_tt, user)
    png = files.add("a.png", samples.image("PNG"))
    jpeg = files.add("b.jpg", samples.image("JPEG", color="red"))

    status = await publish(
        tt_pull_app,
        caller,
        tt_post(
            account,
            [png, jpeg],
            "two photos",
            title="Album",
            autoAddMusic=True,
            imageCoverIndex=1,
        ),
    )

    assert status["status"] == "published", status
    [post] = fake_tt.published(user)
    assert post.kind == "photo" and len(post.photos) == 2
    assert all(photo.startswith(b"\xff\xd8") for photo in post.photos)  # PNG became JPEG
    assert post.source["photo_cover_index"] == 1
    assert post.post_info["title"] == "Album" and post.post_info["description"] == "two photos"
    assert post.post_info["auto_add_music"] is True


async def test_photos_without_a_verified_prefix_fail_before_anything_is_sent(
    tt_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller = await tt_app.user()
    user = fake_tt.add_user("unverified")
    account = await connected_account("tiktok", tt_app, caller, fake_tt, user)
    jpeg = files.add("c.jpg", samples.image("JPEG"))

    status = await publish(tt_app, caller, tt_post(account, [jpeg]))

    assert status["status"] == "failed"
    assert "MASTHEAD_TIKTOK_PULL_PREFIXES" in status["errorMessage"]
    assert "init" not in fake_tt.calls


async def test_video_under_a_verified_prefix_is_pulled_not_uploaded(
    tt_pull_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller = await tt_pull_app.user()
    user = fake_tt.add_user("puller")
    account = await connected_account("tiktok", tt_pull_app, caller, fake_tt, user)
    url, data = _clip(files)

    status = await publish(tt_pull_app, caller, tt_post(account, [url]))

    assert status["status"] == "published", status
    [post] = fake_tt.published(user)
    assert post.source["source"] == "PULL_FROM_URL" and post.data == data
    assert "chunk" not in fake_tt.calls


async def test_photo_draft_goes_to_the_inbox_as_media_upload(
    tt_pull_app: Harness, fake_tt: FakeTikTok, files: FileServer
) -> None:
    caller = await tt_pull_app.user()
    user = fake_tt.add_user("album")
    account = await connected_account("tiktok", tt_pull_app, caller, fake_tt, user)
    photo = files.add("d.jpg", samples.image("JPEG"))

    status = await publish(tt_pull_app, caller, tt_post(account, [photo], isDraft=True))

    assert status["status"] == "published", status
    [post] = fake_tt.published(user)
    assert (post.kind, post.mode, post.status) == ("photo", "inbox", "SEND_TO_USER_INBOX")
    assert status["publicUrl"] == "https://www.tiktok.com/@album"
    assert fake_tt.calls.count("init") == 1
