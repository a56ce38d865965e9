"""A MediaSource over files held in memory, for publisher tests that do not need the media
pipeline itself (that is tested in tests/media/)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

from masthead.platforms.base import MediaFile, Permanent


class StaticMedia:
    """`add` a file under a URL; `file(url)` then answers as the pipeline would."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[MediaFile, bytes]] = {}

    def add(
        self,
        url: str,
        data: bytes,
        content_type: str,
        *,
        width: int | None = None,
        height: int | None = None,
        duration: float | None = None,
    ) -> MediaFile:
        file = MediaFile(
            url=url,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            width=width,
            height=height,
            duration=duration,
        )
        self._files[url] = (file, data)
        return file

    async def file(self, url: str) -> MediaFile:
        try:
            return self._files[url][0]
        except KeyError:
            raise Permanent(f"Media {url} could not be fetched") from None

    async def chunks(
        self, file: MediaFile, chunk_size: int = 4 * 1024 * 1024
    ) -> AsyncIterator[bytes]:
        data = self._files[file.url][1]
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]

    async def read(self, file: MediaFile) -> bytes:
        return self._files[file.url][1]
