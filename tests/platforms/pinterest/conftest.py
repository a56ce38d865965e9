"""A fake Pinterest per test, and a Masthead served on a real port (Pinterest pulls images
from Masthead's public URL of each file)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from masthead.platforms.oauth import credentials_from_token_response
from tests.conftest import make_settings
from tests.fakes.pinterest import OPENAPI, FakePinterest, User
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness, served_app


@pytest.fixture
def fake_pinterest() -> Iterator[FakePinterest]:
    if not OPENAPI.exists():
        pytest.skip(f"Pinterest's OpenAPI is not at {OPENAPI} (the shared specs beside the repo)")
    with FakePinterest().running("requests or answers that Pinterest's OpenAPI refuses") as fake:
        yield fake


@pytest.fixture
async def pinterest_app(
    tmp_path: Path, fake_pinterest: FakePinterest, files: FileServer
) -> AsyncIterator[Harness]:
    settings = make_settings(
        tmp_path,
        api_rate_limits="off",
        fetch_allow=files.allow,
        pinterest_api_url=fake_pinterest.url,
        pinterest_authorize_url=fake_pinterest.authorize_url,
        pinterest_client_id=fake_pinterest.client_id,
        pinterest_client_secret=fake_pinterest.client_secret,
    )
    async with served_app(
        settings, transports={"pinterest": fake_pinterest.transport()}
    ) as running:
        yield running


async def connect_pinterest(
    harness: Harness, caller: Caller, fake: FakePinterest, user: User, **tokens: Any
) -> str:
    """What `masthead accounts add --platform pinterest --access-token ...` does."""
    credentials = {**credentials_from_token_response(fake.issue_tokens(user)), **tokens}
    return await harness.connect(caller, "pinterest", credentials)


def pin_post(
    account_id: str, board_id: str, text: str, media: tuple[str, ...], **target: str
) -> dict[str, Any]:
    return {
        "post": {
            "accountId": account_id,
            "content": {"text": text, "mediaUrls": list(media), "platform": "pinterest"},
            "target": {"targetType": "pinterest", "boardId": board_id, **target},
        }
    }


async def publish(
    harness: Harness, caller: Caller, body: dict[str, Any], timeout: float = 20.0
) -> dict[str, Any]:
    response = await harness.create_post(caller, body)
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    return await harness.wait_status(caller, post_id, {"published", "failed"}, timeout)
