"""Pinterest through the public API: image, carousel and video pins reach the fake once."""

from __future__ import annotations

from tests.fakes.pinterest import FakePinterest
from tests.platforms.pinterest.conftest import pin_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness
from tests.support.images import png
from tests.support.platforms import connected_account, publish


async def test_an_image_pin_is_pulled_from_masthead_with_title_link_and_alt_text(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller = await pinterest_app.user()
    user = fake_pinterest.add_user("chef")
    board = next(iter(user.boards))
    account = await connected_account("pinterest", pinterest_app, caller, fake_pinterest, user)
    image = png(80, 60)
    body = pin_post(
        account,
        board,
        "Crispy potatoes, the easy way",
        (files.add("potatoes.png", image),),
        title="Potatoes",
        link="https://example.com/potatoes",
        altText="A tray of golden potatoes",
    )

    status = await publish(pinterest_app, caller, body)

    assert status["status"] == "published", status
    [pin] = fake_pinterest.pins_by(user)
    assert (pin.title, pin.description, pin.link, pin.alt_text) == (
        "Potatoes",
        "Crispy potatoes, the easy way",
        "https://example.com/potatoes",
        "A tray of golden potatoes",
    )
    assert pin.board_id == board
    assert pin.images == [image]
    assert pin.source["url"].startswith(pinterest_app.settings.public_url)
    assert status["publicUrl"] == f"https://www.pinterest.com/pin/{pin.id}/"


async def test_three_images_become_one_carousel_pin(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller = await pinterest_app.user()
    user = fake_pinterest.add_user("travel")
    board = next(iter(user.boards))
    account = await connected_account("pinterest", pinterest_app, caller, fake_pinterest, user)
    images = [png(40 + i, 40) for i in range(3)]
    urls = tuple(files.add(f"{i}.png", image) for i, image in enumerate(images))

    status = await publish(pinterest_app, caller, pin_post(account, board, "trip", urls))

    assert status["status"] == "published", status
    [pin] = fake_pinterest.pins_by(user)
    assert pin.source["source_type"] == "multiple_image_urls"
    assert pin.images == images


async def test_a_video_is_uploaded_processed_then_pinned(
    pinterest_app: Harness, fake_pinterest: FakePinterest, files: FileServer
) -> None:
    caller = await pinterest_app.user()
    user = fake_pinterest.add_user("films")
    board = next(iter(user.boards))
    account = await connected_account("pinterest", pinterest_app, caller, fake_pinterest, user)
    clip = samples.video(2.0)

    status = await publish(
        pinterest_app, caller, pin_post(account, board, "clip", (files.add("c.mp4", clip),))
    )

    assert status["status"] == "published", status
    [pin] = fake_pinterest.pins_by(user)
    media = fake_pinterest.media[pin.source["media_id"]]
    assert media.data == clip and media.status == "succeeded"
    assert len(fake_pinterest.calls("media-status")) >= 2
