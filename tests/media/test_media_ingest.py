"""POST /v2/media: a URL or data: URI in, a hosted URL out; type from the bytes, caps counted."""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path

import pytest

from masthead.media.fetch import direct_download_url
from masthead.net import encoding
from tests.conftest import make_settings
from tests.media.conftest import path_of, post_media, stored_files
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness, running_app


async def test_url_is_fetched_and_served_with_its_sniffed_type(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    png = samples.image("PNG")
    url = files.add("photo.jpg", png)  # named .jpg and served as image/jpeg: both ignored

    response = await post_media(app, ada, url)

    assert response.status_code == 201, response.text
    hosted = response.json()
    assert hosted["url"].startswith(app.settings.public_url + "/media/")
    assert hosted["url"].endswith(".png")
    served = await app.client.get(path_of(hosted["url"]))
    assert served.status_code == 200
    assert served.content == png
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-length"] == str(len(png))
    assert served.headers["etag"].strip('"') in hosted["url"]


async def test_same_file_twice_is_stored_once_with_two_ids(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    jpeg = samples.image("JPEG")
    first = await post_media(app, ada, files.add("a.jpg", jpeg))
    second = await post_media(app, ada, files.add("b.jpg", jpeg))

    assert first.json()["url"] == second.json()["url"]
    assert first.json()["id"] != second.json()["id"]
    assert len(stored_files(app)) == 1


async def test_the_file_and_its_name_are_fsynced_before_the_201(
    app: Harness, ada: Caller, files: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)

    response = await post_media(app, ada, files.add("a.jpg", samples.image("JPEG")))

    assert response.status_code == 201, response.text
    [stored] = stored_files(app)
    assert any(Path(path).name.startswith("ingest-") for path in synced)  # the bytes
    assert str(stored.parent) in synced  # the stored name


async def test_data_uri_is_decoded_and_sniffed(app: Harness, ada: Caller) -> None:
    jpeg = samples.image("JPEG")
    uri = "data:image/png;base64," + base64.b64encode(jpeg).decode()

    response = await post_media(app, ada, uri)

    assert response.status_code == 201, response.text
    assert response.json()["url"].endswith(".jpg")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<html><body><script>alert(1)</script></body></html>", "text/html"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
        ),
        (b"#!/bin/sh\nrm -rf /\n", "text/x-shellscript"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "does not decode"),  # a JPEG header, no image
    ],
)
async def test_disguised_files_are_refused(
    app: Harness, ada: Caller, files: FileServer, data: bytes, reason: str
) -> None:
    response = await post_media(app, ada, files.add("innocent.jpg", data))

    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid File Format")
    assert reason in response.json()["message"]
    assert response.json()["errors"][0]["path"] == "url"
    assert stored_files(app) == []


async def test_decompression_bomb_is_refused(app: Harness, ada: Caller, files: FileServer) -> None:
    bomb = samples.image("PNG", size=(12_000, 12_000), color="white")  # 144 MP, a few KB

    response = await post_media(app, ada, files.add("bomb.png", bomb))

    assert response.status_code == 422
    assert "pixels" in response.json()["message"]


async def test_video_is_probed(app: Harness, ada: Caller, files: FileServer) -> None:
    response = await post_media(app, ada, files.add("clip.bin", samples.video(2.0)))

    assert response.status_code == 201, response.text
    assert response.json()["url"].endswith(".mp4")
    blob = await app.ctx.media.hosted_blob(app.ctx.media.hosted(response.json()["url"]))  # type: ignore[arg-type]
    assert blob is not None
    facts = blob.facts
    assert (facts.width, facts.height) == (320, 240)
    assert facts.duration == pytest.approx(2.0, abs=0.1)
    assert facts.frame_rate == pytest.approx(30.0)
    assert facts.video_codec == "AVC"


