"""LinkedIn through the public API: every kind of post reaches the fake LinkedIn once, whole."""

from __future__ import annotations

from tests.fakes.linkedin import FakeLinkedIn, Member
from tests.platforms.linkedin.conftest import linkedin_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness
from tests.support.images import png
from tests.support.platforms import connected_account, publish


async def _member(harness: Harness, fake: FakeLinkedIn) -> tuple[Caller, Member, str]:
    caller = await harness.user()
    member = fake.add_member("Ada Lovelace")
    return caller, member, await connected_account("linkedin", harness, caller, fake, member)


async def test_text_with_reserved_characters_is_published_whole_once(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller, member, account = await _member(linkedin_app, fake_linkedin)
    text = "Launch (v2) is live: see [notes] <here> @team | *now* _really_ ~ {ok} #Python \\o/"

    status = await publish(linkedin_app, caller, linkedin_post(account, text))

    assert status["status"] == "published", status
    [post] = fake_linkedin.posts_by(f"urn:li:person:{member.id}")
    assert post.text == text
    assert status["publicUrl"] == f"https://www.linkedin.com/feed/update/{post.urn}"
    [call] = fake_linkedin.calls("posts")
    assert call.headers["linkedin-version"] == linkedin_app.settings.linkedin_version
    assert call.headers["x-restli-protocol-version"] == "2.0.0"


async def test_one_image_is_uploaded_and_attached(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn, files: FileServer
) -> None:
    caller, member, account = await _member(linkedin_app, fake_linkedin)
    image = png(64, 48)
    url = files.add("one.png", image)

    status = await publish(linkedin_app, caller, linkedin_post(account, "a picture", media=(url,)))

    assert status["status"] == "published", status
    [post] = fake_linkedin.posts_by(f"urn:li:person:{member.id}")
    assert post.content is not None
    asset = fake_linkedin.assets[post.content["media"]["id"]]
    assert asset.kind == "image" and asset.data == image


async def test_several_images_become_one_multi_image_post(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn, files: FileServer
) -> None:
    caller, member, account = await _member(linkedin_app, fake_linkedin)
    urls = tuple(files.add(f"{i}.png", png(32 + i, 32)) for i in range(3))

    status = await publish(linkedin_app, caller, linkedin_post(account, "three", media=urls))

    assert status["status"] == "published", status
    [post] = fake_linkedin.posts_by(f"urn:li:person:{member.id}")
    assert post.content is not None
    images = post.content["multiImage"]["images"]
    assert len(images) == 3
    assert len(fake_linkedin.calls("images-initializeUpload")) == 3


async def test_video_is_uploaded_in_the_parts_linkedin_asks_for_then_posted(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn, files: FileServer
) -> None:
    caller, member, account = await _member(linkedin_app, fake_linkedin)
    clip = samples.video(3.5)
    fake_linkedin.part_size = max(1, len(clip) // 3)
    url = files.add("clip.mp4", clip)

    status = await publish(linkedin_app, caller, linkedin_post(account, "watch", media=(url,)))

    assert status["status"] == "published", status
    [post] = fake_linkedin.posts_by(f"urn:li:person:{member.id}")
    assert post.content is not None
    video = fake_linkedin.assets[post.content["media"]["id"]]
    assert video.kind == "video" and video.part_count >= 3
    assert len(video.data) == video.size
    assert len(fake_linkedin.calls("videos-finalizeUpload")) == 1


async def test_a_page_post_is_authored_by_the_organization(
    linkedin_app: Harness, fake_linkedin: FakeLinkedIn
) -> None:
    caller = await linkedin_app.user()
    member = fake_linkedin.add_member("Page Admin")
    org = fake_linkedin.add_organization("Masthead Inc", {member.id: "ADMINISTRATOR"})
    account = await connected_account("linkedin", linkedin_app, caller, fake_linkedin, member)

    status = await publish(
        linkedin_app, caller, linkedin_post(account, "from the page", page=org.id)
    )

    assert status["status"] == "published", status
    [post] = fake_linkedin.posts_by(f"urn:li:organization:{org.id}")
    assert post.text == "from the page"
    assert fake_linkedin.posts_by(f"urn:li:person:{member.id}") == []
