"""Media in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, ...), for many machines.

Built on obstore (Rust's object_store): one dependency that streams uploads as multipart in
bounded memory, reads byte ranges with ranged GETs (HTTP Range requests never download a whole
video) and signs presigned URLs locally, without the boto stack.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio
import obstore
from obstore.exceptions import GenericError
from obstore.store import S3Store

from masthead.media.storage import READ_CHUNK, checked_key

if TYPE_CHECKING:
    from obstore import GetOptions
    from obstore.store import ClientConfig, S3Config

    from masthead.config import Settings

PART_SIZE = 5 * 1024 * 1024
"""S3's smallest part; 10,000 parts of it still hold 48 GiB, far past the 1 GiB media cap."""
PART_CONCURRENCY = 2
"""Parts in flight per upload: memory stays near (PART_CONCURRENCY + 1) × PART_SIZE."""
REQUEST_TIMEOUT = timedelta(hours=1)
"""Whole-request limit. obstore's default (30 s) would cut a video streamed to a slow client."""

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class S3Location:
    """Where media goes: a bucket and an optional key prefix (`""` for none)."""

    bucket: str
    prefix: str = ""


@dataclass(frozen=True)
class S3Options:
    """Connection settings; each one left as None falls back to the usual AWS environment
    variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, ...), then to instance
    or container credentials, as obstore resolves them."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError(
                "MASTHEAD_S3_ACCESS_KEY_ID and MASTHEAD_S3_SECRET_ACCESS_KEY must be set together"
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Options:
        secret = settings.s3_secret_access_key
        return cls(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
        )


def parse_store_url(url: str) -> S3Location:
    """`s3://bucket` or `s3://bucket/prefix/parts` from `MASTHEAD_MEDIA_STORE`."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "s3":
        raise ValueError(f"MASTHEAD_MEDIA_STORE must start with s3://, not {url!r}")
    if "@" in parts.netloc:
        # Not echoed: whatever stands before the @ may well be a secret.
        raise ValueError(
            "MASTHEAD_MEDIA_STORE must not carry credentials; use MASTHEAD_S3_ACCESS_KEY_ID "
            "and MASTHEAD_S3_SECRET_ACCESS_KEY"
        )
    if parts.query or parts.fragment:
        raise ValueError(
            f"MASTHEAD_MEDIA_STORE takes no ?query or #fragment ({url!r}); the endpoint and "
            "region are MASTHEAD_S3_ENDPOINT_URL and MASTHEAD_S3_REGION"
        )
    if not parts.netloc:
        raise ValueError(f"MASTHEAD_MEDIA_STORE names no bucket: {url!r} (s3://bucket/prefix)")
    if not _BUCKET.fullmatch(parts.netloc):
        raise ValueError(
            f"MASTHEAD_MEDIA_STORE bucket {parts.netloc!r} is not a valid bucket name "
            "(3 to 63 lowercase letters, digits, dots and hyphens; no port or host)"
        )
    prefix = parts.path.strip("/")
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise ValueError(
            f"MASTHEAD_MEDIA_STORE prefix {prefix!r} has an empty, '.' or '..' segment"
        )
    return S3Location(parts.netloc, prefix)


class S3Storage:
    """Objects stored as `<prefix>/<key>` in one bucket."""

    def __init__(self, location: S3Location, options: S3Options) -> None:
        self.location = location
        config: S3Config = {}
        endpoint = options.endpoint_url or ""
        if endpoint:
            config["endpoint"] = endpoint
        client: ClientConfig = {
            "timeout": REQUEST_TIMEOUT,
            # MinIO on a private network often speaks plain HTTP. Passing client options stops
            # obstore reading AWS_ALLOW_HTTP itself, so it is honoured here.
            "allow_http": endpoint.lower().startswith("http://")
            or os.environ.get("AWS_ALLOW_HTTP", "").lower() == "true",
        }
        if options.region:
            config["region"] = options.region
        if options.access_key_id and options.secret_access_key:
            config["access_key_id"] = options.access_key_id
            config["secret_access_key"] = options.secret_access_key
        self._store = S3Store(
            location.bucket,
            prefix=location.prefix or None,
            config=config,
            client_options=client,
        )

    async def put(self, key: str, source: Path, content_type: str) -> None:
        """Skips the upload when the object is already there with the same size: the key is
        the content's hash, so same key and size means the same bytes."""
        if await self.size(key) == (await anyio.Path(source).stat()).st_size:
            return
        await obstore.put_async(
            self._store,
            checked_key(key),
            source,
            attributes={"Content-Type": content_type},
            chunk_size=PART_SIZE,
            max_concurrency=PART_CONCURRENCY,
        )

    async def size(self, key: str) -> int | None:
        try:
            meta = await obstore.head_async(self._store, checked_key(key))
        except (FileNotFoundError, ValueError):
            return None
        return meta["size"]

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """One GET with a Range header for just the bytes asked for."""
        if end is not None and end <= start:
            return
        options: GetOptions = {}
        if end is not None:
            options["range"] = (start, end)
        elif start:
            options["range"] = {"offset": start}
        try:
            result = await obstore.get_async(self._store, checked_key(key), options=options)
        except GenericError:
            # S3 answers 416 to a range that starts at or past the end; a file just ends there.
            size = await self.size(key)
            if size is not None and start >= size:
                return
            raise
        async for chunk in result.stream(min_chunk_size=READ_CHUNK):
            yield bytes(chunk)

    async def presign_put(self, key: str, expires: timedelta, content_type: str) -> str | None:
        """The bucket's presigned PUT URL. obstore signs the Host header only, so the URL does
        not pin `content_type`: Masthead never trusts an uploader's type anyway (it sniffs the
        bytes after `download`), and the type served comes from Masthead, not the bucket."""
        return await obstore.sign_async(self._store, "PUT", checked_key(key), expires)

    async def download(self, key: str, dest: Path, cap: int) -> int:
        """Streams to `dest`; the size in the GET's headers is checked before any byte is
        written, and the count again while writing (an upload key can be overwritten)."""
        result = await obstore.get_async(self._store, checked_key(key))
        size = result.meta["size"]
        if size > cap:
            raise OverflowError(size)
        written = 0
        try:
            async with await anyio.open_file(dest, "wb") as out:
                async for chunk in result.stream(min_chunk_size=READ_CHUNK):
                    written += len(chunk)
                    if written > cap:
                        raise OverflowError(written)
                    await out.write(chunk)
        except BaseException:
            with anyio.CancelScope(shield=True):  # remove the partial file even when cancelled
                await anyio.Path(dest).unlink(missing_ok=True)
            raise
        return written

    async def delete(self, key: str) -> None:
        with contextlib.suppress(ValueError):
            await obstore.delete_async(self._store, checked_key(key))

    async def aclose(self) -> None:
        """Nothing to flush: obstore's connection pool goes with the store."""
        return None
