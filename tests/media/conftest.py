"""Storage backends for the media tests: local disk, and S3 against moto's server on 127.0.0.1
(the real HTTP API, started here and stopped at the end; nothing leaves the machine)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from masthead.media.s3 import S3Options
from masthead.media.storage import LocalStorage, MediaStorage, open_storage

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_options(moto_endpoint: str) -> S3Options:
    return S3Options(
        endpoint_url=moto_endpoint,
        region=REGION,
        access_key_id="test-key-id",
        secret_access_key="test-secret-key",
    )


@pytest.fixture
def s3_client(moto_endpoint: str) -> Any:
    """A plain boto3 client, to set up buckets and to look at what S3Storage left there."""
    return boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id="test-key-id",
        aws_secret_access_key="test-secret-key",
    )


@pytest.fixture
def bucket(s3_client: Any) -> str:
    """A new bucket per test, so tests never see each other's objects."""
    name = f"media-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MediaStorage]:
    """Each backend in turn, so both are held to one contract."""
    store: MediaStorage
    if request.param == "local":
        store = LocalStorage(tmp_path / "media")
    else:
        bucket: str = request.getfixturevalue("bucket")
        options: S3Options = request.getfixturevalue("s3_options")
        store = open_storage(f"s3://{bucket}/masthead/media", tmp_path, options)
    yield store
    await store.aclose()
