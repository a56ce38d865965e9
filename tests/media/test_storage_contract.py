"""The MediaStorage contract, held against every backend (local disk and S3 via moto's server):
what the media endpoints and the Range-serving route rely on, whichever store is configured."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from masthead.media.storage import MediaStorage, open_storage
from tests.conftest import make_settings
from tests.support.s3 import MotoS3


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoS3]:
    with MotoS3() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MediaStorage]:
    """Each backend in turn, as `open_storage` makes it from the settings."""
    if request.param == "local":
        store = open_storage(make_settings(tmp_path))
    else:
        moto: MotoS3 = request.getfixturevalue("moto")
        store = moto.storage(f"s3://{moto.new_bucket()}/masthead/media", tmp_path)
    yield store
    await store.aclose()


def write_file(directory: Path, data: bytes) -> tuple[str, Path]:
    """A file and its content address, as the media pipeline would store it."""
    path = directory / "source.bin"
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest(), path


async def read_all(
    storage: MediaStorage, key: str, start: int = 0, end: int | None = None
) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, start, end)])


DATA = bytes(range(256)) * 40  # 10,240 bytes, every offset distinguishable


async def test_a_stored_file_has_its_size_and_bytes(storage: MediaStorage, tmp_path: Path) -> None:
    key, source = write_file(tmp_path, DATA)
    await storage.put(key, source, "image/png")
    assert await storage.size(key) == len(DATA)
    assert await read_all(storage, key) == DATA


async def test_an_unknown_key_has_no_size(storage: MediaStorage) -> None:
    assert await storage.size("0" * 64) is None


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(0, 100, id="first-bytes"),
        pytest.param(4000, 4100, id="middle"),
        pytest.param(len(DATA) - 500, None, id="suffix-to-end"),
        pytest.param(len(DATA) - 1, len(DATA), id="last-byte"),
        pytest.param(10_000, 50_000, id="end-past-the-size-stops-at-the-end"),
    ],
)
async def test_a_range_read_returns_exactly_those_bytes(
    storage: MediaStorage, tmp_path: Path, start: int, end: int | None
) -> None:
    key, source = write_file(tmp_path, DATA)
    await storage.put(key, source, "video/mp4")
    assert await read_all(storage, key, start, end) == DATA[start:end]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(len(DATA), None, id="start-at-the-end"),
        pytest.param(len(DATA) + 10, None, id="start-past-the-end"),
        pytest.param(50, 50, id="empty-range"),
    ],
)
async def test_a_read_with_nothing_in_range_yields_nothing(
    storage: MediaStorage, tmp_path: Path, start: int, end: int | None
) -> None:
    key, source = write_file(tmp_path, DATA)
    await storage.put(key, source, "video/mp4")
    assert await read_all(storage, key, start, end) == b""


async def test_a_large_read_is_streamed_in_chunks(storage: MediaStorage, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    key, source = write_file(tmp_path, data)
    await storage.put(key, source, "video/mp4")
    chunks = [chunk async for chunk in storage.read(key)]
    assert len(chunks) > 1
    assert all(isinstance(chunk, bytes) for chunk in chunks)
    assert b"".join(chunks) == data


async def test_reading_an_unknown_key_raises_file_not_found(storage: MediaStorage) -> None:
    with pytest.raises(FileNotFoundError):
        await read_all(storage, "0" * 64)


async def test_putting_the_same_file_twice_stores_it_once(
    storage: MediaStorage, tmp_path: Path
) -> None:
    key, source = write_file(tmp_path, DATA)
    await storage.put(key, source, "image/png")
    await storage.put(key, source, "image/png")
    assert await storage.size(key) == len(DATA)
    assert await read_all(storage, key) == DATA


async def test_download_copies_the_object_and_returns_its_size(
    storage: MediaStorage, tmp_path: Path
) -> None:
    key, source = write_file(tmp_path, DATA)
    await storage.put(key, source, "image/png")
    dest = tmp_path / "copy.bin"
    assert await storage.download(key, dest, cap=len(DATA)) == len(DATA)
    assert dest.read_bytes() == DATA


async def test_download_refuses_an_object_over_the_cap_without_writing_it(
    storage: MediaStorage, tmp_path: Path
) -> None:
    key, source = write_file(tmp_path, DATA)
    await storage.put(key, source, "image/png")
    dest = tmp_path / "copy.bin"
    with pytest.raises(OverflowError):
        await storage.download(key, dest, cap=len(DATA) - 1)
    assert not dest.exists()


async def test_download_of_an_unknown_key_raises_file_not_found(
    storage: MediaStorage, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await storage.download("0" * 64, tmp_path / "copy.bin", cap=1024)


async def test_a_deleted_object_is_gone(storage: MediaStorage, tmp_path: Path) -> None:
    key, source = write_file(tmp_path, DATA)
    await storage.put(key, source, "image/png")
    await storage.delete(key)
    assert await storage.size(key) is None
    with pytest.raises(FileNotFoundError):
        await read_all(storage, key)


async def test_deleting_an_unknown_key_is_not_an_error(storage: MediaStorage) -> None:
    await storage.delete("0" * 64)


@pytest.mark.parametrize("key", ["", "../escape", "a/b", ".hidden"])
async def test_a_key_that_is_not_a_flat_name_is_refused(
    storage: MediaStorage, tmp_path: Path, key: str
) -> None:
    _, source = write_file(tmp_path, DATA)
    with pytest.raises(ValueError, match="invalid media key"):
        await storage.put(key, source, "image/png")
    assert await storage.size(key) is None
