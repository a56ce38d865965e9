"""Facebook Page posts through the public API, against the fake Graph API."""

from __future__ import annotations

from masthead.store import accounts
from tests.fakes.meta import FakeMeta
from tests.platforms.meta.conftest import Business, facebook_post
from tests.support import samples
from tests.support.comments import first_comment_settled
from tests.support.files import FileServer
from tests.support.harness import Harness
from tests.support.platforms import publish


async def test_text_post_goes_to_the_page_feed_with_the_page_token(
    meta_app: Harness, fake_meta: FakeMeta, business: Business
) -> None:
    body = facebook_post(business.facebook, business.page, "Fresh bread at 7")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    [post] = fake_meta.posts_of(business.page)
    assert post.message == "Fresh bread at 7"
    assert status["publicUrl"] == f"https://www.facebook.com/{post.id}"


async def test_link_post_carries_the_link(
    meta_app: Harness, fake_meta: FakeMeta, business: Business
) -> None:
    body = facebook_post(business.facebook, business.page, "", link="https://example.com/menu")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    [post] = fake_meta.posts_of(business.page)
    assert post.link == "https://example.com/menu"


async def test_several_images_make_one_feed_post_of_unpublished_photos(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    urls = [files.add(f"{n}.jpg", samples.image(color=c)) for n, c in (("a", "red"), ("b", "blue"))]
    status = await publish(
        meta_app, business.caller, facebook_post(business.facebook, business.page, "Two", urls)
    )
    assert status["status"] == "published", status
    [post] = fake_meta.posts_of(business.page)
    assert len(post.photos) == 2
    assert all(not fake_meta.photos[p].published for p in post.photos)
    public = meta_app.settings.public_url
    assert all(fake_meta.photos[p].url.startswith(public) for p in post.photos), (
        "Meta must fetch Masthead's hosted copy, not the user's URL"
    )


async def test_video_is_published_as_a_reel_and_first_comment_follows(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    url = files.add("clip.mp4", samples.video(seconds=4))
    body = facebook_post(
        business.facebook, business.page, "Our oven", [url], mediaType="video", firstComment="Hi!"
    )
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    [video] = fake_meta.videos.values()
    assert video.edge == "video_reels" and video.published and video.description == "Our oven"
    assert status["publicUrl"] == f"https://www.facebook.com/reel/{video.id}"
    first = await first_comment_settled(meta_app, business.caller, status["postSubmissionId"])
    assert first["status"] == "posted", first
    assert [(c.parent, c.message) for c in fake_meta.comments] == [(video.id, "Hi!")]


async def test_story_video_goes_to_video_stories(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    url = files.add("story.mp4", samples.video(seconds=4))
    body = facebook_post(business.facebook, business.page, "", [url], mediaType="story")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    [video] = fake_meta.videos.values()
    assert video.edge == "video_stories" and video.published


async def test_story_image_goes_to_photo_stories(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    url = files.add("story.jpg", samples.image())
    body = facebook_post(business.facebook, business.page, "", [url], mediaType="story")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    assert [p.kind for p in fake_meta.posts_of(business.page)] == ["photo_story"]


async def test_first_comment_goes_under_a_feed_post(
    meta_app: Harness, fake_meta: FakeMeta, business: Business
) -> None:
    body = facebook_post(business.facebook, business.page, "Menu", firstComment="Order now")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    first = await first_comment_settled(meta_app, business.caller, status["postSubmissionId"])
    assert first["status"] == "posted", first
    [post] = fake_meta.posts_of(business.page)
    assert [(c.parent, c.message) for c in fake_meta.comments] == [(post.id, "Order now")]


async def test_pages_are_the_subaccounts_and_their_tokens_are_encrypted(
    meta_app: Harness, fake_meta: FakeMeta, business: Business
) -> None:
    response = await meta_app.client.get(
        f"/v2/users/me/accounts/{business.facebook}/subaccounts", headers=business.caller.headers
    )
    assert response.status_code == 200, response.text
    assert [(i["id"], i["name"]) for i in response.json()["items"]] == [
        (business.page.id, "Ada's Bakery")
    ]
    sealed = await meta_app.db.read(
        lambda c: accounts.sealed_subaccount_credentials(
            c, int(business.facebook), "page", business.page.id
        )
    )
    assert sealed and business.page.token not in sealed
