"""Bring a user's file to a local temp file: from an http(s) URL, a `data:` URI or a PUT body.

Every byte is counted as it arrives, so a missing or lying `Content-Length` cannot get past the
cap, and the file is hashed while it is written (the sha256 is its storage key). The network
side uses the SSRF-guarded client (net/client.py): each redirect hop is checked again before it
is fetched, and the connection goes to the address that was checked.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import errno
import fcntl
import hashlib
import mmap
import os
import re
import tempfile
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

import anyio
import httpcore
import httpx

from masthead.domain.inputs import ascii_int
from masthead.net.client import detach_transport
from masthead.net.encoding import EncodingRefused, Oversized, content_encoding, decoded
from masthead.net.guard import BlockedDestination, check_url

MAX_REDIRECTS = 5
WRITE_CHUNK = 4 * 1024 * 1024
IN_FLIGHT = 2
BODY_READ = 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DIRECT = getattr(os, "O_DIRECT", 0)
"""Linux: large writes go from a block of our own straight to the disk. Elsewhere, or where
the file system refuses the flag, the file is written through the page cache."""
_START_WRITEBACK = hasattr(os, "posix_fadvise")
"""Linux and most Unix systems; elsewhere (macOS) the final fsync does all the writing."""
_DRIVE_FILE = re.compile(r"^/file/d/([A-Za-z0-9_-]+)")
_DATA_URI = re.compile(r"^data:([^,]*?),", re.IGNORECASE | re.DOTALL)

Chunk = bytes | memoryview


class FetchError(Exception):
    """The file cannot be taken; `message` is the 422 text the user sees."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Fetched:
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int
    connect_seconds: float = 10.0
    read_seconds: float = 30.0
    total_seconds: float = 600.0


def describe_size(size: int) -> str:
    if size >= 1024**3 and size % 1024**3 == 0:
        return f"{size // 1024**3} GiB"
    if size >= 1024**2 and size % 1024**2 == 0:
        return f"{size // 1024**2} MiB"
    return f"{size:,} bytes"


def too_large(max_bytes: int) -> FetchError:
    return FetchError(f"File is larger than the {describe_size(max_bytes)} limit")


def direct_download_url(url: str) -> str:
    """Google Drive share links (`/file/d/<id>/view`, `/open?id=<id>`) answer with an HTML
    page; their direct download form answers with the file."""
    parsed = httpx.URL(url)
    if parsed.host not in ("drive.google.com", "docs.google.com"):
        return url
    match = _DRIVE_FILE.match(parsed.path)
    file_id = match.group(1) if match else parsed.params.get("id")
    if not file_id:
        return url
    return f"https://drive.google.com/uc?export=download&id={file_id}"


