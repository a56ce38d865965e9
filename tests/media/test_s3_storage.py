"""S3Storage against moto's S3 server on 127.0.0.1: what only the bucket backend does (prefixes,
presigned PUTs, multipart, ranged GETs on the wire, configuration). The behaviour it shares with
local disk is in test_storage_contract.py."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from masthead.media.s3 import S3Location, S3Options, parse_store_url
from masthead.media.storage import MediaStorage, open_storage
from tests.conftest import make_settings
from tests.support.s3 import MotoS3

REPO = Path(__file__).resolve().parents[2]
DATA = bytes(range(256)) * 40


def write_file(path: Path, data: bytes) -> tuple[str, Path]:
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest(), path


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoS3]:
    with MotoS3() as server:
        yield server


@pytest.fixture
def s3_client(moto: MotoS3) -> Any:
    return moto.client()


@pytest.fixture
def bucket(moto: MotoS3) -> str:
    return moto.new_bucket()


async def read_all(
    storage: MediaStorage, key: str, start: int = 0, end: int | None = None
) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, start, end)])


def stored_keys(s3_client: Any, bucket: str) -> list[str]:
    listing = s3_client.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


# --- where objects go -----------------------------------------------------------------------


async def test_objects_are_stored_under_the_prefix(
    moto: MotoS3, s3_client: Any, bucket: str, tmp_path: Path
) -> None:
    storage = moto.storage(f"s3://{bucket}/tenant/media/", tmp_path)
    key, source = write_file(tmp_path / "a.png", DATA)
    await storage.put(key, source, "image/png")
    assert stored_keys(s3_client, bucket) == [f"tenant/media/{key}"]


async def test_without_a_prefix_objects_are_stored_at_the_bucket_root(
    moto: MotoS3, s3_client: Any, bucket: str, tmp_path: Path
) -> None:
    storage = moto.storage(f"s3://{bucket}", tmp_path)
    key, source = write_file(tmp_path / "a.png", DATA)
    await storage.put(key, source, "image/png")
    assert stored_keys(s3_client, bucket) == [key]


async def test_stores_with_different_prefixes_do_not_see_each_others_objects(
    moto: MotoS3, bucket: str, tmp_path: Path
) -> None:
    first = moto.storage(f"s3://{bucket}/one", tmp_path)
    second = moto.storage(f"s3://{bucket}/two", tmp_path)
    key, source = write_file(tmp_path / "a.png", DATA)
    await first.put(key, source, "image/png")
    assert await first.size(key) == len(DATA)
    assert await second.size(key) is None


async def test_the_object_keeps_the_content_type_it_was_put_with(
    moto: MotoS3, s3_client: Any, bucket: str, tmp_path: Path
) -> None:
    storage = moto.storage(f"s3://{bucket}", tmp_path)
    key, source = write_file(tmp_path / "a.webp", DATA)
    await storage.put(key, source, "image/webp")
    assert s3_client.head_object(Bucket=bucket, Key=key)["ContentType"] == "image/webp"


# --- content addressing -----------------------------------------------------------------------


async def test_put_skips_the_upload_when_an_object_of_that_size_is_there(
    moto: MotoS3, s3_client: Any, bucket: str, tmp_path: Path
) -> None:
    storage = moto.storage(f"s3://{bucket}", tmp_path)
    key, source = write_file(tmp_path / "a.png", DATA)
    await storage.put(key, source, "image/png")
    # Same key and size: by content addressing the same bytes, so no second upload. Swapping the
    # stored bytes behind its back shows whether it uploaded again.
    s3_client.put_object(Bucket=bucket, Key=key, Body=b"x" * len(DATA))
    await storage.put(key, source, "image/png")
    assert await read_all(storage, key) == b"x" * len(DATA)


async def test_put_replaces_an_object_of_another_size(
    moto: MotoS3, s3_client: Any, bucket: str, tmp_path: Path
) -> None:
    storage = moto.storage(f"s3://{bucket}", tmp_path)
    key, source = write_file(tmp_path / "a.png", DATA)
    s3_client.put_object(Bucket=bucket, Key=key, Body=b"truncated")
    await storage.put(key, source, "image/png")
    assert await read_all(storage, key) == DATA


# --- presigned uploads ------------------------------------------------------------------------


async def test_a_presigned_put_from_a_plain_client_can_be_downloaded(
    moto: MotoS3, bucket: str, tmp_path: Path
) -> None:
    storage = moto.storage(f"s3://{bucket}/media", tmp_path)
    url = await storage.presign_put("upload-7f3a", timedelta(minutes=10), "video/mp4")
    assert url is not None
    async with httpx.AsyncClient() as client:
        response = await client.put(url, content=DATA, headers={"Content-Type": "video/mp4"})
    assert response.status_code == 200
    dest = tmp_path / "uploaded.bin"
    assert await storage.download("upload-7f3a", dest, cap=1024 * 1024) == len(DATA)
    assert dest.read_bytes() == DATA


async def test_a_presigned_url_names_the_prefixed_key_and_expires(
    moto: MotoS3, bucket: str, tmp_path: Path
) -> None:
    """moto accepts any signature, so this checks what the URL asks for; the signing itself is
    obstore's (SigV4 query signing)."""
    storage = moto.storage(f"s3://{bucket}/media", tmp_path)
    url = await storage.presign_put("upload-7f3a", timedelta(minutes=10), "image/png")
    assert url is not None
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path == f"/{bucket}/media/upload-7f3a"
    assert query["X-Amz-Expires"] == ["600"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].startswith("test-key-id/")
    assert "test-secret-key" not in url


