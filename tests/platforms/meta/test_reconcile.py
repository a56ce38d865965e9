"""After a crash between the sending mark and the stored answer, the engine asks the
publisher to reconcile with what it stored before the irreversible call: the Facebook reel's
upload session, the Instagram container."""

from __future__ import annotations

from masthead.dispatch.credentials import AccountCredentials
from masthead.domain.posts import ThreadItem
from masthead.media.library import PostMedia
from masthead.platforms.base import AccountInfo, PublishContext
from masthead.platforms.registry import RULES
from tests.fakes.meta import FakeMeta
from tests.platforms.meta.conftest import Business
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness


def _ctx(
    harness: Harness, business: Business, platform: str, account: str, url: str, **target: str
) -> PublishContext:
    target = {"targetType": platform, **target}
    if platform == "facebook":
        target["pageId"] = business.page.id
    external = business.page.ig.id if platform == "instagram" else business.user.id  # type: ignore[union-attr]
    credentials = {"access_token": business.page.token}
    return PublishContext(
        post_id="p",
        account=AccountInfo(int(account), platform, external, "adasbakery", credentials),
        target=target,
        items=(ThreadItem("crash", (url,)),),
        scheduled_at=None,
        signing_secret="",
        credentials=AccountCredentials(harness.db, harness.ctx.secrets, int(account)),
        media=PostMedia(harness.ctx.media, business.caller.user_id, RULES[platform].files),
    )


async def test_a_reel_whose_finish_never_left_is_finished_by_reconcile_once(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    url = files.add("clip.mp4", samples.video(seconds=4))
    ctx = _ctx(meta_app, business, "facebook", business.facebook, url, mediaType="reel")
    publisher = meta_app.ctx.publishers["facebook"]
    prepared = await publisher.prepare(ctx, 0)

    found = await publisher.reconcile(ctx, 0, prepared)
    again = await publisher.reconcile(ctx, 0, prepared)

    assert found is not None and found == again
    [video] = fake_meta.videos.values()
    assert video.published and found.remote_id == video.id
    assert len([r for r in fake_meta.calls("reels") if r.params["upload_phase"] == "finish"]) == 1


async def test_a_published_container_is_found_and_an_unpublished_one_published_once(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    url = files.add("a.jpg", samples.image())
    ctx = _ctx(meta_app, business, "instagram", business.instagram, url)
    publisher = meta_app.ctx.publishers["instagram"]
    prepared = await publisher.prepare(ctx, 0)

    first = await publisher.reconcile(ctx, 0, prepared)  # FINISHED: never published
    second = await publisher.reconcile(ctx, 0, prepared)  # PUBLISHED: found

    [media] = fake_meta.media_of(business.page.ig)  # type: ignore[arg-type]
    assert first is not None and second is not None
    assert first.remote_id == second.remote_id == media.id
    assert second.public_url == media.permalink
    assert len(fake_meta.calls("publish")) == 1
