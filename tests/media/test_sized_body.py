"""A download with a Content-Length is read from the connection itself, past h11's copies,
and still refuses a body cut short or stalled."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import h11
import pytest

from masthead.media import fetch as fetch_module
from masthead.media.fetch import FetchError, FetchLimits, download, fetch_timeout
from masthead.net.client import safe_async_client
from tests.support.files import FileServer


async def fetch(url: str, port: int, directory: Path, read_seconds: float = 10.0) -> str:
    allow = frozenset({("127.0.0.1", port)})
    limits = FetchLimits(max_bytes=64 * 1024 * 1024, read_seconds=read_seconds)
    client = safe_async_client(allow=allow, timeout=fetch_timeout(limits), only_allowed=True)
    try:
        fetched = await download(client, url, directory, limits, allow)
    finally:
        await client.aclose()
    return fetched.sha256


async def test_a_sized_body_passes_h11_by_and_arrives_whole(
    files: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(8 * 1024 * 1024)
    through_h11 = 0
    real_receive = h11.Connection.receive_data

    def receive_data(self: h11.Connection, chunk: bytes) -> None:
        nonlocal through_h11
        through_h11 += len(chunk)
        real_receive(self, chunk)

    monkeypatch.setattr(h11.Connection, "receive_data", receive_data)

    digest = await fetch(files.add("big.bin", data), files.port, tmp_path)

    assert digest == hashlib.sha256(data).hexdigest()
    assert through_h11 < 1024 * 1024  # the headers' read only, not the 8 MiB


async def test_over_plain_tcp_the_body_is_read_into_a_few_reused_buffers(
    files: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_module, "WRITE_CHUNK", 256 * 1024)
    buffers: list[object] = []
    real_store = fetch_module._Sink.store

    def store(sink: fetch_module._Sink, batch: list[fetch_module.Chunk]) -> None:
        buffers.extend(chunk.obj for chunk in batch if isinstance(chunk, memoryview))
        real_store(sink, batch)

    monkeypatch.setattr(fetch_module._Sink, "store", store)
    data = os.urandom(8 * 1024 * 1024)

    digest = await fetch(files.add("big.bin", data), files.port, tmp_path)

    assert digest == hashlib.sha256(data).hexdigest()
    assert len(buffers) >= 16  # most of the 32 batches, all but what came with the headers
    assert len({id(buffer) for buffer in buffers}) <= fetch_module.IN_FLIGHT + 1


@pytest.fixture
async def lying_server() -> AsyncIterator[tuple[int, asyncio.Event]]:
    """Declares 1 MiB, sends 1,000 bytes, then closes (or stalls while `stall` is set)."""
    stall = asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + b"x" * 1000)
        await writer.drain()
        if stall.is_set():
            await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port, stall


async def test_a_body_cut_short_is_refused(
    lying_server: tuple[int, asyncio.Event], tmp_path: Path
) -> None:
    port, _ = lying_server

    with pytest.raises(FetchError, match="could not be fetched"):
        await fetch(f"http://127.0.0.1:{port}/a.jpg", port, tmp_path)
    assert not os.listdir(tmp_path)


async def test_a_stalled_body_times_out(
    lying_server: tuple[int, asyncio.Event], tmp_path: Path
) -> None:
    port, stall = lying_server
    stall.set()

    with pytest.raises(FetchError, match="timed out"):
        await fetch(f"http://127.0.0.1:{port}/a.jpg", port, tmp_path, read_seconds=0.3)


async def test_transfer_encoding_wins_over_content_length(tmp_path: Path) -> None:
    """Both headers: the body is framed as chunks (RFC 9112 6.3), never read as raw bytes."""
    data = b"y" * 5000

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % len(data)
            + data[:1000]
        )
        await writer.drain()
        await asyncio.sleep(0.1)  # the rest in a later read, past what h11 held at first
        writer.write(data[1000:] + b"\r\n0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        digest = await fetch(f"http://127.0.0.1:{port}/a.jpg", port, tmp_path)

    assert digest == hashlib.sha256(data).hexdigest()