class _Sink:
    """A temp file that counts what is written, refuses to pass the cap, and hashes it."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._fd, name = tempfile.mkstemp(dir=directory, prefix="ingest-", suffix=".part")
        self.path = Path(name)
        self._hash = hashlib.sha256()
        self._max = max_bytes
        self._written = 0
        self.size = 0
        self.abandoned = False
        self._block: mmap.mmap | None = None
        self._direct = False
        self._held = 0

    def count(self, size: int) -> None:
        self.size += size
        if self.size > self._max:
            raise too_large(self._max)

    def hash(self, chunks: list[Chunk]) -> None:
        if self.abandoned:
            return
        for chunk in chunks:
            self._hash.update(chunk)

    def store(self, chunks: list[Chunk]) -> None:
        """Write a batch: with O_DIRECT, gathered into the aligned block and written from it
        each time it fills; else through the page cache (`_store_cached`). The way is chosen
        by the first batch: a file under one block (most uploads) is written as it came."""
        if self.abandoned:
            return
        if self._written == 0 and self._block is None and sum(map(len, chunks)) >= WRITE_CHUNK:
            self._block = _direct_block(self._fd)
            self._direct = self._block is not None
        block = self._block
        if block is None:
            self._store_cached(chunks)
            return
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                taken = min(len(view), len(block) - self._held)
                block[self._held : self._held + taken] = view[:taken]
                self._held += taken
                view = view[taken:]
                if self._held == len(block):
                    self._write_block()

    def _write_block(self) -> None:
        """The held bytes, from the block. Only a whole block is aligned: a short one (the
        last) goes through the page cache, O_DIRECT turned off for it, as does every block on
        a file system that took the flag but refuses the writes (EINVAL)."""
        assert self._block is not None
        if self._held < len(self._block):
            self._end_direct()
        data = memoryview(self._block)[: self._held]
        try:
            while data:  # a write may take only part of it
                try:
                    data = data[os.write(self._fd, data) :]
                except OSError as exc:
                    if exc.errno != errno.EINVAL or not self._direct:
                        raise
                    self._end_direct()
        finally:
            data.release()
        self._held = 0

    def _end_direct(self) -> None:
        if self._direct:
            _set_direct(self._fd, on=False)
            self._direct = False

    def _store_cached(self, chunks: list[Chunk]) -> None:
        """Write a batch, then start its writeback: fadvise DONTNEED starts writing the dirty
        pages out without waiting (and keeps them cached until they are clean), so the fsync in
        `close` finds the file mostly on disk instead of flushing all of it while the caller
        waits (0.2 s of 0.5 GiB here)."""
        start = self._written
        for chunk in chunks:
            view = memoryview(chunk)
            while view:  # a write may take only part of the block
                view = view[os.write(self._fd, view) :]
            self._written += len(chunk)
        if _START_WRITEBACK:
            os.posix_fadvise(self._fd, start, self._written - start, os.POSIX_FADV_DONTNEED)

    def write(self, chunk: bytes) -> None:
        self.count(len(chunk))
        self.hash([chunk])
        self.store([chunk])

    def finish(self, chunks: list[Chunk]) -> Fetched:
        """The last (or only) batch hashed and stored, then `close`: one thread, one hop."""
        self.hash(chunks)
        self.store(chunks)
        return self.close()

    def close(self) -> Fetched:
        """Durable before it is handed over: the caller answers 201 only after this."""
        try:
            if self._held:
                self._write_block()
            os.fsync(self._fd)
        finally:
            self._close_fd()
        return Fetched(self.path, self.size, self._hash.hexdigest())

    def discard(self) -> None:
        self._close_fd()
        self.path.unlink(missing_ok=True)

    def _close_fd(self) -> None:
        """Once only: a second close could hit a number another thread has opened since."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)
        if self._block is not None:
            self._block.close()


def _direct_block(fd: int) -> mmap.mmap | None:
    """A page-aligned block of WRITE_CHUNK bytes for O_DIRECT writes to `fd`, or None when the
    file system does not take the flag. Through the page cache, every byte was copied into a
    page the kernel had just allocated, most of the write thread's CPU (on a VM a fresh page
    is a fault in the host as well); copying into one reused block costs a fraction of it."""
    if not _DIRECT:
        return None
    try:
        _set_direct(fd, on=True)
    except OSError:
        return None
    return mmap.mmap(-1, WRITE_CHUNK)


def _set_direct(fd: int, *, on: bool) -> None:
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | _DIRECT if on else flags & ~_DIRECT)