# --- large files ------------------------------------------------------------------------------


def test_a_40_mib_file_is_put_in_parts_with_bounded_memory(
    moto: MotoS3, s3_client: Any, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    with source.open("wb") as out:
        for _ in range(40):
            out.write(os.urandom(1024 * 1024))
    probe = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.media.memory_probe",
            f"s3://{bucket}/media",
            moto.endpoint,
            str(source),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    measured = json.loads(probe.stdout)
    assert measured["size"] == 40 * 1024 * 1024
    # The whole file never sat in memory, on the way up or down. Two 5 MiB parts in flight and
    # obstore's buffers of them peak at 15-25 MiB (measured 2026-12-04 at load 8): a bound of
    # 20 would fail a streamed put, and a buffered one passes 40 (the whole file).
    assert measured["put_growth_mib"] < 40, measured
    assert measured["download_growth_mib"] < 8, measured
    # Eight 5 MiB parts: S3 marks a multipart object's ETag with its part count.
    etag = s3_client.head_object(Bucket=bucket, Key="media/big")["ETag"]
    assert etag.strip('"').endswith("-8")
    assert (tmp_path / "big.copy").read_bytes() == source.read_bytes()


class CountingRelay:
    """A TCP relay in front of moto that counts the bytes the server sends back, to see what a
    read really fetched on the wire."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.received = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        try:
            while data := source.recv(65536):
                if count:
                    with self._lock:
                        self.received += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            source.close()
            sink.close()

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def relay(moto: MotoS3) -> Iterator[CountingRelay]:
    counting = CountingRelay(moto.port)
    yield counting
    counting.close()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(0, 100, id="first-bytes"),
        pytest.param(2_000_000, 2_000_100, id="middle"),
        pytest.param(4 * 1024 * 1024 - 100, None, id="suffix-to-end"),
    ],
)
async def test_a_range_read_fetches_only_the_range(
    moto: MotoS3,
    relay: CountingRelay,
    bucket: str,
    tmp_path: Path,
    start: int,
    end: int | None,
) -> None:
    data = os.urandom(4 * 1024 * 1024)
    key, source = write_file(tmp_path / "video.mp4", data)
    await moto.storage(f"s3://{bucket}", tmp_path).put(key, source, "video/mp4")
    storage = moto.storage(f"s3://{bucket}", tmp_path, endpoint=f"http://127.0.0.1:{relay.port}")
    assert await read_all(storage, key, start, end) == data[start:end]
    assert 100 <= relay.received < 8 * 1024  # the 100 bytes and the response headers


# --- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("s3://media-bucket", S3Location("media-bucket", "")),
        ("s3://media-bucket/", S3Location("media-bucket", "")),
        ("s3://media-bucket/masthead", S3Location("media-bucket", "masthead")),
        ("s3://media.example.com/a/b/", S3Location("media.example.com", "a/b")),
        ("S3://media-bucket/x", S3Location("media-bucket", "x")),
    ],
)
def test_a_store_url_names_the_bucket_and_prefix(url: str, location: S3Location) -> None:
    assert parse_store_url(url) == location


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://", "names no bucket"),
        ("s3:///prefix", "names no bucket"),
        ("s3://Media_Bucket", "not a valid bucket name"),
        ("s3://ab", "not a valid bucket name"),
        ("s3://media-bucket:9000/x", "not a valid bucket name"),
        ("s3://media-bucket?region=eu-west-1", "no \\?query"),
        ("s3://media-bucket/a#b", "no \\?query"),
        ("s3://media-bucket/a//b", "empty, '.' or '..' segment"),
        ("s3://media-bucket/a/../b", "empty, '.' or '..' segment"),
    ],
)
def test_a_malformed_store_url_is_refused_with_the_reason(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_store_url(url)


def test_credentials_in_the_store_url_are_refused_without_repeating_them(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match="must not carry credentials") as refused:
        open_storage(make_settings(tmp_path, media_store="s3://AKID:hunter2secret@media/x"))
    assert "hunter2secret" not in str(refused.value)


@pytest.mark.parametrize("store", ["gs://media-bucket", "s3", "/var/media", "LOCAL"])
def test_an_unknown_media_store_is_refused(tmp_path: Path, store: str) -> None:
    with pytest.raises(ValueError, match="must be 'local' or s3://bucket/prefix"):
        open_storage(make_settings(tmp_path, media_store=store))


def test_an_access_key_without_its_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="must be set together"):
        S3Options(access_key_id="test-key-id")


def test_settings_become_options_and_the_secret_is_never_shown(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        media_store="s3://media-bucket/masthead",
        s3_endpoint_url="https://s3.example.internal",
        s3_region="eu-west-1",
        s3_access_key_id="AKIDEXAMPLE",
        s3_secret_access_key="hunter2secret",
    )
    options = S3Options.from_settings(settings)
    assert options == S3Options(
        "https://s3.example.internal", "eu-west-1", "AKIDEXAMPLE", "hunter2secret"
    )
    assert "hunter2secret" not in repr(options)
    assert "hunter2secret" not in repr(settings)
    assert "hunter2secret" not in str(settings.model_dump())


async def test_unset_options_fall_back_to_the_aws_environment(
    monkeypatch: pytest.MonkeyPatch, moto: MotoS3, bucket: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
    storage = open_storage(make_settings(tmp_path, media_store=f"s3://{bucket}"))
    key, source = write_file(tmp_path / "a.png", DATA)
    await storage.put(key, source, "image/png")
    assert await storage.size(key) == len(DATA)
