"""After a crash between the sending mark and the stored answer, the engine asks the publisher
to reconcile. The stored container id decides: PUBLISHED → the post is found, FINISHED → that
same container is published (it can become one post only), ERROR/EXPIRED → never a post, so
the engine goes again from `prepare`. And a carousel, which the Blotato contract does not let
a post ask for (one file per Threads post), works at the publisher level."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from masthead.config import Settings
from masthead.dispatch.credentials import AccountCredentials
from masthead.domain.posts import ThreadItem
from masthead.domain.states import OUTCOME_UNKNOWN_PREFIX
from masthead.platforms.base import AccountInfo, NotSent, PublishContext, SentItem
from masthead.platforms.threads import ThreadsPublisher
from masthead.store import queue
from masthead.store.models import Account
from masthead.timeutil import utcnow
from tests.fakes.threads import FakeThreads, User
from tests.platforms.threads.conftest import connect_threads, threads_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness, running_app
from tests.support.media import StaticMedia

_emails = itertools.count()


@pytest.fixture
async def publisher(app: Harness) -> AsyncIterator[ThreadsPublisher]:
    publisher = app.ctx.publishers["threads"]
    assert isinstance(publisher, ThreadsPublisher)
    yield publisher


async def _ctx(harness: Harness, fake: FakeThreads, *texts: str, **extra: Any) -> PublishContext:
    caller = await harness.user(f"user{next(_emails)}@example.com")
    user = fake.add_user("ida")
    account = int(await connect_threads(harness, caller, fake, user))
    return _ctx_for(harness, account, user, *texts, **extra)


def _ctx_for(
    harness: Harness, account: int, user: User, *texts: str, **extra: Any
) -> PublishContext:
    return PublishContext(
        post_id="p",
        account=AccountInfo(account, "threads", user.id, user.username),
        target={"targetType": "threads"},
        items=tuple(extra.pop("items", None) or (ThreadItem(t) for t in texts)),
        scheduled_at=None,
        signing_secret="",
        credentials=AccountCredentials(harness.db, harness.ctx.secrets, account),
        **extra,
    )


def _with_previous(ctx: PublishContext, previous: tuple[SentItem, ...]) -> PublishContext:
    return PublishContext(
        ctx.post_id,
        ctx.account,
        ctx.target,
        ctx.items,
        ctx.scheduled_at,
        ctx.signing_secret,
        previous,
        ctx.credentials,
        ctx.media,
    )


async def test_a_published_container_is_found_not_published_again(
    app: Harness, fake_threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    ctx = await _ctx(app, fake_threads, "went out")
    prepared = await publisher.prepare(ctx, 0)
    sent = await publisher.send(ctx, 0, prepared)

    assert await publisher.reconcile(ctx, 0, prepared) == sent
    assert len(fake_threads.calls("publish")) == 1


async def test_a_reply_is_found_in_its_thread_not_a_same_text_post_elsewhere(
    app: Harness, fake_threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    ctx = await _ctx(app, fake_threads, "root", "same words")
    root = await publisher.send(ctx, 0, await publisher.prepare(ctx, 0))
    thread = _with_previous(ctx, (root,))
    prepared = await publisher.prepare(thread, 1)
    reply = await publisher.send(thread, 1, prepared)
    lone = await _ctx(app, fake_threads, "same words")
    await publisher.send(lone, 0, await publisher.prepare(lone, 0))  # another account's post

    assert await publisher.reconcile(thread, 1, prepared) == reply


async def test_a_finished_container_that_never_went_out_is_published_now(
    app: Harness, fake_threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    ctx = await _ctx(app, fake_threads, "crashed before the request left")
    prepared = await publisher.prepare(ctx, 0)

    found = await publisher.reconcile(ctx, 0, prepared)

    [post] = fake_threads.posts.values()
    assert found is not None and found.remote_id == post.id
    assert post.container_id == prepared["container_id"]
    assert found.public_url == post.permalink


async def test_an_expired_container_is_reported_as_never_sent(
    app: Harness, fake_threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    ctx = await _ctx(app, fake_threads, "too slow")
    prepared = await publisher.prepare(ctx, 0)
    fake_threads.containers[prepared["container_id"]].status = "EXPIRED"

    with pytest.raises(NotSent):
        await publisher.reconcile(ctx, 0, prepared)
    assert fake_threads.posts == {}


async def test_a_container_whose_post_cannot_be_found_is_unknown(
    app: Harness, fake_threads: FakeThreads, publisher: ThreadsPublisher
) -> None:
    ctx = await _ctx(app, fake_threads, "gone")
    prepared = await publisher.prepare(ctx, 0)
    await publisher.send(ctx, 0, prepared)
    fake_threads.posts.clear()  # published, but Threads does not show it (deleted, hidden)

    assert await publisher.reconcile(ctx, 0, prepared) is None


async def test_the_engine_goes_again_when_reconcile_shows_the_item_was_never_sent(
    settings: Settings, fake_threads: FakeThreads
) -> None:
    """A sending mark left by a dead worker, over a container that then expired: the engine
    drops the mark, makes a new container and publishes once."""
    async with running_app(settings, run_worker=False) as app:
        caller, user, post_id = await _left_behind(app, fake_threads, "after the crash")
        publisher = app.ctx.publishers["threads"]
        [account] = await app.db.read(lambda c: c.execute(select(Account.id)).scalars().all())
        ctx = _ctx_for(app, account, user, "after the crash")
        stale = await publisher.prepare(ctx, 0)
        fake_threads.containers[stale["container_id"]].status = "EXPIRED"
        await _mark_sending_by_a_dead_worker(app, post_id, stale)
    async with running_app(settings) as app:
        status = await app.wait_status(caller, post_id, {"published", "failed"}, 15)

    assert status["status"] == "published", status
    [post] = fake_threads.posts_by(user)
    assert post.text == "after the crash"
    assert post.container_id != stale["container_id"]


async def test_the_engine_reports_unknown_when_threads_cannot_say(
    settings: Settings, fake_threads: FakeThreads
) -> None:
    async with running_app(settings, run_worker=False) as app:
        caller, _, post_id = await _left_behind(app, fake_threads, "unknowable")
        await _mark_sending_by_a_dead_worker(app, post_id, {"container_id": "404404"})
    async with running_app(settings) as app:
        status = await app.wait_status(caller, post_id, {"published", "failed"}, 15)

    assert status["status"] == "failed", status
    assert status["errorMessage"].startswith(OUTCOME_UNKNOWN_PREFIX)
    assert fake_threads.calls("publish") == []


async def _left_behind(app: Harness, fake: FakeThreads, text: str) -> tuple[Caller, User, str]:
    caller = await app.user()
    user = fake.add_user("kay")
    account = await connect_threads(app, caller, fake, user)
    response = await app.create_post(caller, threads_post(account, text))
    assert response.status_code == 201, response.text
    return caller, user, response.json()["postSubmissionId"]


async def _mark_sending_by_a_dead_worker(
    app: Harness, post_id: str, prepared: dict[str, Any]
) -> None:
    """What a worker that died inside `send` leaves: a claimed post with a sending mark."""
    now = utcnow()

    def work(conn: Any) -> None:
        [claimed] = queue.claim(
            conn, owner="dead", now=now, lease=timedelta(seconds=-1), limit=1, skip_locked=False
        )
        assert claimed.id == post_id
        assert queue.mark_sending(
            conn,
            owner="dead",
            now=now,
            marks=[queue.SendingMark(post_id, claimed.version, 0, prepared)],
        ) == [True]

    await app.db.write(work)


async def test_a_post_with_several_files_becomes_a_carousel(
    app: Harness, fake_threads: FakeThreads, publisher: ThreadsPublisher, files: FileServer
) -> None:
    media = StaticMedia()
    urls = []
    for name, color in (("a.jpg", "red"), ("b.jpg", "blue")):
        data = samples.image("JPEG", color=color)
        url = files.add(name, data)
        media.add(url, data, "image/jpeg")
        urls.append(url)
    ctx = await _ctx(app, fake_threads, items=(ThreadItem("two things", tuple(urls)),), media=media)

    sent = await publisher.send(ctx, 0, await publisher.prepare(ctx, 0))

    [post] = fake_threads.posts.values()
    assert post.media_type == "CAROUSEL_ALBUM" and post.id == sent.remote_id
    assert [f.url for f in post.media] == urls
    creates = [c.params for c in fake_threads.calls("create")]
    assert [c["media_type"] for c in creates] == ["IMAGE", "IMAGE", "CAROUSEL"]
    assert all(c.get("is_carousel_item") == "true" for c in creates[:2])
    assert creates[2]["text"] == "two things"
