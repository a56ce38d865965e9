"""write_stream: a stream to a hashed, durable temp file, with the disk work off the event loop."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import os
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from masthead.media import fetch
from masthead.media.fetch import FetchError, write_stream

CHUNK = 16 * 1024


def left_in(directory: Path) -> list[Path]:
    return list(directory.iterdir())


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "WRITE_CHUNK", 4 * CHUNK)


async def test_many_batches_are_hashed_and_written_in_order(tmp_path: Path) -> None:
    data = os.urandom(37 * CHUNK + 123)

    fetched = await write_stream(chunks(data), tmp_path, len(data))

    assert fetched.size == len(data)
    assert fetched.sha256 == hashlib.sha256(data).hexdigest()
    assert fetched.path.read_bytes() == data


async def test_a_body_under_one_batch_starts_no_threads_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lanes: list[str] = []
    real_pool = fetch.ThreadPoolExecutor

    def counted_pool(max_workers: int, thread_name_prefix: str) -> ThreadPoolExecutor:
        lanes.append(thread_name_prefix)
        return real_pool(max_workers=max_workers, thread_name_prefix=thread_name_prefix)

    monkeypatch.setattr(fetch, "ThreadPoolExecutor", counted_pool)
    small = os.urandom(3 * CHUNK + 5)

    fetched = await write_stream(chunks(small), tmp_path, len(small))

    assert lanes == []
    assert fetched.sha256 == hashlib.sha256(small).hexdigest()
    assert fetched.path.read_bytes() == small
    big = os.urandom(9 * CHUNK)
    await write_stream(chunks(big), tmp_path, len(big))
    assert lanes == ["ingest-hash", "ingest-write"]


async def test_receiving_goes_on_while_the_disk_is_busy_but_stays_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = threading.Event()
    real_store = fetch._Sink.store

    def slow_store(sink: fetch._Sink, batch: list[bytes]) -> None:
        disk.wait(10)
        real_store(sink, batch)

    monkeypatch.setattr(fetch._Sink, "store", slow_store)
    data = os.urandom(40 * CHUNK)
    pulled = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal pulled
        async for chunk in chunks(data):
            pulled += 1
            yield chunk

    task = asyncio.create_task(write_stream(counted(), tmp_path, len(data)))
    await asyncio.sleep(0.3)
    # IN_FLIGHT batches wait for the disk and one more is gathered; then receiving pauses.
    assert pulled == (fetch.IN_FLIGHT + 1) * 4
    disk.set()
    fetched = await task

    assert fetched.path.read_bytes() == data


def direct_flag(fd: int) -> bool:
    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)


@pytest.fixture
def direct_io(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "probe", os.O_WRONLY | os.O_CREAT)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_DIRECT)
    except OSError:
        pytest.skip("this file system does not take O_DIRECT")
    finally:
        os.close(fd)
        os.unlink(tmp_path / "probe")


@pytest.mark.usefixtures("direct_io")
async def test_whole_blocks_go_straight_to_disk_and_the_tail_through_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[tuple[int, bool]] = []
    real_write = os.write

    def write(fd: int, data: memoryview) -> int:
        writes.append((len(data), direct_flag(fd)))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    data = os.urandom(10 * CHUNK + 123)

    fetched = await write_stream(chunks(data), tmp_path, len(data))

    assert writes == [(4 * CHUNK, True), (4 * CHUNK, True), (2 * CHUNK + 123, False)]
    assert fetched.sha256 == hashlib.sha256(data).hexdigest()
    assert fetched.path.read_bytes() == data
    writes.clear()
    small = os.urandom(3 * CHUNK + 5)
    await write_stream(chunks(small), tmp_path, len(small))
    assert writes == [(CHUNK, False), (CHUNK, False), (CHUNK, False), (5, False)]


@pytest.mark.usefixtures("direct_io")
async def test_direct_writes_refused_by_the_file_system_go_through_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def write(fd: int, data: memoryview) -> int:
        if direct_flag(fd):
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    data = os.urandom(10 * CHUNK + 123)

    fetched = await write_stream(chunks(data), tmp_path, len(data))

    assert fetched.sha256 == hashlib.sha256(data).hexdigest()
    assert fetched.path.read_bytes() == data


async def test_without_o_direct_each_batch_starts_its_writeback_before_the_final_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "_DIRECT", 0)
    advised: list[tuple[int, int, int]] = []
    real_fadvise = os.posix_fadvise

    def fadvise(fd: int, offset: int, length: int, advice: int) -> None:
        advised.append((offset, length, advice))
        real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", fadvise)
    data = os.urandom(10 * CHUNK)

    await write_stream(chunks(data), tmp_path, len(data))

    assert {advice for _, _, advice in advised} == {os.POSIX_FADV_DONTNEED}
    assert [(offset, length) for offset, length, _ in advised] == [
        (0, 4 * CHUNK),
        (4 * CHUNK, 4 * CHUNK),
        (8 * CHUNK, 2 * CHUNK),
    ]


async def test_a_failed_write_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_store = fetch._Sink.store
    batches = 0

    def failing_store(sink: fetch._Sink, batch: list[bytes]) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise OSError(28, "No space left on device")
        real_store(sink, batch)

    monkeypatch.setattr(fetch._Sink, "store", failing_store)

    with pytest.raises(OSError, match="No space left"):
        await write_stream(chunks(os.urandom(20 * CHUNK)), tmp_path, 20 * CHUNK)
    assert left_in(tmp_path) == []


async def test_the_cap_stops_the_stream_and_removes_the_temp_file(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="larger than"):
        await write_stream(chunks(os.urandom(20 * CHUNK)), tmp_path, 9 * CHUNK)
    assert left_in(tmp_path) == []


@pytest.mark.parametrize("size", [3 * CHUNK, 5 * CHUNK], ids=["one batch", "two batches"])
async def test_a_failed_fsync_closes_the_file_once_and_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    closed: list[int] = []
    real_close = os.close

    def fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    def close(fd: int) -> None:
        closed.append(fd)
        real_close(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "close", close)

    with pytest.raises(OSError, match="Input/output"):
        await write_stream(chunks(os.urandom(size)), tmp_path, size)
    assert closed
    assert len(closed) == len(set(closed))  # no number closed twice
    assert left_in(tmp_path) == []
