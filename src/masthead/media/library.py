"""The media pipeline as one object: take a file in (URL, data: URI, PUT body), check it, store
it once by content, record it for the user, and hand it to publishers in a form their platform
accepts.

Every entry point goes fetch → inspect → store → record; only the source differs. Temp files
live in `<data dir>/tmp` (same file system as local storage, so storing is a rename).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import anyio
import httpx
from sqlalchemy.engine import Connection

from masthead.config import Settings
from masthead.domain.files import MediaFile
from masthead.domain.media import MediaFacts, needs_conversion
from masthead.domain.outcomes import Permanent
from masthead.domain.rules import FileRules
from masthead.media import convert
from masthead.media.fetch import (
    Fetched,
    FetchError,
    FetchLimits,
    decode_data_uri,
    download,
    fetch_timeout,
    write_stream,
)
from masthead.media.inspect import EXTENSIONS, inspect
from masthead.media.storage import MediaStorage, open_storage
from masthead.net.client import safe_async_client
from masthead.store import media as records
from masthead.store import users
from masthead.store.database import Database
from masthead.timeutil import utcnow

_BLOB_PATH = re.compile(r"^/media/([0-9a-f]{64})\.[a-z0-9]+$")
_UPLOAD_PATH = re.compile(r"^/media/u/([0-9a-f-]{36})$")


@dataclass(frozen=True, slots=True)
class Ingested:
    media_id: str
    blob: records.Blob


@dataclass(frozen=True, slots=True)
class HostedRef:
    """A Masthead-hosted URL: a stored blob, or a presigned upload's publicUrl."""

    sha256: str | None = None
    upload_id: str | None = None


class QuotaExceeded(FetchError):
    """The user's stored media would pass MASTHEAD_MEDIA_QUOTA_BYTES or _FILES (413)."""


@dataclass(frozen=True, slots=True)
class MediaQuota:
    """Per user; 0 means no limit."""

    bytes: int
    files: int

    @property
    def limited(self) -> bool:
        return bool(self.bytes or self.files)

    def problem(self, usage: records.Usage, adding: int) -> str | None:
        """Why one more file of `adding` bytes does not fit, or None."""
        if self.files and usage.files + 1 > self.files:
            return f"Media quota reached: {usage.files} files stored, at most {self.files}"
        if self.bytes and usage.bytes + adding > self.bytes:
            return (
                f"Media quota reached: {usage.bytes:,} bytes stored, this file is {adding:,},"
                f" at most {self.bytes:,}"
            )
        return None


def source_digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