async def write_stream(
    chunks: AsyncIterable[Chunk],
    directory: Path,
    max_bytes: int,
    reuse: Callable[[list[Chunk]], None] | None = None,
) -> Fetched:
    """Save a stream (a PUT body, a download) to a temp file; the caller owns the file.

    Chunks are gathered into batches of WRITE_CHUNK bytes. This stream's own two worker
    threads take them in order, one hashing and one writing (hashlib and os.write release the
    GIL), while the event loop goes on receiving: up to IN_FLIGHT batches may wait for them
    before receiving pauses, so one slow write does not stop the network. A batch stays a list
    of the chunks as they came (joining them would copy every byte once more). The file is
    fsynced once, at the end.

    The two threads start with the first full batch: a body smaller than one batch (most
    uploads) is hashed, written and fsynced in a single hop to anyio's shared worker threads.
    `reuse` is given each batch once it is hashed and written: its buffers may be filled again."""
    sink = _Sink(directory, max_bytes)
    loop = asyncio.get_running_loop()
    lanes: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
    queued: deque[tuple[asyncio.Future[None], asyncio.Future[None]]] = deque()
    pending: list[Chunk] = []
    pending_size = 0

    def start(batch: list[Chunk]) -> None:
        nonlocal lanes
        if lanes is None:
            lanes = (
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-hash"),
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-write"),
            )
        hasher, writer = lanes
        pair = (
            loop.run_in_executor(hasher, sink.hash, batch),
            loop.run_in_executor(writer, sink.store, batch),
        )
        queued.append(pair)
        if reuse is not None:
            waiting = set(pair)

            def reuse_when_done(future: asyncio.Future[None]) -> None:
                """Once both are done (not at the next finish_oldest): a reader waiting for a
                free buffer goes on at once. A failed batch is never reused."""
                waiting.discard(future)
                if not waiting and all(not f.cancelled() and f.exception() is None for f in pair):
                    reuse(batch)

            for future in pair:
                future.add_done_callback(reuse_when_done)

    async def finish_oldest() -> None:
        hashed, stored = queued[0]
        await hashed
        await stored
        queued.popleft()

    try:
        async for chunk in chunks:
            sink.count(len(chunk))
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size < WRITE_CHUNK:
                continue
            if len(queued) >= IN_FLIGHT:
                await finish_oldest()
            start(pending)
            pending, pending_size = [], 0
        if lanes is None:
            # Not abandoned on cancel: the file is discarded only once this thread is done.
            return await anyio.to_thread.run_sync(sink.finish, pending)
        if pending:
            start(pending)
        while queued:
            await finish_oldest()
        return await loop.run_in_executor(lanes[1], sink.close)
    except BaseException:
        # Batches not begun are skipped, and the file is closed by the writer thread itself,
        # after the write it may be in the middle of: never under a write's feet.
        sink.abandoned = True
        for pair in queued:
            for future in pair:
                future.add_done_callback(_ignore_outcome)
        with contextlib.suppress(BaseException):
            await loop.run_in_executor(None if lanes is None else lanes[1], sink.discard)
        raise
    finally:
        if lanes is not None:
            for lane in lanes:
                lane.shutdown(wait=False)


def _ignore_outcome(future: asyncio.Future[None]) -> None:
    """An abandoned batch's error is not news: the stream already failed for its own reason."""
    if not future.cancelled():
        future.exception()


def decode_data_uri(uri: str, directory: Path, max_bytes: int) -> Fetched:
    """`data:<mime>[;base64],<data>` (the n8n node sends binary this way). The declared type is
    ignored: the bytes are sniffed like any other file."""
    match = _DATA_URI.match(uri)
    if match is None:
        raise FetchError("data: URI is malformed (expected data:<type>;base64,<data>)")
    payload = uri[match.end() :]
    if match.group(1).lower().endswith(";base64"):
        if len(payload) * 3 // 4 > max_bytes + 3:
            raise too_large(max_bytes)
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise FetchError("data: URI is not valid base64") from None
    else:
        data = unquote_to_bytes(payload)
    if not data:
        raise FetchError("data: URI holds no bytes")
    sink = _Sink(directory, max_bytes)
    try:
        sink.write(data)
        return sink.close()
    except BaseException:
        sink.discard()
        raise


