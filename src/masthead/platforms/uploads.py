"""Resuming an upload: a file's bytes from the offset where the platform says it stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator

from masthead.platforms.base import MediaFile, MediaSource


async def chunks_from(
    media: MediaSource, file: MediaFile, offset: int, size: int
) -> AsyncIterator[tuple[int, bytes]]:
    """(start, bytes) chunks of `size` from `offset` (chunk boundaries follow the offset, so
    every chunk but the last stays a multiple of a platform's unit when the offset is one)."""
    position = 0
    pending = bytearray()
    start = offset
    async for piece in media.chunks(file, size):
        end = position + len(piece)
        if end > offset:
            pending += piece[max(0, offset - position) :]
        position = end
        while len(pending) >= size:
            yield start, bytes(pending[:size])
            del pending[:size]
            start += size
    if pending:
        yield start, bytes(pending)
