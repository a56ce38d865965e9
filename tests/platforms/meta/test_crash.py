"""Invariant 2 for Instagram across a real crash: `masthead serve` dies after media_publish
left and before Meta's answer came back; the next start asks Meta about the stored container
and finds the post instead of publishing again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from masthead.platforms.instagram import InstagramPublisher
from tests.fakes.meta import FakeMeta, IgAccount
from tests.platforms.meta.conftest import instagram_post
from tests.support import samples
from tests.support.crashes import crash_server, kill_once_sent, restarted_state, seed_connected
from tests.support.files import FileServer
from tests.support.harness import Caller
from tests.support.server import ServerProcess

SECRET = "meta-crash-secret"


@pytest.fixture
def server(tmp_path: Path, fake_meta: FakeMeta, files: FileServer) -> Iterator[ServerProcess]:
    process = crash_server(tmp_path, SECRET, {})
    process.env |= {
        "MASTHEAD_PUBLIC_URL": process.base_url,
        "MASTHEAD_FETCH_ALLOW": files.allow,
        "MASTHEAD_META_API_URL": fake_meta.url,
        "MASTHEAD_META_POLL_SECONDS": "0.02",
    }
    yield process
    process.kill()


async def _seed(server: ServerProcess, fake: FakeMeta) -> tuple[Caller, str, IgAccount]:
    publisher = InstagramPublisher(api_url=fake.url, app=None)
    user = fake.add_user("Kay")
    page = fake.add_page(user, "Kay's", instagram="kays")
    credentials = {"access_token": fake.user_token(user)}
    caller, account_id = await seed_connected(server, SECRET, publisher, credentials)
    assert page.ig is not None
    return caller, account_id, page.ig


async def test_a_crash_after_media_publish_left_is_reconciled_not_republished(
    server: ServerProcess, fake_meta: FakeMeta, files: FileServer
) -> None:
    caller, account, ig = await _seed(server, fake_meta)
    fake_meta.fail_next("publish", "slow_after")
    url = files.add("a.jpg", samples.image())
    post = instagram_post(account, "crash", [url])
    post_id = await kill_once_sent(server, caller, post, lambda: fake_meta.media_of(ig))

    body = await restarted_state(server, caller, post_id, within=30)

    [media] = fake_meta.media_of(ig)
    assert body["status"] == "published", body
    assert body["publicUrl"] == media.permalink
    assert len(fake_meta.calls("publish")) == 1
    assert len(fake_meta.calls("container")) == 1
