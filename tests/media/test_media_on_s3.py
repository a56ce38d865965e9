"""The media endpoints with MASTHEAD_MEDIA_STORE=s3://...: files land in the bucket, presigned
uploads go straight to it, and Masthead still serves everything (with ranges) itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings
from tests.media.conftest import path_of, post_media
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Harness, running_app
from tests.support.s3 import KEY_ID, REGION, SECRET, MotoS3


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoS3]:
    with MotoS3() as server:
        yield server


@pytest.fixture
async def s3_app(tmp_path: Path, files: FileServer, moto: MotoS3) -> AsyncIterator[Harness]:
    settings = make_settings(
        tmp_path,
        fetch_allow=files.allow,
        api_rate_limits="off",
        media_store=f"s3://{moto.new_bucket()}/masthead",
        s3_endpoint_url=moto.endpoint,
        s3_region=REGION,
        s3_access_key_id=KEY_ID,
        s3_secret_access_key=SECRET,
    )
    async with running_app(settings, run_worker=False) as running:
        yield running


def bucket_keys(moto: MotoS3, media_store: str) -> list[str]:
    bucket = media_store.removeprefix("s3://").split("/")[0]
    listing = moto.client().list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


async def test_fetched_media_is_stored_in_the_bucket_and_served_in_ranges(
    s3_app: Harness, files: FileServer, moto: MotoS3
) -> None:
    caller = await s3_app.user()
    data = samples.video(2.0)

    response = await post_media(s3_app, caller, files.add("clip.mp4", data))
    assert response.status_code == 201, response.text
    ranged = await s3_app.client.get(
        path_of(response.json()["url"]), headers={"Range": "bytes=100-199"}
    )

    sha = response.json()["url"].rsplit("/", 1)[1].split(".")[0]
    assert bucket_keys(moto, s3_app.settings.media_store) == [f"masthead/{sha}"]
    assert ranged.status_code == 206
    assert ranged.content == data[100:200]
    assert not (s3_app.settings.data_dir / "media").exists()


async def test_presigned_upload_goes_to_the_bucket_and_is_checked_on_first_use(
    s3_app: Harness, moto: MotoS3
) -> None:
    caller = await s3_app.user()
    data = samples.image("JPEG")
    created = await s3_app.client.post(
        "/v2/media/uploads", json={"filename": "a.jpg"}, headers=caller.headers
    )
    upload = created.json()
    assert upload["presignedUrl"].startswith(moto.endpoint)

    async with httpx.AsyncClient() as plain:
        put = await plain.put(upload["presignedUrl"], content=data)
    served = await s3_app.client.get(path_of(upload["publicUrl"]))

    assert put.status_code == 200
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == "image/jpeg"
    keys = bucket_keys(moto, s3_app.settings.media_store)
    assert len(keys) == 1 and not keys[0].startswith("masthead/upload-")


async def test_direct_upload_of_a_disguised_file_is_never_served(
    s3_app: Harness, moto: MotoS3
) -> None:
    caller = await s3_app.user()
    created = await s3_app.client.post(
        "/v2/media/uploads", json={"filename": "a.jpg"}, headers=caller.headers
    )
    upload = created.json()
    async with httpx.AsyncClient() as plain:
        await plain.put(upload["presignedUrl"], content=b"<html><script>x</script></html>")

    served = await s3_app.client.get(path_of(upload["publicUrl"]))

    assert served.status_code == 404
    assert bucket_keys(moto, s3_app.settings.media_store) == []
