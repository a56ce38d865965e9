"""Invariant 2 for Pinterest across a real crash: `masthead serve` dies after POST /v5/pins
left and before Pinterest's answer came back; the next start finds the Pin on its board
instead of pinning again. Pinterest pulls the image from the server's public URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.pinterest import PinterestPublisher
from tests.fakes.pinterest import FakePinterest
from tests.platforms.pinterest.conftest import pin_post
from tests.support.crashes import crash_server, kill_once_sent, restarted_state, seed_connected
from tests.support.files import FileServer
from tests.support.harness import Caller
from tests.support.images import png
from tests.support.server import ServerProcess

SECRET = "pinterest-crash-secret"


@pytest.fixture
def server(
    tmp_path: Path, fake_pinterest: FakePinterest, files: FileServer
) -> Iterator[ServerProcess]:
    process = crash_server(
        tmp_path,
        SECRET,
        {
            "MASTHEAD_FETCH_ALLOW": files.allow,
            "MASTHEAD_PINTEREST_API_URL": fake_pinterest.url,
            "MASTHEAD_PINTEREST_CLIENT_ID": fake_pinterest.client_id,
            "MASTHEAD_PINTEREST_CLIENT_SECRET": fake_pinterest.client_secret,
        },
    )
    process.env["MASTHEAD_PUBLIC_URL"] = process.base_url
    yield process
    process.kill()


async def _seed(server: ServerProcess, fake: FakePinterest) -> tuple[Caller, str, str]:
    publisher = PinterestPublisher(api_url=fake.url, app=None)
    user = fake.add_user("kay")
    credentials = credentials_from_token_response(fake.issue_tokens(user))
    caller, account_id = await seed_connected(server, SECRET, publisher, credentials)
    return caller, account_id, next(iter(user.boards))


async def test_a_crash_after_the_pin_left_is_reconciled_with_pinterest_not_repinned(
    server: ServerProcess, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller, account, board = await _seed(server, fake_pinterest)
    image = files.add("crash.png", png(24, 24))
    fake_pinterest.fail_next("pins", "slow_after")
    post = pin_post(account, board, "before the crash", (image,))
    post_id = await kill_once_sent(server, caller, post, lambda: fake_pinterest.pins)

    body = await restarted_state(server, caller, post_id)

    [pin] = fake_pinterest.pins.values()
    assert body["status"] == "published", body
    assert body["publicUrl"] == f"https://www.pinterest.com/pin/{pin.id}/"
    assert pin.images == [png(24, 24)]
    assert len(fake_pinterest.calls("pins")) == 1
    assert len(fake_pinterest.calls("board-pins")) == 1
