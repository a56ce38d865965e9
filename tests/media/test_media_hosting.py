"""Hosted media is served like a CDN would: type, length, ETag, and byte ranges."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from masthead.api.ranges import ByteRange, Unsatisfiable, parse_range
from tests.conftest import make_settings
from tests.media.conftest import path_of, post_media
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness, served_app


@pytest.fixture
async def hosted(app: Harness, ada: Caller, files: FileServer) -> tuple[str, bytes]:
    data = samples.video(2.0)
    response = await post_media(app, ada, files.add("clip.mp4", data))
    assert response.status_code == 201, response.text
    return path_of(response.json()["url"]), data


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-9", 0, 10), ("bytes=100-", 100, None), ("bytes=-50", -50, None)],
)
async def test_range_requests_get_206_with_the_bytes(
    app: Harness, hosted: tuple[str, bytes], header: str, start: int, end: int | None
) -> None:
    path, data = hosted

    response = await app.client.get(path, headers={"Range": header})

    expected = data[start:end]
    assert response.status_code == 206
    assert response.content == expected
    assert response.headers["content-length"] == str(len(expected))
    first = start if start >= 0 else len(data) + start
    assert response.headers["content-range"] == (
        f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    )
    assert response.headers["content-type"] == "video/mp4"


@pytest.mark.parametrize("header", ["bytes=²-", "bytes=0-١"])
async def test_unicode_digits_in_a_range_get_the_whole_file(
    app: Harness, hosted: tuple[str, bytes], header: str
) -> None:
    path, data = hosted

    response = await app.client.get(path, headers={"Range": header.encode()})

    assert response.status_code == 200
    assert response.content == data


async def test_range_past_the_end_is_416(app: Harness, hosted: tuple[str, bytes]) -> None:
    path, data = hosted

    response = await app.client.get(path, headers={"Range": f"bytes={len(data)}-"})

    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(data)}"


async def test_head_gives_length_without_body(app: Harness, hosted: tuple[str, bytes]) -> None:
    path, data = hosted

    response = await app.client.head(path)

    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.content == b""


async def test_matching_etag_is_304(app: Harness, hosted: tuple[str, bytes]) -> None:
    path, _ = hosted
    etag = (await app.client.head(path)).headers["etag"]

    response = await app.client.get(path, headers={"If-None-Match": etag})

    assert response.status_code == 304


async def test_stale_if_range_gets_the_whole_file(app: Harness, hosted: tuple[str, bytes]) -> None:
    path, data = hosted

    response = await app.client.get(path, headers={"Range": "bytes=0-9", "If-Range": '"old"'})

    assert response.status_code == 200
    assert response.content == data


@pytest.mark.parametrize(
    "path",
    [
        "/media/" + "0" * 64 + ".jpg",
        "/media/not-a-hash.jpg",
        "/media/u/00000000-0000-0000-0000-000000000000",
    ],
)
async def test_unknown_media_is_404(app: Harness, path: str) -> None:
    assert (await app.client.get(path)).status_code == 404


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-0", 100, ByteRange(0, 1)),
        ("bytes=10-200", 100, ByteRange(10, 100)),
        ("bytes=-1000", 100, ByteRange(0, 100)),
        ("items=0-1", 100, None),
        ("bytes=0-1,5-6", 100, None),
        ("bytes=5-2", 100, None),
        ("bytes=a-b", 100, None),
        ("bytes=", 100, None),
        ("bytes=²-", 100, None),
        ("bytes=0-١", 100, None),
        ("bytes=１-5", 100, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: ByteRange | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=-0", "bytes=150-160", "bytes=-²"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, 100)


async def test_hosted_urls_are_fetchable_over_http_at_the_public_url(
    tmp_path: Path, files: FileServer
) -> None:
    data = samples.image("PNG")
    settings = make_settings(tmp_path, fetch_allow=files.allow, api_rate_limits="off")
    async with served_app(settings, run_worker=False) as app:
        caller = await app.user()
        created = await post_media(app, caller, files.add("a.png", data))
        async with httpx.AsyncClient() as outsider:  # as a platform would fetch it
            fetched = await outsider.get(created.json()["url"])

    assert fetched.status_code == 200
    assert fetched.content == data