async def download(
    client: httpx.AsyncClient,
    url: str,
    directory: Path,
    limits: FetchLimits,
    allow: frozenset[tuple[str, int]],
) -> Fetched:
    """Download `url` through the guarded `client`, following at most MAX_REDIRECTS redirects
    by hand. Raises FetchError with a reason the user can act on."""
    try:
        target = direct_download_url(url)
        with anyio.fail_after(limits.total_seconds):
            for _ in range(MAX_REDIRECTS + 1):
                check_url(target, allow)
                request = client.build_request(
                    "GET", target, headers={"Accept-Encoding": "identity", "Accept": "*/*"}
                )
                response = await client.send(request, stream=True)
                try:
                    if response.status_code in _REDIRECTS and "location" in response.headers:
                        target = str(response.url.join(response.headers["location"]))
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"Media URL answered HTTP {response.status_code}")
                    declared = ascii_int(response.headers.get("content-length", ""))
                    if declared is not None and declared > limits.max_bytes:
                        raise FetchError(
                            f"File is larger than the {describe_size(limits.max_bytes)} limit "
                            f"(Content-Length {declared:,})"
                        )
                    # A server that compresses although we asked for identity is decoded in
                    # a worker thread (net/encoding.py), and the cap counts decoded bytes.
                    encoding = content_encoding(response)
                    if encoding is not None:
                        body = decoded(response.aiter_raw(), limits.max_bytes)
                    elif declared and "transfer-encoding" not in response.headers:
                        # (Transfer-Encoding wins over Content-Length: h11 frames those.)
                        sized = _SizedBody(response, declared, limits.read_seconds)
                        return await write_stream(
                            sized, directory, limits.max_bytes, reuse=sized.reuse
                        )
                    else:
                        body = response.aiter_raw()
                    return await write_stream(body, directory, limits.max_bytes)
                finally:
                    await response.aclose()
            raise FetchError(f"Media URL redirected more than {MAX_REDIRECTS} times")
    except BlockedDestination as exc:
        raise FetchError(f"Media URL refused: {exc.reason}") from None
    except EncodingRefused as exc:
        raise FetchError(f"Media URL {exc}") from None
    except Oversized:
        raise too_large(limits.max_bytes) from None
    except TimeoutError:
        raise FetchError(
            f"Media URL took longer than {limits.total_seconds:g} seconds to download"
        ) from None
    except httpx.TimeoutException:
        raise FetchError("Media URL timed out") from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"Media URL is not valid: {exc}") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"Media URL could not be fetched ({type(exc).__name__})") from None


class _SizedBody:
    """An identity-coded body of known length, read straight from the connection once h11 has
    handed over what it buffered with the headers. Through h11 every byte was copied four
    more times (into its buffer, two slices, `bytes()`), 12% of the CPU of a large download.
    Over plain TCP the rest is read by a _BodyReader swapped in under anyio; over TLS, by the
    stream's own reads. The connection is then closed by `aclose`, never reused mid-body."""

    def __init__(self, response: httpx.Response, length: int, timeout: float) -> None:
        self._response = response
        self._length = length
        self._timeout = timeout
        self._reader: _BodyReader | None = None

    def reuse(self, batch: list[Chunk]) -> None:
        if self._reader is not None:
            self._reader.reuse(batch)

    async def __aiter__(self) -> AsyncIterator[Chunk]:
        stream = self._response.extensions.get("network_stream")
        if not isinstance(stream, httpcore.AsyncNetworkStream):
            async for chunk in self._response.aiter_raw():
                yield chunk
            return
        # Held open to the end: closing h11's side closes the connection under the reads.
        raw = self._response.aiter_raw()
        try:
            first = await anext(raw, b"")  # all that h11 holds (its reader takes the whole buffer)
            yield first
            remaining = self._length - len(first)
            detached = detach_transport(stream) if remaining > 0 else None
            if detached is None:
                while remaining > 0:
                    chunk = await _read(stream, remaining, self._timeout)
                    remaining -= len(chunk)
                    yield chunk
                return
            transport, read = detached
            for chunk in read:
                chunk = chunk[:remaining]
                remaining -= len(chunk)
                yield chunk
            if remaining > 0:
                self._reader = _BodyReader(transport, remaining)
                async for view in self._reader.batches(self._timeout):
                    yield view
        finally:
            if isinstance(raw, AsyncGenerator):
                await raw.aclose()


