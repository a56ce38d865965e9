"""Decoding a compressed answer off the event loop, never past a cap on the decoded bytes.

httpx decodes `Content-Encoding` inside `aiter_bytes()`, on the event loop, as fast as the
wire delivers: a 1.1 MB gzip answer that expands to gigabytes held the loop for seconds
(/healthz took 1–2 s for 7–12 s). Here the raw bytes are inflated in a worker thread, at
most `PIECE` decoded bytes per hop, so neither the loop nor memory pays for a bomb, and the
caller counts decoded bytes as they come and stops at its cap.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterable, AsyncIterator

import httpx

PIECE = 4 * 1024 * 1024
"""Most decoded bytes made in one worker-thread hop (and held in memory at once)."""

_GZIP_OR_ZLIB = zlib.MAX_WBITS | 32
_RAW_DEFLATE = -zlib.MAX_WBITS
SUPPORTED = frozenset({"gzip", "x-gzip", "deflate"})


class EncodingRefused(Exception):
    """The answer is compressed in a way Masthead does not decode, or is cut short."""


class Oversized(Exception):
    """The decoded answer is longer than the caller's cap."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"answer is longer than {max_bytes:,} bytes")


def content_encoding(response: httpx.Response) -> str | None:
    """The one coding to undo (`gzip`, `deflate`), None for identity; EncodingRefused for
    any other coding or a stack of them (br and zstd need decoders we do not ship, and we
    ask for identity anyway)."""
    codings: list[str] = [
        part.strip().lower()
        for part in response.headers.get("content-encoding", "").split(",")
        if part.strip() and part.strip().lower() != "identity"
    ]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in SUPPORTED:
        return codings[0]
    raise EncodingRefused(
        f"answered with Content-Encoding {', '.join(codings)}, which Masthead does not decode"
    )


class Inflater:
    """A zlib stream (gzip, zlib-wrapped or raw deflate) decoded in bounded pieces. Its
    methods do the CPU work and are meant to run in a worker thread."""

    def __init__(self) -> None:
        # Servers send "deflate" both zlib-wrapped (as the RFC says) and raw; gzip and zlib
        # headers are told apart by zlib itself (+32), raw deflate on the first failure.
        self._z = zlib.decompressobj(_GZIP_OR_ZLIB)
        self._started = False
        self._pending = b""

    def feed(self, data: bytes) -> None:
        self._pending = data

    def take(self, limit: int) -> bytes:
        """Up to `limit` decoded bytes of what was fed; b"" once it is all decoded."""
        if not self._pending or self._z.eof:
            return b""
        try:
            out = self._z.decompress(self._pending, limit)
        except zlib.error:
            if self._started:
                raise EncodingRefused("sent a compressed body that is not valid") from None
            self._z = zlib.decompressobj(_RAW_DEFLATE)
            try:
                out = self._z.decompress(self._pending, limit)
            except zlib.error:
                raise EncodingRefused("sent a compressed body that is not valid") from None
        self._started = True
        self._pending = self._z.unconsumed_tail
        return out

    def finish(self) -> None:
        if not self._z.eof:
            raise EncodingRefused("sent a compressed body that ends before its end")


async def decoded(raw: AsyncIterable[bytes], max_bytes: int) -> AsyncIterator[bytes]:
    """The decoded bytes of the compressed stream `raw`, inflated in a worker thread; raises
    Oversized as soon as they pass `max_bytes` (having decoded at most one piece more)."""
    inflater = Inflater()
    total = 0
    async for chunk in raw:
        inflater.feed(chunk)
        while True:
            piece = await asyncio.to_thread(inflater.take, min(PIECE, max_bytes - total + 1))
            if not piece:
                break
            total += len(piece)
            if total > max_bytes:
                raise Oversized(max_bytes)
            yield piece
    inflater.finish()


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The whole (decoded) body of a streamed answer, refused past `max_bytes`: for small
    documents from hosts a user named (a handle's DID, a DID document)."""
    encoding = content_encoding(response)
    chunks = response.aiter_raw() if encoding is None else decoded(response.aiter_raw(), max_bytes)
    parts: list[bytes] = []
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise Oversized(max_bytes)
        parts.append(chunk)
    return b"".join(parts)
