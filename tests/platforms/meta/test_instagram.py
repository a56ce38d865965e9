"""Instagram posts through the public API: containers, carousels, reels, stories, quota."""

from __future__ import annotations

import time

from tests.fakes.meta import FakeMeta
from tests.platforms.meta.conftest import Business, instagram_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness
from tests.support.platforms import publish


async def test_image_post_is_published_from_a_finished_container(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    url = files.add("bread.png", samples.image("PNG"))
    body = instagram_post(business.instagram, "Sourdough", [url], altText="A loaf")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    [media] = fake_meta.media_of(business.page.ig)  # type: ignore[arg-type]
    assert media.media_type == "IMAGE" and media.caption == "Sourdough"
    assert status["publicUrl"] == media.permalink
    container = fake_meta.containers[media.container_id]
    assert container.fields["alt_text"] == "A loaf"
    assert container.fields["image_url"].startswith(meta_app.settings.public_url)
    assert len(fake_meta.calls("status")) >= fake_meta.container_polls, "status polled"


async def test_carousel_publishes_children_then_one_carousel(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    urls = [files.add(f"{c}.jpg", samples.image(color=c)) for c in ("red", "green", "blue")]
    urls.append(files.add("clip.mp4", samples.video(seconds=4)))
    body = instagram_post(business.instagram, "Four", urls, collaborators=["bob"])
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    [media] = fake_meta.media_of(business.page.ig)  # type: ignore[arg-type]
    assert media.media_type == "CAROUSEL" and len(media.children) == 4
    children = [fake_meta.containers[c].fields for c in media.children]
    assert all(child["is_carousel_item"] is True for child in children)
    assert children[3]["media_type"] == "VIDEO"
    assert fake_meta.containers[media.container_id].fields["collaborators"] == ["bob"]


async def test_reel_carries_cover_share_audio_and_collaborators(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    video = files.add("reel.mp4", samples.video(seconds=4))
    cover = files.add("cover.jpg", samples.image())
    body = instagram_post(
        business.instagram,
        "Reel",
        [video],
        mediaType="reel",
        coverImageUrl=cover,
        shareToFeed=False,
        audioName="Bakery beats",
        collaborators=["bob", "eve"],
        altText="Dough rising",
    )
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    [media] = fake_meta.media_of(business.page.ig)  # type: ignore[arg-type]
    fields = fake_meta.containers[media.container_id].fields
    assert fields["media_type"] == "REELS"
    assert fields["share_to_feed"] is False
    assert fields["audio_name"] == "Bakery beats"
    assert fields["collaborators"] == ["bob", "eve"]
    assert fields["alt_text"] == "Dough rising"
    assert fields["cover_url"].startswith(meta_app.settings.public_url)


async def test_story_is_a_stories_container(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    url = files.add("story.jpg", samples.image(size=(720, 1280)))
    body = instagram_post(business.instagram, "", [url], mediaType="story")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    [media] = fake_meta.media_of(business.page.ig)  # type: ignore[arg-type]
    assert media.media_type == "STORIES"


async def test_errored_container_is_made_again_once(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    fake_meta.container_outcomes.extend(["ERROR:transcoding failed"])
    url = files.add("a.jpg", samples.image())
    status = await publish(
        meta_app, business.caller, instagram_post(business.instagram, "x", [url])
    )
    assert status["status"] == "published", status
    assert len(fake_meta.calls("container")) == 2
    assert len(fake_meta.media_of(business.page.ig)) == 1  # type: ignore[arg-type]


async def test_expired_twice_fails_in_words_without_publishing(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    fake_meta.container_outcomes.extend(["EXPIRED", "EXPIRED"])
    url = files.add("a.jpg", samples.image())
    status = await publish(
        meta_app, business.caller, instagram_post(business.instagram, "x", [url])
    )
    assert status["status"] == "failed"
    assert "Instagram could not process the media (container EXPIRED)" in status["errorMessage"]
    assert len(fake_meta.calls("container")) == 2
    assert fake_meta.calls("publish") == []


async def test_over_quota_post_waits_for_the_window_then_publishes(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    fake_meta.quota_total, fake_meta.quota_duration = 1, 3
    fake_meta.seed_media(business.page.ig, "earlier", at=time.time())  # type: ignore[arg-type]
    url = files.add("a.jpg", samples.image())
    started = time.monotonic()
    status = await publish(
        meta_app, business.caller, instagram_post(business.instagram, "x", [url])
    )
    assert status["status"] == "published", status
    assert time.monotonic() - started >= 1.5, "it waited for the window"
    assert len(fake_meta.calls("quota")) >= 2
    assert len(fake_meta.calls("publish")) == 1
