"""Publishing to a real PDS through the public API, read back with getRecord/listRecords."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import orjson

from masthead.domain.atproto_ids import rkey_of
from tests.platforms.bluesky.conftest import bluesky_post, bluesky_settings, connect
from tests.support import samples
from tests.support.bluesky_pds import Pds, PdsAccount
from tests.support.files import FileServer
from tests.support.harness import running_app
from tests.support.images import png

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
THUMBS_UP_MEDIUM = "\U0001f44d\U0001f3fd"
FITS = "e\u0301" * 299 + FAMILY


def byte_range(text: str, part: str) -> dict[str, int]:
    """Where `part` is in `text`, in UTF-8 bytes: computed here independently of the code."""
    start = text.encode().index(part.encode())
    return {"byteStart": start, "byteEnd": start + len(part.encode())}


def facet(text: str, part: str, feature: dict[str, Any]) -> dict[str, Any]:
    return {
        "$type": "app.bsky.richtext.facet",
        "index": byte_range(text, part),
        "features": [feature],
    }


def raw_cid(data: bytes) -> str:
    """The CID a PDS gives a blob: CIDv1, raw codec, sha2-256, base32."""
    cid = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(cid).decode().lower().rstrip("=")


async def test_thread_with_link_mention_tag_emoji_and_images_is_published_as_written(
    tmp_path: Path, pds: Pds, alice: PdsAccount, files: FileServer
) -> None:
    bob = pds.create_account("bob")
    wide, tall, square = png(6, 3), png(2, 4), png(5, 5)
    wide_url = files.add("wide.png", wide)
    tall_url = files.add("tall.png", tall)
    square_url = files.add("square.png", square)
    first = (
        f"Launch day {FAMILY}{THUMBS_UP_MEDIUM} read https://example.com/launch?x=1. "
        f"Thanks @{bob.handle}! #Masthead"
    )
    second = "Café ☕ and 日本語 #日本 (see https://example.org/a_b)"
    third = "Cafe\u0301 by @nobody.test, #done."
    settings = bluesky_settings(tmp_path, pds.url, fetch_allow=files.allow)
    async with running_app(settings) as app:
        caller = await app.user()
        account_id = await connect(app, caller, alice)
        body = bluesky_post(
            account_id,
            first,
            [wide_url, tall_url],
            thread=[(second, [square_url]), (third, [])],
            altText="A test image",
        )
        response = await app.create_post(caller, body)
        assert response.status_code == 201, response.text
        post_id = response.json()["postSubmissionId"]
        status = await app.wait_status(caller, post_id, {"published", "failed"}, timeout=30)

    assert status["status"] == "published", status
    records = await pds.posts(alice.did)
    assert [record["value"]["text"] for record in records] == [first, second, third]
    one, two, three = records
    assert status["publicUrl"] == (
        f"https://bsky.app/profile/{alice.handle}/post/{rkey_of(one['uri'])}"
    )
    # Read each back by its key, as a reader's app would.
    one, two, three = [await pds.get_record(alice.did, rkey_of(r["uri"])) for r in records]

    assert one["value"]["facets"] == [
        facet(
            first,
            "https://example.com/launch?x=1",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/launch?x=1"},
        ),
        facet(
            first, f"@{bob.handle}", {"$type": "app.bsky.richtext.facet#mention", "did": bob.did}
        ),
        facet(first, "#Masthead", {"$type": "app.bsky.richtext.facet#tag", "tag": "Masthead"}),
    ]
    assert two["value"]["facets"] == [
        facet(second, "#日本", {"$type": "app.bsky.richtext.facet#tag", "tag": "日本"}),
        facet(
            second,
            "https://example.org/a_b",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/a_b"},
        ),
    ]
    # @nobody.test resolves to no one: it stays plain text; the tag loses its full stop.
    assert three["value"]["facets"] == [
        facet(third, "#done", {"$type": "app.bsky.richtext.facet#tag", "tag": "done"})
    ]

    assert "reply" not in one["value"]
    root = {"uri": one["uri"], "cid": one["cid"]}
    assert two["value"]["reply"] == {"root": root, "parent": root}
    parent = {"uri": two["uri"], "cid": two["cid"]}
    assert three["value"]["reply"] == {"root": root, "parent": parent}

    def images(record: dict[str, Any]) -> list[dict[str, Any]]:
        embed = record["value"]["embed"]
        assert embed["$type"] == "app.bsky.embed.images"
        return list(embed["images"])

    def image(data: bytes, width: int, height: int) -> dict[str, Any]:
        return {
            "alt": "A test image",
            "aspectRatio": {"width": width, "height": height},
            "image": {
                "$type": "blob",
                "ref": {"$link": raw_cid(data)},
                "mimeType": "image/png",
                "size": len(data),
            },
        }

    assert images(one) == [image(wide, 6, 3), image(tall, 2, 4)]
    assert images(two) == [image(square, 5, 5)]
    assert "embed" not in three["value"]


async def test_a_post_over_300_graphemes_is_refused_at_request_time(
    tmp_path: Path, pds: Pds, alice: PdsAccount
) -> None:
    async with running_app(bluesky_settings(tmp_path, pds.url)) as app:
        caller = await app.user()
        account_id = await connect(app, caller, alice)
        # 300 graphemes of 600 code points (NFD accents) and an emoji family: it fits.
        fits = await app.create_post(caller, bluesky_post(account_id, FITS))
        too_long = await app.create_post(caller, bluesky_post(account_id, "e\u0301" * 301))
        assert fits.status_code == 201, fits.text
        status = await app.wait_status(
            caller, fits.json()["postSubmissionId"], {"published", "failed"}, timeout=30
        )

    assert status["status"] == "published", status
    assert too_long.status_code == 422
    assert "301" in orjson.dumps(too_long.json()).decode()
    assert [r["value"]["text"] for r in await pds.posts(alice.did)] == [FITS]


async def test_a_thread_with_video_fails_before_its_first_post(
    tmp_path: Path, pds: Pds, alice: PdsAccount, files: FileServer
) -> None:
    ok = files.add("ok.png", png(2, 2))
    clip = files.add("clip.mp4", samples.video(2.0))
    async with running_app(bluesky_settings(tmp_path, pds.url, fetch_allow=files.allow)) as app:
        caller = await app.user()
        account_id = await connect(app, caller, alice)
        body = bluesky_post(account_id, "one", [ok], thread=[("two", []), ("three", [clip])])
        response = await app.create_post(caller, body)
        assert response.status_code == 201, response.text
        post_id = response.json()["postSubmissionId"]
        video = await app.wait_status(caller, post_id, {"published", "failed"}, timeout=30)

    assert video["status"] == "failed"
    assert "video service, which Masthead does not support yet" in video["errorMessage"]
    assert await pds.posts(alice.did) == []


async def test_an_image_over_the_blob_limit_is_reencoded_and_published(
    tmp_path: Path, pds: Pds, alice: PdsAccount, files: FileServer
) -> None:
    big = samples.noisy_jpeg((1600, 1600))
    assert len(big) > 2_000_000
    url = files.add("big.jpg", big)
    async with running_app(bluesky_settings(tmp_path, pds.url, fetch_allow=files.allow)) as app:
        caller = await app.user()
        account_id = await connect(app, caller, alice)
        response = await app.create_post(caller, bluesky_post(account_id, "big", [url]))
        assert response.status_code == 201, response.text
        post_id = response.json()["postSubmissionId"]
        status = await app.wait_status(caller, post_id, {"published", "failed"}, timeout=30)

    assert status["status"] == "published", status
    [record] = await pds.posts(alice.did)
    image = record["value"]["embed"]["images"][0]
    assert image["image"]["mimeType"] == "image/jpeg"
    assert image["image"]["size"] <= 2_000_000
    assert image["aspectRatio"] == {"width": 1600, "height": 1600}
