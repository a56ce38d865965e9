"""Pinterest faults through the public API: each ends as it must, and no pin is made twice."""

from __future__ import annotations

from masthead.store import accounts
from tests.fakes.pinterest import FakePinterest, User
from tests.platforms.pinterest.conftest import pin_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness
from tests.support.images import png
from tests.support.platforms import connected_account, publish


async def _ready(
    harness: Harness, fake: FakePinterest, files: FileServer, name: str
) -> tuple[Caller, User, str, str, str]:
    caller = await harness.user()
    user = fake.add_user(name)
    account = await connected_account("pinterest", harness, caller, fake, user)
    image = files.add(f"{name}.png", png(30, 30))
    return caller, user, account, next(iter(user.boards)), image


async def test_a_video_pinterest_cannot_process_fails_and_pins_nothing(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller, _, account, board, _ = await _ready(pinterest_app, fake_pinterest, files, "v")
    fake_pinterest.processing_result = "failed"
    clip = files.add("bad.mp4", samples.video(2.0))

    status = await publish(pinterest_app, caller, pin_post(account, board, "clip", (clip,)))

    assert status["status"] == "failed", status
    assert "could not process the video" in status["errorMessage"]
    assert fake_pinterest.pins == {}
    assert fake_pinterest.calls("pins") == []


async def test_a_429_waits_for_retry_after_then_pins_once(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller, user, account, board, image = await _ready(pinterest_app, fake_pinterest, files, "w")
    fake_pinterest.fail_next("pins", "rate_limit")

    status = await publish(pinterest_app, caller, pin_post(account, board, "wait", (image,)))

    assert status["status"] == "published", status
    refused, accepted = fake_pinterest.calls("pins")
    assert accepted.at - refused.at >= fake_pinterest.rate_limit_seconds - 0.5
    assert len(fake_pinterest.pins_by(user)) == 1


async def test_a_503_is_retried_and_pins_once(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller, user, account, board, image = await _ready(pinterest_app, fake_pinterest, files, "u")
    fake_pinterest.fail_next("pins", "unavailable")

    status = await publish(pinterest_app, caller, pin_post(account, board, "again", (image,)))

    assert status["status"] == "published", status
    assert len(fake_pinterest.calls("pins")) == 2
    assert len(fake_pinterest.pins_by(user)) == 1


async def test_a_5xx_while_polling_the_video_is_retried_without_a_second_pin(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller, user, account, board, _ = await _ready(pinterest_app, fake_pinterest, files, "p")
    fake_pinterest.fail_next("media-status", "unavailable")
    clip = files.add("ok.mp4", samples.video(2.0))

    status = await publish(pinterest_app, caller, pin_post(account, board, "clip", (clip,)))

    assert status["status"] == "published", status
    assert len(fake_pinterest.pins_by(user)) == 1
    assert len(fake_pinterest.calls("pins")) == 1


async def test_a_dropped_connection_after_the_pin_was_made_is_reconciled_not_resent(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller, user, account, board, image = await _ready(pinterest_app, fake_pinterest, files, "d")
    fake_pinterest.fail_next("pins", "drop_after")

    status = await publish(
        pinterest_app, caller, pin_post(account, board, "did it pin?", (image,), title="T")
    )

    assert status["status"] == "published", status
    [pin] = fake_pinterest.pins_by(user)
    assert status["publicUrl"] == f"https://www.pinterest.com/pin/{pin.id}/"
    assert len(fake_pinterest.calls("pins")) == 1
    assert len(fake_pinterest.calls("board-pins")) == 1


async def test_a_500_after_the_pin_was_made_is_found_not_resent(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller, user, account, board, image = await _ready(pinterest_app, fake_pinterest, files, "e")
    fake_pinterest.fail_next("pins", "server_error_after")

    status = await publish(pinterest_app, caller, pin_post(account, board, "hiccup", (image,)))

    assert status["status"] == "published", status
    assert len(fake_pinterest.pins_by(user)) == 1
    assert len(fake_pinterest.calls("pins")) == 1


async def test_an_expired_token_is_refreshed_and_the_pin_goes_out(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller, user, account, board, image = await _ready(pinterest_app, fake_pinterest, files, "r")
    fake_pinterest.expire_access_tokens()

    status = await publish(pinterest_app, caller, pin_post(account, board, "fresh", (image,)))

    assert status["status"] == "published", status
    assert len(fake_pinterest.calls("token")) == 1
    assert len(fake_pinterest.pins_by(user)) == 1


async def test_a_revoked_refresh_token_disconnects_the_account_and_pins_nothing(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller, _, account, board, image = await _ready(pinterest_app, fake_pinterest, files, "x")
    fake_pinterest.expire_access_tokens()
    fake_pinterest.refresh_tokens.clear()

    status = await publish(pinterest_app, caller, pin_post(account, board, "lost", (image,)))

    assert status["status"] == "failed", status
    assert "refused to refresh" in status["errorMessage"]
    stored = await pinterest_app.db.read(lambda c: accounts.account_by_id(c, int(account)))
    assert stored is not None and stored.status != "connected"
    assert fake_pinterest.pins == {}