class MediaLibrary:
    def __init__(self, db: Database, settings: Settings, storage: MediaStorage | None = None):
        self._db = db
        self.storage = storage or open_storage(settings)
        self._public = settings.public_url.rstrip("/")
        self._public_url = httpx.URL(self._public)
        self._allow = settings.fetch_allow
        self._tmp = settings.data_dir / "tmp"
        self.upload_expiry = timedelta(seconds=settings.media_upload_expiry_seconds)
        self.limits = FetchLimits(
            max_bytes=settings.media_max_bytes,
            connect_seconds=settings.media_connect_timeout_seconds,
            read_seconds=settings.media_read_timeout_seconds,
            total_seconds=settings.media_fetch_timeout_seconds,
        )
        self._client = safe_async_client(
            allow=self._allow,
            timeout=fetch_timeout(self.limits),
            only_allowed=settings.fetch_only_allowed,
        )
        self.quota = MediaQuota(settings.media_quota_bytes, settings.media_quota_files)
        self._inflight: dict[tuple[str, str], asyncio.Task[records.Blob]] = {}
        self._background: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[None, None, None]) -> None:
        """Run `work` beside the request that started it (ingest right after a post is
        accepted); cancelled at shutdown, when the worker's publish ingests instead."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settle(self) -> None:
        """Wait for the background ingests running now (tests, and a graceful drain)."""
        await asyncio.gather(*list(self._background), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self._client.aclose()
        await self.storage.aclose()

    # URLs -----------------------------------------------------------------------------

    def url_of(self, blob: records.Blob) -> str:
        return f"{self._public}/media/{blob.sha256}.{EXTENSIONS[blob.facts.content_type]}"

    def upload_url(self, upload_id: str) -> str:
        return f"{self._public}/media/u/{upload_id}"

    @staticmethod
    def upload_key(upload_id: str) -> str:
        """Where a client's direct (S3 presigned) upload lands before it is checked."""
        return f"upload-{upload_id}"

    def hosted(self, url: str) -> HostedRef | None:
        """Whether `url` points at media this server hosts (then it is never fetched)."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            return None
        base = self._public_url
        if (parsed.scheme, parsed.host, parsed.port) != (base.scheme, base.host, base.port):
            return None
        prefix = base.path.rstrip("/")
        if not parsed.path.startswith(prefix + "/media/"):
            return None
        path = parsed.path[len(prefix) :]
        if match := _BLOB_PATH.match(path):
            return HostedRef(sha256=match.group(1))
        if match := _UPLOAD_PATH.match(path):
            return HostedRef(upload_id=match.group(1))
        return None

    # Taking files in ------------------------------------------------------------------

    async def ingest_url(self, user_id: str, url: str, *, remember_source: bool) -> Ingested:
        """POST /v2/media and a post's external `mediaUrls`. `remember_source` records the URL
        (by digest) so that publishing finds the copy instead of fetching again."""
        if not url.strip():
            raise FetchError("URL is empty")
        hosted = self.hosted(url)
        if hosted is not None:
            blob = await self.hosted_blob(hosted)
            if blob is None:
                raise FetchError("Media URL points at this server but no such media is stored")
            return await self._record(user_id, blob, None)
        await self._check_quota(user_id, None, 0)
        if url[:5].lower() == "data:":
            fetched = await anyio.to_thread.run_sync(
                decode_data_uri, url, self._tmp, self.limits.max_bytes
            )
        else:
            fetched = await download(self._client, url, self._tmp, self.limits, self._allow)
        digest = source_digest(url) if remember_source else None
        return await self._store(user_id, fetched, digest)

    async def ingest_stream(self, user_id: str, chunks: AsyncIterable[bytes]) -> Ingested:
        """A presigned PUT's body, streamed under the same cap."""
        await self._check_quota(user_id, None, 0)
        fetched = await write_stream(chunks, self._tmp, self.limits.max_bytes)
        return await self._store(user_id, fetched, None)

    async def _store(
        self, user_id: str, fetched: Fetched, digest: str | None, *, keep_source: bool = False
    ) -> Ingested:
        try:
            await self._check_quota(user_id, fetched.sha256, fetched.size)
            facts = await anyio.to_thread.run_sync(inspect, fetched.path, fetched.size)
            await self.storage.put(fetched.sha256, fetched.path, facts.content_type)
        finally:
            if not keep_source:
                fetched.path.unlink(missing_ok=True)
        blob = records.Blob(fetched.sha256, facts)

        def save(conn: Connection) -> str:
            records.save_blob(conn, blob.sha256, facts, utcnow())
            return self._add_media(conn, user_id, blob, digest)

        return Ingested(await self._db.write(save), blob)

    async def _record(self, user_id: str, blob: records.Blob, digest: str | None) -> Ingested:
        media_id = await self._db.write(lambda c: self._add_media(c, user_id, blob, digest))
        return Ingested(media_id, blob)

    def _add_media(
        self, conn: Connection, user_id: str, blob: records.Blob, digest: str | None
    ) -> str:
        """The user's record of a file, within their quota (checked under the user's lock, so
        that parallel ingests cannot pass it together)."""
        if self.quota.limited:
            users.lock(conn, user_id)
        if self.quota.limited and not records.owns(conn, user_id, blob.sha256):
            problem = self.quota.problem(records.usage(conn, user_id), blob.facts.size)
            if problem is not None:
                raise QuotaExceeded(problem)
        return records.add_media(
            conn, user_id=user_id, sha256=blob.sha256, source_digest=digest, now=utcnow()
        )

    async def _check_quota(self, user_id: str, sha256: str | None, size: int) -> None:
        """Before a download (size 0: is there room at all?) and before storing, so that a
        user past the quota costs neither; `_add_media` decides for certain."""
        if not self.quota.limited:
            return

        def look(conn: Connection) -> str | None:
            if sha256 is not None and records.owns(conn, user_id, sha256):
                return None
            return self.quota.problem(records.usage(conn, user_id), size)

        problem = await self._db.read(look)
        if problem is not None:
            raise QuotaExceeded(problem)

    # Finding files --------------------------------------------------------------------

    async def hosted_blob(self, ref: HostedRef) -> records.Blob | None:
        if ref.sha256 is not None:
            sha = ref.sha256
            return await self._db.read(lambda c: records.blob(c, sha))
        assert ref.upload_id is not None
        upload_id = ref.upload_id
        found = await self._db.read(lambda c: records.upload_blob(c, upload_id))
        if found is None:
            found = await self._collect_direct_upload(upload_id)
        return found

    async def _collect_direct_upload(self, upload_id: str) -> records.Blob | None:
        """With S3 the client PUTs straight to the bucket, so Masthead learns of the file when
        it is first used: check it like any other file, then store it by content."""
        upload = await self._db.read(lambda c: records.get_upload(c, upload_id))
        if upload is None or upload.media_id is not None:
            return None
        key = self.upload_key(upload_id)
        if await self.storage.size(key) is None:
            return None
        self._ensure_tmp()
        with tempfile.NamedTemporaryFile(dir=self._tmp, suffix=".upload") as handle:
            path = Path(handle.name)
            try:
                size = await self.storage.download(key, path, self.limits.max_bytes)
            except OverflowError:
                raise FetchError("Uploaded file is larger than the upload limit") from None
            data_hash = await anyio.to_thread.run_sync(_sha256_file, path)
            fetched = Fetched(path, size, data_hash)
            try:
                ingested = await self._store(upload.user_id, fetched, None, keep_source=True)
            except FetchError:
                await self.storage.delete(key)  # refused for good: never looked at again
                raise
        await self._db.write(lambda c: records.complete_upload(c, upload_id, ingested.media_id))
        await self.storage.delete(key)
        return ingested.blob

    async def facts(self, urls: list[str]) -> list[MediaFacts | None]:
        """Request-time knowledge of a post's media: facts of hosted files, None for files
        still to be fetched. Raises FetchError for a hosted URL with nothing behind it."""
        known: list[MediaFacts | None] = []
        for url in urls:
            ref = self.hosted(url)
            if ref is None:
                known.append(None)
                continue
            blob = await self.hosted_blob(ref)
            if blob is None:
                if ref.upload_id is not None:
                    raise FetchError(
                        "Media URL is a presigned upload that has not received its file yet"
                    )
                raise FetchError("Media URL points at this server but no such media is stored")
            known.append(blob.facts)
        return known

    async def blob_for(self, user_id: str, url: str) -> records.Blob:
        """What a post's media URL refers to, ingesting it now if that has not happened."""
        ref = self.hosted(url)
        if ref is not None:
            blob = await self.hosted_blob(ref)
            if blob is None:
                raise FetchError("Media URL points at this server but no such media is stored")
            return blob
        digest = source_digest(url)
        found = await self._db.read(lambda c: records.media_by_source(c, user_id, digest))
        if found is not None:
            return found
        # The post's ingest and its publish may ask at once: fetch once, both wait.
        key = (user_id, digest)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._ingest_source(user_id, url))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(task)

    async def _ingest_source(self, user_id: str, url: str) -> records.Blob:
        return (await self.ingest_url(user_id, url, remember_source=True)).blob

    async def for_platform(self, blob: records.Blob, rules: FileRules) -> records.Blob:
        """The blob itself, or its converted variant when the platform needs one (made once,
        then reused by every post that uses the same file)."""
        if not needs_conversion(rules, blob.facts):
            return blob
        limit = rules.max_image_bytes if rules.reencode_oversize else None
        name = convert.recipe(limit)
        existing = await self._db.read(lambda c: records.variant(c, blob.sha256, name))
        if existing is not None:
            return existing
        with tempfile.TemporaryDirectory(dir=self._ensure_tmp()) as work:
            source = Path(work) / "source"
            await self.storage.download(blob.sha256, source, self.limits.max_bytes)
            target = Path(work) / "variant.jpg"
            try:
                await anyio.to_thread.run_sync(convert.to_jpeg, source, target, limit)
            except ValueError as exc:
                raise FetchError(f"Image cannot be converted: {exc}") from None
            sha = await anyio.to_thread.run_sync(_sha256_file, target)
            size = (await anyio.Path(target).stat()).st_size
            facts = await anyio.to_thread.run_sync(inspect, target, size)
            await self.storage.put(sha, target, facts.content_type)
        variant = records.Blob(sha, facts)

        def save(conn: Connection) -> None:
            records.save_blob(conn, sha, facts, utcnow())
            records.save_variant(conn, blob.sha256, name, sha)

        await self._db.write(save)
        return variant

    def _ensure_tmp(self) -> Path:
        self._tmp.mkdir(parents=True, exist_ok=True)
        return self._tmp

    def media_file(self, blob: records.Blob) -> MediaFile:
        facts = blob.facts
        return MediaFile(
            url=self.url_of(blob),
            content_type=facts.content_type,
            size=facts.size,
            sha256=blob.sha256,
            width=facts.width,
            height=facts.height,
            duration=facts.duration,
        )


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class PostMedia:
    """The MediaSource a publisher gets for one post: files in the form its platform takes."""

    def __init__(self, library: MediaLibrary, user_id: str, rules: FileRules) -> None:
        self._library = library
        self._user_id = user_id
        self._rules = rules

    async def file(self, url: str) -> MediaFile:
        try:
            blob = await self._library.blob_for(self._user_id, url)
            blob = await self._library.for_platform(blob, self._rules)
        except FetchError as exc:
            raise Permanent(exc.message) from None
        return self._library.media_file(blob)

    async def chunks(
        self, file: MediaFile, chunk_size: int = 4 * 1024 * 1024
    ) -> AsyncIterator[bytes]:
        buffer = bytearray()
        async for piece in self._library.storage.read(file.sha256):
            buffer += piece
            while len(buffer) >= chunk_size:
                yield bytes(buffer[:chunk_size])
                del buffer[:chunk_size]
        if buffer:
            yield bytes(buffer)

    async def read(self, file: MediaFile) -> bytes:
        parts = [piece async for piece in self._library.storage.read(file.sha256)]
        return b"".join(parts)
