"""Comments on Instagram and Facebook against the fake Graph API: Meta's signed webhooks,
polling, replies, first comments; the same comment seen both ways is stored once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import update

from masthead.config import Settings
from masthead.dispatch import engine
from masthead.dispatch.comment_polls import CommentPoller
from masthead.store.models import CommentPoll
from tests.fakes.meta import FakeMeta, IgMedia
from tests.platforms.meta.conftest import Business, facebook_post, ig_of, instagram_post
from tests.support import samples
from tests.support.comments import first_comment_settled
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness
from tests.support.platforms import publish

VERIFY_TOKEN = "meta-verify-token-123"
FAN = "17841400000000099"


@pytest.fixture
def meta_settings(meta_settings: Settings) -> Settings:
    return meta_settings.model_copy(update={"meta_webhook_verify_token": VERIFY_TOKEN})


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(engine, "RETRY_DELAYS", (0.2, 0.2, 0.2, 0.2, 0.2, 0.2))
    yield


async def instagram_published(
    harness: Harness, fake: FakeMeta, business: Business, files: FileServer, **target: Any
) -> tuple[str, IgMedia]:
    url = files.add("bread.jpg", samples.image())
    body = instagram_post(business.instagram, "Sourdough", [url], **target)
    status = await publish(harness, business.caller, body)
    assert status["status"] == "published", status
    [media] = fake.media_of(business.page.ig)  # type: ignore[arg-type]
    return status["postSubmissionId"], media


async def comments_of(harness: Harness, caller: Caller, post_id: str) -> list[dict[str, Any]]:
    response = await harness.client.get(f"/v2/comments?postId={post_id}", headers=caller.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def poll_now(harness: Harness) -> int:
    """Make every post due a poll and poll them once, as the poller loop does."""
    await harness.db.write(
        lambda c: c.execute(update(CommentPoll).values(next_poll_at=CommentPoll.published_at))
    )
    ctx = harness.ctx
    return await CommentPoller(ctx.db, ctx.publishers, ctx.settings, ctx.secrets).poll_due()


async def test_the_handshake_echoes_the_challenge_only_for_the_verify_token(
    meta_app: Harness,
) -> None:
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = await meta_app.client.get("/webhooks/meta", params=good)
    assert (response.status_code, response.text) == (200, "1158201444")
    for wrong in ({**good, "hub.verify_token": "guess"}, {**good, "hub.mode": "unsubscribe"}, {}):
        response = await meta_app.client.get("/webhooks/meta", params=wrong)
        assert response.status_code == 403


async def test_a_signed_delivery_is_stored_and_an_unsigned_one_is_refused(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    post_id, media = await instagram_published(meta_app, fake_meta, business, files)
    ig = ig_of(business.page)
    fan = fake_meta.seed_comment(media.id, "Love this!", author_id=FAN, username="breadfan")
    body, headers = fake_meta.webhook_delivery(fake_meta.instagram_change(ig, media, fan))

    refused = [
        (body, {"Content-Type": "application/json"}),
        fake_meta.webhook_delivery(fake_meta.instagram_change(ig, media, fan), secret="wrong"),
        (body.replace(b"Love", b"Hate"), headers),
    ]
    for content, wrong_headers in refused:
        response = await meta_app.client.post(
            "/webhooks/meta", content=content, headers=wrong_headers
        )
        assert response.status_code == 403
        assert await comments_of(meta_app, business.caller, post_id) == []

    response = await meta_app.client.post("/webhooks/meta", content=body, headers=headers)
    assert response.status_code == 200, response.text
    [stored] = await comments_of(meta_app, business.caller, post_id)
    assert stored["platformCommentId"] == fan.id and stored["text"] == "Love this!"
    assert (stored["isAuthor"], stored["authorId"], stored["authorUsername"]) == (
        False,
        FAN,
        "breadfan",
    )
    assert stored["platform"] == "instagram" and stored["status"] == "posted"


async def test_the_same_comment_by_webhook_and_by_polling_is_stored_once(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    post_id, media = await instagram_published(meta_app, fake_meta, business, files)
    ig = ig_of(business.page)
    first = fake_meta.seed_comment(media.id, "First!", author_id=FAN)
    reply = fake_meta.seed_comment(media.id, "Me too", author_id="42", reply_to=first.id)
    for comment in (first, reply):
        body, headers = fake_meta.webhook_delivery(fake_meta.instagram_change(ig, media, comment))
        assert (
            await meta_app.client.post("/webhooks/meta", content=body, headers=headers)
        ).status_code == 200
    assert await poll_now(meta_app) == 1
    assert await poll_now(meta_app) == 1  # seen again: still once
    stored = await comments_of(meta_app, business.caller, post_id)
    assert sorted(c["platformCommentId"] for c in stored) == sorted([first.id, reply.id])
    by_id = {c["platformCommentId"]: c for c in stored}
    assert by_id[reply.id]["parentCommentId"] == by_id[first.id]["id"]


async def test_a_reply_with_a_dropped_answer_is_posted_exactly_once(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    post_id, media = await instagram_published(meta_app, fake_meta, business, files)
    fan = fake_meta.seed_comment(media.id, "Recipe?", author_id=FAN)
    await poll_now(meta_app)
    [parent] = await comments_of(meta_app, business.caller, post_id)
    fake_meta.fail_next("replies", "drop_after")
    response = await meta_app.client.post(
        "/v2/comments",
        content=orjson.dumps(
            {"postId": post_id, "text": "In bio!", "parentCommentId": parent["id"]}
        ),
        headers={**business.caller.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    comment_id = response.json()["id"]
    for _ in range(300):
        body = (
            await meta_app.client.get(f"/v2/comments/{comment_id}", headers=business.caller.headers)
        ).json()
        if body["status"] in ("posted", "failed"):
            break
        await asyncio.sleep(0.05)
    replies = [c for c in fake_meta.comments if c.top == fan.id]
    assert [c.message for c in replies] == ["In bio!"]
    assert (body["status"], body["platformCommentId"]) == ("posted", replies[0].id)
    assert len(fake_meta.calls("replies")) == 1


async def test_instagram_first_comment_is_published_after_the_post(
    meta_app: Harness, fake_meta: FakeMeta, business: Business, files: FileServer
) -> None:
    post_id, media = await instagram_published(
        meta_app, fake_meta, business, files, firstComment="Recipe in bio"
    )
    first = await first_comment_settled(meta_app, business.caller, post_id)
    assert first["status"] == "posted", first
    [comment] = fake_meta.comments_on(media.id)
    assert comment.message == "Recipe in bio"
    [stored] = await comments_of(meta_app, business.caller, post_id)
    assert stored["isAuthor"] is True and stored["id"] == first["commentId"]


async def test_a_first_comment_meta_refuses_leaves_the_post_published(
    meta_app: Harness, fake_meta: FakeMeta, business: Business
) -> None:
    fake_meta.fail_next("comments", 100)
    body = facebook_post(business.facebook, business.page, "Menu", firstComment="Order now")
    status = await publish(meta_app, business.caller, body)
    assert status["status"] == "published", status
    first = await first_comment_settled(meta_app, business.caller, status["postSubmissionId"])
    assert first["status"] == "failed" and first["errorMessage"]
    assert (await meta_app.status(business.caller, status["postSubmissionId"]))[
        "status"
    ] == "published"


async def test_first_comments_are_refused_on_stories_and_limited_like_comments(
    meta_app: Harness, business: Business, files: FileServer
) -> None:
    url = files.add("story.jpg", samples.image())
    story = instagram_post(business.instagram, "", [url], mediaType="story", firstComment="Hi")
    response = await meta_app.create_post(business.caller, story)
    assert response.status_code == 422
    assert response.json()["message"] == "post.target.firstComment: is not supported for stories"
    long = instagram_post(business.instagram, "Hi", [url], firstComment="x" * 2201)
    response = await meta_app.create_post(business.caller, long)
    assert response.status_code == 422
    assert response.json()["message"].startswith("post.target.firstComment: is 2201 characters")


async def test_facebook_comments_and_replies_are_polled_with_their_parent(
    meta_app: Harness, fake_meta: FakeMeta, business: Business
) -> None:
    status = await publish(
        meta_app, business.caller, facebook_post(business.facebook, business.page, "Menu")
    )
    post_id = status["postSubmissionId"]
    [post] = fake_meta.posts_of(business.page)
    top = fake_meta.seed_comment(post.id, "Open Sunday?", author_id="555", username="Sam")
    fake_meta.seed_comment(post.id, "Yes, 9 to 1", author_id=business.page.id, reply_to=top.id)
    assert await poll_now(meta_app) == 1
    stored = {c["text"]: c for c in await comments_of(meta_app, business.caller, post_id)}
    assert stored["Open Sunday?"]["isAuthor"] is False
    assert stored["Yes, 9 to 1"]["isAuthor"] is True
    assert stored["Yes, 9 to 1"]["parentCommentId"] == stored["Open Sunday?"]["id"]


async def test_a_signed_facebook_delivery_of_a_removed_comment_marks_it_deleted(
    meta_app: Harness, fake_meta: FakeMeta, business: Business
) -> None:
    status = await publish(
        meta_app, business.caller, facebook_post(business.facebook, business.page, "Menu")
    )
    [post] = fake_meta.posts_of(business.page)
    fan = fake_meta.seed_comment(post.id, "Spam", author_id="555")
    for verb in ("add", "remove"):
        body, headers = fake_meta.webhook_delivery(
            fake_meta.page_change(business.page, post, fan, verb)
        )
        assert (
            await meta_app.client.post("/webhooks/meta", content=body, headers=headers)
        ).status_code == 200
    [stored] = await comments_of(meta_app, business.caller, status["postSubmissionId"])
    assert stored["status"] == "deleted"
