"""moto's S3 server on 127.0.0.1 for the storage tests: the real S3 HTTP API (path-style,
multipart, ranged GETs, presigned URLs), started by the tests; nothing leaves the machine.

moto accepts any credentials and does not check signatures, so these tests show what Masthead
asks of the bucket, not that AWS would accept its signatures (obstore signs, as for real S3).
"""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from masthead.media.storage import MediaStorage, open_storage
from tests.conftest import make_settings

REGION = "us-east-1"
KEY_ID = "test-key-id"
SECRET = "test-secret-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MotoS3:
    """`with MotoS3() as s3:` runs the server for the block."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def __enter__(self) -> MotoS3:
        self._server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.stop()

    def client(self) -> Any:
        """A plain boto3 client, to set buckets up and to look at what Masthead left there."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
        )

    def new_bucket(self) -> str:
        """A bucket of its own per test, so tests never see each other's objects."""
        name = f"media-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def storage(
        self, media_store: str, data_dir: Path, endpoint: str | None = None
    ) -> MediaStorage:
        """The store Masthead opens for `MASTHEAD_MEDIA_STORE=media_store` and this server."""
        settings = make_settings(
            data_dir,
            media_store=media_store,
            s3_endpoint_url=endpoint or self.endpoint,
            s3_region=REGION,
            s3_access_key_id=KEY_ID,
            s3_secret_access_key=SECRET,
        )
        return open_storage(settings)
