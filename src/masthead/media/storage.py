"""Where media bytes live: one interface, local disk by default, S3-compatible for many machines.

Objects are content-addressed (the key is the sha256 of the bytes), so the same file uploaded
twice is stored once and a stored object never changes: writes can be retried freely, readers
never see a half-written file, and ETags are the hash.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import anyio

from masthead.private_files import private_dir

if TYPE_CHECKING:
    from masthead.config import Settings

READ_CHUNK = 1024 * 1024


def checked_key(key: str) -> str:
    """Keys are flat names (a sha256, an upload token): never a path that could climb out of
    the media folder or the bucket prefix."""
    if not key or "/" in key or key.startswith("."):
        raise ValueError(f"invalid media key {key!r}")
    return key


class MediaStorage(Protocol):
    async def put(self, key: str, source: Path, content_type: str) -> None:
        """Store the file at `source` under `key` (idempotent: same key, same bytes)."""
        ...

    async def size(self, key: str) -> int | None:
        """The stored size in bytes, or None when the key is not stored."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes `start` to `end` (exclusive; None = to the end), in chunks."""
        ...

    async def presign_put(self, key: str, expires: timedelta, content_type: str) -> str | None:
        """A URL the client can PUT bytes to directly, or None when Masthead takes the PUT
        itself (local disk)."""
        ...

    async def download(self, key: str, dest: Path, cap: int) -> int:
        """Copy an object (a client's direct upload) to a local file, refusing more than `cap`
        bytes; returns the size. Raises FileNotFoundError when it is not there."""
        ...

    async def delete(self, key: str) -> None: ...

    async def aclose(self) -> None: ...


class LocalStorage:
    """Files under `<data dir>/media/`, two levels of fan-out so no folder grows huge."""

    def __init__(self, root: Path) -> None:
        self.root = root
        private_dir(self.root)

    def path(self, key: str) -> Path:
        checked_key(key)
        return self.root / key[:2] / key[2:4] / key

    async def put(self, key: str, source: Path, content_type: str) -> None:
        await anyio.to_thread.run_sync(self._put, key, source)

    def _put(self, key: str, source: Path) -> None:
        target = self.path(key)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{key}.{os.getpid()}.partial")
        try:
            os.link(source, partial)  # same file system: no copy
        except OSError:
            shutil.copyfile(source, partial)
            _fsync(partial, os.O_RDONLY)  # a linked source was fsynced; a copy is not yet
        os.replace(partial, target)  # atomic: readers see all of it or nothing
        _fsync(
            target.parent, os.O_RDONLY | os.O_DIRECTORY
        )  # the name is durable too, before the caller answers

    async def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except (FileNotFoundError, ValueError):
            return None

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self.path(key), "rb") as handle:
            await handle.seek(start)
            remaining = None if end is None else end - start
            while remaining is None or remaining > 0:
                want = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
                chunk = await handle.read(want)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    async def presign_put(self, key: str, expires: timedelta, content_type: str) -> str | None:
        return None

    async def download(self, key: str, dest: Path, cap: int) -> int:
        source = self.path(key)
        size = source.stat().st_size
        if size > cap:
            raise OverflowError(size)
        await anyio.to_thread.run_sync(shutil.copyfile, source, dest)
        return size

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            self.path(key).unlink()

    async def aclose(self) -> None:
        return None


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_storage(settings: Settings) -> MediaStorage:
    """`MASTHEAD_MEDIA_STORE`: `local` (the default, under the data dir) or `s3://bucket/prefix`
    with the `MASTHEAD_S3_*` settings (unset ones come from the AWS environment)."""
    media_store = settings.media_store
    if media_store == "local":
        return LocalStorage(settings.data_dir / "media")
    if media_store.lower().startswith("s3://"):
        # Imported here so that a local-disk deployment never loads obstore's native library.
        from masthead.media.s3 import S3Options, S3Storage, parse_store_url

        return S3Storage(parse_store_url(media_store), S3Options.from_settings(settings))
    raise ValueError(
        f"MASTHEAD_MEDIA_STORE must be 'local' or s3://bucket/prefix, not {media_store!r}"
    )
