"""A post's media is checked against its target as early as possible: hosted files at request
time (422), fetched files right after the post is accepted (the post fails with the reason)."""

from __future__ import annotations

from typing import Any

import pytest

from masthead.media.library import PostMedia
from masthead.platforms.base import Permanent
from masthead.platforms.registry import RULES
from tests.media.conftest import post_media
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness


async def host(app: Harness, caller: Caller, files: FileServer, name: str, data: bytes) -> str:
    response = await post_media(app, caller, files.add(name, data))
    assert response.status_code == 201, response.text
    url: str = response.json()["url"]
    return url


def post(account: str, platform: str, media: list[str], **target: Any) -> dict[str, Any]:
    return {
        "post": {
            "accountId": account,
            "content": {"text": "hello", "mediaUrls": media, "platform": platform},
            "target": {"targetType": platform, **target},
        },
        "scheduledTime": "2099-01-01T00:00:00Z",
    }


@pytest.mark.parametrize(
    ("platform", "target", "files_", "message"),
    [
        ("twitter", {}, [("long.mp4", "video:150")], "twitter accepts at most 140 s"),
        ("twitter", {}, [("a.gif", "gif"), ("b.jpg", "jpeg")], "animated GIF only as the post's"),
        (
            "youtube",
            {"title": "t", "privacyStatus": "public", "shouldNotifySubscribers": False},
            [("a.jpg", "jpeg")],
            "youtube does not accept JPEG images (it takes only video)",
        ),
        ("bluesky", {}, [("a.mp4", "video:2"), ("b.jpg", "jpeg")], "cannot mix images and video"),
        ("bluesky", {}, [("a.webm", "webm")], "bluesky does not accept WebM video"),
        ("instagram", {}, [("tall.jpg", "jpeg:400x1000")], "aspect ratios from 0.8"),
        ("linkedin", {}, [("a.mp4", "video:4"), ("b.mp4", "video:3")], "takes at most 1 video"),
    ],
)
async def test_hosted_media_a_platform_refuses_is_422(
    app: Harness,
    ada: Caller,
    files: FileServer,
    platform: str,
    target: dict[str, Any],
    files_: list[tuple[str, str]],
    message: str,
) -> None:
    account = await app.account(ada, platform)
    urls = [await host(app, ada, files, name, _make(kind)) for name, kind in files_]

    response = await app.create_post(ada, post(account, platform, urls, **target))

    assert response.status_code == 422, response.text
    assert message in response.json()["message"]
    assert response.json()["errors"][0]["path"].startswith("post.content.mediaUrls")


async def test_hosted_media_a_platform_accepts_is_queued(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    account = await app.account(ada, "bluesky")
    urls = [
        await host(app, ada, files, f"{i}.jpg", samples.image(size=(64 + i, 64))) for i in range(4)
    ]

    response = await app.create_post(ada, post(account, "bluesky", urls))

    assert response.status_code == 201, response.text


async def test_thread_item_media_is_checked_with_its_path(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    account = await app.account(ada, "twitter")
    long_clip = await host(app, ada, files, "long.mp4", _make("video:150"))
    body = post(account, "twitter", [])
    body["post"]["content"]["additionalPosts"] = [{"text": "2", "mediaUrls": [long_clip]}]

    response = await app.create_post(ada, body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "post.content.additionalPosts[0].mediaUrls[0]"


async def test_external_media_is_ingested_right_after_the_post_is_accepted(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    account = await app.account(ada, "bluesky")
    url = files.add("photo.jpg", samples.image())

    response = await app.create_post(ada, post(account, "bluesky", [url]))
    assert response.status_code == 201, response.text
    await _settle(app)

    assert files.requests == ["/file/photo.jpg"]
    status = await app.status(ada, response.json()["postSubmissionId"])
    assert status["status"] == "scheduled"


async def test_external_file_the_platform_refuses_fails_the_post_early(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    account = await app.account(ada, "twitter")
    url = files.add("long.mp4", _make("video:150"))

    response = await app.create_post(ada, post(account, "twitter", [url]))
    assert response.status_code == 201
    await _settle(app)

    status = await app.status(ada, response.json()["postSubmissionId"])
    assert status["status"] == "failed"
    assert status["errorMessage"] == (
        "post.content.mediaUrls[0]: video is 150 s long; twitter accepts at most 140 s"
    )


async def test_external_file_that_cannot_be_fetched_fails_the_post_early(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    account = await app.account(ada, "bluesky")

    response = await app.create_post(ada, post(account, "bluesky", [files.url("/status/404")]))
    await _settle(app)

    status = await app.status(ada, response.json()["postSubmissionId"])
    assert status["status"] == "failed"
    assert status["errorMessage"] == "post.content.mediaUrls[0]: Media URL answered HTTP 404"


async def test_png_is_converted_to_jpeg_once_for_instagram(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    png_url = await host(app, ada, files, "a.png", samples.image("PNG", size=(800, 800)))
    source = PostMedia(app.ctx.media, ada.user_id, RULES["instagram"].files)

    first = await source.file(png_url)
    second = await source.file(png_url)

    assert first.content_type == "image/jpeg"
    assert (first.width, first.height) == (800, 800)
    assert first == second
    assert (await source.read(first))[:3] == b"\xff\xd8\xff"


async def test_oversize_jpeg_is_reencoded_under_the_bluesky_limit(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    big = samples.noisy_jpeg((1600, 1600))
    assert len(big) > 2_000_000
    url = await host(app, ada, files, "big.jpg", big)
    source = PostMedia(app.ctx.media, ada.user_id, RULES["bluesky"].files)

    file = await source.file(url)

    assert file.content_type == "image/jpeg"
    assert file.size <= 2_000_000
    assert len(await source.read(file)) == file.size
    chunks = [chunk async for chunk in source.chunks(file, 100_000)]
    assert [len(c) for c in chunks[:-1]] == [100_000] * (len(chunks) - 1)


async def test_publisher_gets_a_clear_error_for_media_it_cannot_fetch(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    source = PostMedia(app.ctx.media, ada.user_id, RULES["bluesky"].files)

    with pytest.raises(Permanent, match="Media URL answered HTTP 404"):
        await source.file(files.url("/status/404"))


def _make(kind: str) -> bytes:
    name, _, arg = kind.partition(":")
    if name == "video":
        return samples.video(float(arg))
    if name == "webm":
        return samples.video(1.0, container="webm")
    if name == "gif":
        return samples.animated_gif()
    if name == "jpeg" and arg:
        width, height = (int(v) for v in arg.split("x"))
        return samples.image(size=(width, height))
    return samples.image()


async def _settle(app: Harness) -> None:
    """Wait for the post's background ingest to finish."""
    await app.ctx.media.settle()


async def test_patched_draft_media_is_checked_too(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    account = await app.account(ada, "twitter")
    created = await app.create_post(ada, post(account, "twitter", []))
    long_clip = await host(app, ada, files, "long.mp4", _make("video:150"))
    draft = post(account, "twitter", [long_clip])["post"]

    response = await app.client.patch(
        f"/v2/schedules/{created.json()['postSubmissionId']}",
        json={"patch": {"draft": draft}},
        headers=ada.headers,
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["path"] == "patch.draft.content.mediaUrls[0]"