async def test_cap_is_enforced_from_content_length(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    big = samples.noisy_jpeg((3000, 3000))
    assert len(big) > app.settings.media_max_bytes

    response = await post_media(app, ada, files.add("big.jpg", big))

    assert response.status_code == 422
    assert "larger than the 8 MiB limit (Content-Length" in response.json()["message"]


async def test_cap_is_enforced_by_counting_without_content_length(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    files.add("big.jpg", samples.noisy_jpeg((3000, 3000)))

    response = await post_media(app, ada, files.url("/chunked/big.jpg"))

    assert response.status_code == 422
    assert response.json()["message"] == "File is larger than the 8 MiB limit"
    assert stored_files(app) == []
    assert list((app.settings.data_dir / "tmp").iterdir()) == []


async def test_a_compressed_answer_is_stored_as_its_decoded_bytes(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    png = samples.image("PNG")
    files.add("photo.png", png)

    response = await post_media(app, ada, files.url("/encoded/gzip/photo.png"))

    assert response.status_code == 201, response.text
    assert (await app.client.get(path_of(response.json()["url"]))).content == png


async def test_a_gzip_bomb_stops_at_the_cap_on_decoded_bytes_inflated_off_the_loop(
    app: Harness, ada: Caller, files: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    files.add("bomb.jpg", b"\0" * (64 * 1024 * 1024))  # a few hundred KB on the wire
    loop_thread = threading.get_ident()
    inflated_on: list[int] = []
    inflated = 0
    take = encoding.Inflater.take

    def recording_take(self: encoding.Inflater, limit: int) -> bytes:
        nonlocal inflated
        inflated_on.append(threading.get_ident())
        piece = take(self, limit)
        inflated += len(piece)
        return piece

    monkeypatch.setattr(encoding.Inflater, "take", recording_take)

    response = await post_media(app, ada, files.url("/encoded/gzip/bomb.jpg"))

    assert response.status_code == 422
    assert response.json()["message"] == "File is larger than the 8 MiB limit"
    assert inflated_on and loop_thread not in inflated_on
    assert inflated == app.settings.media_max_bytes + 1  # not one byte more was inflated
    assert stored_files(app) == []
    assert list((app.settings.data_dir / "tmp").iterdir()) == []


async def test_a_coding_masthead_does_not_decode_is_refused_by_name(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    files.add("photo.png", samples.image("PNG"))

    response = await post_media(app, ada, files.url("/encoded/br/photo.png"))

    assert response.status_code == 422
    assert "Content-Encoding br" in response.json()["message"]
    assert response.json()["errors"][0]["path"] == "url"


async def test_cap_applies_to_data_uris(app: Harness, ada: Caller) -> None:
    payload = base64.b64encode(b"\0" * (9 * 1024 * 1024)).decode()

    response = await post_media(app, ada, "data:image/jpeg;base64," + payload)

    assert response.status_code == 422
    assert "larger than the 8 MiB limit" in response.json()["message"]


async def test_redirects_are_followed(app: Harness, ada: Caller, files: FileServer) -> None:
    target = files.add("a.jpg", samples.image("JPEG"))
    hop = files.url(f"/redirect?to={target}")

    response = await post_media(app, ada, hop)

    assert response.status_code == 201, response.text


async def test_more_than_five_redirects_are_refused(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    url = files.add("a.jpg", samples.image("JPEG"))
    for _ in range(6):
        url = files.url("/redirect?to=" + url.replace("?", "%3F").replace("=", "%3D"))

    response = await post_media(app, ada, url)

    assert response.status_code == 422
    assert "redirected more than 5 times" in response.json()["message"]


async def test_error_status_is_reported(app: Harness, ada: Caller, files: FileServer) -> None:
    response = await post_media(app, ada, files.url("/status/404"))

    assert response.status_code == 422
    assert response.json()["message"] == "Media URL answered HTTP 404"


async def test_slow_download_times_out(app: Harness, ada: Caller, files: FileServer) -> None:
    files.add("slow.jpg", samples.noisy_jpeg((400, 400)))

    response = await post_media(app, ada, files.url("/slow/slow.jpg"))

    assert response.status_code == 422
    assert "timed out" in response.json()["message"] or "longer than" in response.json()["message"]


@pytest.mark.parametrize("url", ["", "   "])
async def test_empty_url_is_refused(app: Harness, ada: Caller, url: str) -> None:
    response = await post_media(app, ada, url)

    assert response.status_code == 422
    assert response.json()["message"] == "URL is empty"


async def test_missing_url_names_the_field(app: Harness, ada: Caller) -> None:
    response = await app.client.post("/v2/media", json={}, headers=ada.headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "url"


async def test_media_needs_an_api_key(app: Harness) -> None:
    response = await app.client.post("/v2/media", json={"url": "https://example.com/a.jpg"})

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("share", "direct"),
    [
        (
            "https://drive.google.com/file/d/1AbC-d_9/view?usp=sharing",
            "https://drive.google.com/uc?export=download&id=1AbC-d_9",
        ),
        (
            "https://drive.google.com/open?id=1AbC-d_9",
            "https://drive.google.com/uc?export=download&id=1AbC-d_9",
        ),
        ("https://example.com/file/d/1/view", "https://example.com/file/d/1/view"),
    ],
)
def test_google_drive_share_links_become_direct_downloads(share: str, direct: str) -> None:
    assert direct_download_url(share) == direct


async def test_media_endpoints_have_the_contract_rate_limits(
    tmp_path: Path, files: FileServer
) -> None:
    settings = make_settings(tmp_path, fetch_allow=files.allow)
    url = files.add("a.jpg", samples.image())
    async with running_app(settings, run_worker=False) as app:
        caller = await app.user()
        media = [(await post_media(app, caller, url)).status_code for _ in range(31)]
        uploads = [
            (
                await app.client.post(
                    "/v2/media/uploads", json={"filename": "a.jpg"}, headers=caller.headers
                )
            ).status_code
            for _ in range(121)
        ]

    assert media == [201] * 30 + [429]
    assert uploads == [201] * 120 + [429]
