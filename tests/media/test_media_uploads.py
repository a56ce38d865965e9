"""POST /v2/media/uploads: a signed, expiring, single-use PUT URL, and a publicUrl that works
in mediaUrls once the bytes have arrived and passed the same checks as any other file."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.media.conftest import path_of
from tests.support import samples
from tests.support.harness import Caller, Harness


async def new_upload(app: Harness, caller: Caller, filename: str = "clip.mp4") -> dict[str, Any]:
    response = await app.client.post(
        "/v2/media/uploads", json={"filename": filename}, headers=caller.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def put(app: Harness, presigned: str, data: bytes) -> httpx.Response:
    url = httpx.URL(presigned)
    return await app.client.put(
        url.raw_path.decode(), content=data, headers={"Content-Type": "video/mp4"}
    )


async def test_upload_then_use_the_public_url(app: Harness, ada: Caller) -> None:
    upload = await new_upload(app, ada)
    data = samples.video(2.0)

    stored = await put(app, upload["presignedUrl"], data)
    served = await app.client.get(path_of(upload["publicUrl"]))

    assert stored.status_code == 200, stored.text
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == "video/mp4"


async def test_public_url_before_the_put_is_refused_in_a_post(app: Harness, ada: Caller) -> None:
    upload = await new_upload(app, ada)
    account = await app.account(ada, "webhook")

    response = await app.create_post(
        ada,
        {
            "post": {
                "accountId": account,
                "content": {"text": "x", "mediaUrls": [upload["publicUrl"]], "platform": "other"},
                "target": {"targetType": "webhook", "url": "https://hooks.example.com/x"},
            }
        },
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "post.content.mediaUrls[0]"
    assert "has not received its file yet" in response.json()["message"]


async def test_url_is_single_use(app: Harness, ada: Caller) -> None:
    upload = await new_upload(app, ada)
    assert (await put(app, upload["presignedUrl"], samples.video(2.0))).status_code == 200

    again = await put(app, upload["presignedUrl"], samples.image("JPEG"))

    assert again.status_code == 409


async def test_expired_url_is_refused(app: Harness, ada: Caller) -> None:
    upload = await new_upload(app, ada)
    url = httpx.URL(upload["presignedUrl"])
    expired = url.copy_merge_params({"expires": "1000"})

    response = await put(app, str(expired), samples.image("JPEG"))

    assert response.status_code == 403  # the signature covers the expiry: no extension


async def test_tampered_signature_is_refused(app: Harness, ada: Caller) -> None:
    upload = await new_upload(app, ada)
    url = httpx.URL(upload["presignedUrl"]).copy_merge_params({"signature": "forged"})

    response = await put(app, str(url), samples.image("JPEG"))

    assert response.status_code == 403
    assert "signature" in response.json()["message"]


@pytest.mark.parametrize(
    ("name", "value"), [("signature", "é" * 43), ("expires", "²"), ("expires", "١٠")]
)
async def test_non_ascii_signatures_and_expiries_are_refused(
    app: Harness, ada: Caller, name: str, value: str
) -> None:
    upload = await new_upload(app, ada)
    url = httpx.URL(upload["presignedUrl"]).copy_merge_params({name: value})

    response = await put(app, str(url), samples.image("JPEG"))

    assert response.status_code == 403
    assert "signature" in response.json()["message"]


async def test_oversize_put_is_refused_and_the_url_stays_usable(app: Harness, ada: Caller) -> None:
    upload = await new_upload(app, ada)
    too_big = b"\0" * (app.settings.media_max_bytes + 1)

    refused = await put(app, upload["presignedUrl"], too_big)
    accepted = await put(app, upload["presignedUrl"], samples.image("JPEG"))

    assert refused.status_code == 413
    assert accepted.status_code == 200


async def test_wrong_type_is_refused(app: Harness, ada: Caller) -> None:
    upload = await new_upload(app, ada)

    response = await put(app, upload["presignedUrl"], b"<html>not a video</html>")

    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid File Format")


@pytest.mark.parametrize("body", [{}, {"filename": ""}, {"filename": 3}])
async def test_filename_is_required(app: Harness, ada: Caller, body: dict[str, Any]) -> None:
    response = await app.client.post(
        "/v2/media/uploads", content=orjson.dumps(body), headers=ada.headers
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "filename"
