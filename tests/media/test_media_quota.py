"""Stored media per user is bounded (MASTHEAD_MEDIA_QUOTA_BYTES and _FILES): past either, a new
file is refused with 413 saying which, before it is stored; the same file again costs nothing,
and one user's files never count against another's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from masthead.store import media as records
from tests.conftest import make_settings
from tests.media.conftest import post_media
from tests.media.test_media_uploads import new_upload, put
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness, running_app


async def _quota_app(tmp_path: Path, files: FileServer, **quota: int) -> AsyncIterator[Harness]:
    settings = make_settings(tmp_path, fetch_allow=files.allow, api_rate_limits="off", **quota)
    async with running_app(settings, run_worker=False) as running:
        yield running


@pytest.fixture
async def small(tmp_path: Path, files: FileServer) -> AsyncIterator[Harness]:
    """Room for one 640x480 JPEG (a few kB) and a bit, not for two."""
    first = len(samples.image("JPEG"))
    async for app in _quota_app(tmp_path, files, media_quota_bytes=first + first // 2):
        yield app


@pytest.fixture
async def two_files(tmp_path: Path, files: FileServer) -> AsyncIterator[Harness]:
    async for app in _quota_app(tmp_path, files, media_quota_files=2):
        yield app


async def test_a_file_past_the_byte_quota_is_a_413_and_not_stored(
    small: Harness, files: FileServer
) -> None:
    ada = await small.user("ada@example.com")
    first = await post_media(small, ada, files.add("a.jpg", samples.image("JPEG")))
    again = await post_media(small, ada, files.add("same.jpg", samples.image("JPEG")))

    refused = await post_media(small, ada, files.add("b.jpg", samples.image("JPEG", color="red")))

    assert [first.status_code, again.status_code] == [201, 201]
    assert refused.status_code == 413, refused.text
    assert refused.json()["message"].startswith("Media quota reached")
    assert refused.json()["errors"][0]["path"] == "url"
    usage = await small.db.read(lambda c: records.usage(c, ada.user_id))
    assert usage.files == 1


async def test_one_users_files_do_not_count_against_another(
    small: Harness, files: FileServer
) -> None:
    ada = await small.user("ada@example.com")
    bob = await small.user("bob@example.com")
    assert (
        await post_media(small, ada, files.add("a.jpg", samples.image("JPEG")))
    ).status_code == 201

    response = await post_media(small, bob, files.add("b.jpg", samples.image("JPEG", color="red")))

    assert response.status_code == 201, response.text


async def test_the_file_count_quota_refuses_the_next_distinct_file(
    two_files: Harness, files: FileServer
) -> None:
    ada = await two_files.user("ada@example.com")
    answers = [
        (
            await post_media(
                two_files, ada, files.add(f"{color}.png", samples.image("PNG", color=color))
            )
        ).status_code
        for color in ("red", "green", "blue")
    ]

    assert answers == [201, 201, 413]


async def test_an_upload_past_the_quota_is_a_413(two_files: Harness, files: FileServer) -> None:
    ada = await two_files.user("ada@example.com")
    for color in ("red", "green"):
        assert (
            await post_media(
                two_files, ada, files.add(f"{color}.png", samples.image("PNG", color=color))
            )
        ).status_code == 201
    upload = await new_upload(two_files, ada)

    response = await put(two_files, upload["presignedUrl"], samples.image("JPEG", color="blue"))

    assert response.status_code == 413, response.text
    assert "quota" in response.json()["message"]


async def test_zero_means_no_quota(tmp_path: Path, files: FileServer) -> None:
    async for app in _quota_app(tmp_path, files, media_quota_bytes=0, media_quota_files=0):
        ada = await app.user("ada@example.com")
        for color in ("red", "green", "blue"):
            url = files.add(f"{color}.png", samples.image("PNG", color=color))
            assert (await post_media(app, ada, url)).status_code == 201
        assert app.ctx.media.quota.limited is False