async def _read(stream: httpcore.AsyncNetworkStream, remaining: int, timeout: float) -> bytes:
    try:
        chunk = await stream.read(min(remaining, BODY_READ), timeout)
    except httpcore.TimeoutException as exc:
        raise httpx.ReadTimeout(str(exc)) from exc
    except httpcore.NetworkError as exc:
        raise httpx.ReadError(str(exc)) from exc
    if not chunk:
        raise _cut_short()
    return chunk


def _cut_short() -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError("peer closed connection before the whole body")


class _BodyReader(asyncio.BufferedProtocol):
    """The rest of a body, read by the event loop straight into WRITE_CHUNK buffers and handed
    on once per full buffer. anyio's stream made a new bytes object for each network read
    (uvloop's copy of up to 250 kB, into freshly faulted pages) and woke the reading task, with
    a pause and a resume of the transport, for each: 4,000 times per GiB. Up to IN_FLIGHT + 1
    buffers, each filled again once write_stream has hashed and written it (`reuse`); with
    none free, reading pauses, as anyio's did when the pipeline was full."""

    def __init__(self, transport: asyncio.Transport, length: int) -> None:
        self._transport = transport
        self._remaining = length
        self._buffers = [bytearray(min(WRITE_CHUNK, length))]
        self._buffer: bytearray | None = self._buffers[0]
        self._spare: list[bytearray] = []
        self._filled = 0
        self._full: deque[memoryview] = deque()
        self._wake = asyncio.Event()
        self._failure: httpx.TransportError | None = None
        self._received = 0
        transport.set_protocol(self)
        transport.resume_reading()

    def get_buffer(self, sizehint: int) -> memoryview:
        assert self._buffer is not None  # reading is paused whenever there is none
        end = min(len(self._buffer), self._filled + self._remaining)
        return memoryview(self._buffer)[self._filled : end]

    def buffer_updated(self, nbytes: int) -> None:
        assert self._buffer is not None
        self._filled += nbytes
        self._remaining -= nbytes
        self._received += nbytes
        if self._filled < len(self._buffer) and self._remaining > 0:
            return
        self._full.append(memoryview(self._buffer)[: self._filled])
        self._wake.set()
        self._buffer, self._filled = None, 0
        if self._remaining > 0 and self._spare:
            self._buffer = self._spare.pop()
        elif self._remaining > 0 and len(self._buffers) <= IN_FLIGHT:
            self._buffer = bytearray(min(WRITE_CHUNK, self._remaining))
            self._buffers.append(self._buffer)
        else:
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        self._fail(_cut_short())
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(_cut_short() if exc is None else httpx.ReadError(str(exc)))

    def _fail(self, error: httpx.TransportError) -> None:
        if self._remaining > 0 and self._failure is None:
            self._failure = error
        self._wake.set()

    def reuse(self, batch: list[Chunk]) -> None:
        for chunk in batch:
            if not isinstance(chunk, memoryview):
                continue
            buffer = next((mine for mine in self._buffers if mine is chunk.obj), None)
            if buffer is None:
                continue
            chunk.release()
            if self._buffer is None and self._remaining > 0 and self._failure is None:
                self._buffer = buffer
                self._transport.resume_reading()
            else:
                self._spare.append(buffer)

    async def batches(self, timeout: float) -> AsyncIterator[memoryview]:
        """Full buffers in order; ReadTimeout after `timeout` seconds without a byte."""
        while True:
            while not self._full:
                if self._failure is not None:
                    raise self._failure
                if self._remaining == 0:
                    return
                seen = self._received
                self._wake.clear()
                with anyio.move_on_after(timeout) as waited:
                    await self._wake.wait()
                if waited.cancelled_caught and self._received == seen:
                    raise httpx.ReadTimeout(f"no data for {timeout:g} seconds")
            yield self._full.popleft()


def fetch_timeout(limits: FetchLimits) -> httpx.Timeout:
    return httpx.Timeout(
        connect=limits.connect_seconds,
        read=limits.read_seconds,
        write=limits.read_seconds,
        pool=limits.connect_seconds,
    )
