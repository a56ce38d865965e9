"""A fake X for publisher tests, and an app whose X settings point at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from masthead.config import Settings
from masthead.platforms.oauth import credentials_from_token_response
from tests.conftest import make_settings
from tests.fakes.x import OPENAPI, FakeX, User
from tests.support.harness import Caller, Harness, running_app


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    if not OPENAPI.exists():
        pytest.skip(f"X's OpenAPI is not at {OPENAPI} (the shared specs folder beside the repo)")
    with FakeX().running("requests that X's OpenAPI refuses") as fake:
        yield fake


@pytest.fixture
def x_settings(tmp_path: Path, fake_x: FakeX) -> Settings:
    return make_settings(
        tmp_path,
        api_rate_limits="off",
        public_url="http://masthead.test",
        x_api_url=fake_x.url,
        x_authorize_url=fake_x.authorize_url,
        x_client_id=fake_x.client_id,
        x_client_secret=fake_x.client_secret,
    )


@pytest.fixture
async def x_app(x_settings: Settings, fake_x: FakeX) -> AsyncIterator[Harness]:
    """The app with the fake served in-process (its port stays up for subprocess tests)."""
    async with running_app(x_settings, transports={"twitter": fake_x.transport()}) as running:
        yield running


async def connect_x(
    harness: Harness, caller: Caller, fake: FakeX, user: User, **tokens: Any
) -> str:
    """Connect `user`'s X account for `caller` the way `masthead accounts add` does."""
    credentials = {**credentials_from_token_response(fake.issue_tokens(user)), **tokens}
    return await harness.connect(caller, "twitter", credentials)


def x_post(account_id: str, *texts: str, media: tuple[str, ...] = ()) -> dict[str, Any]:
    content: dict[str, Any] = {"text": texts[0], "mediaUrls": list(media), "platform": "twitter"}
    if len(texts) > 1:
        content["additionalPosts"] = [{"text": t, "mediaUrls": []} for t in texts[1:]]
    return {
        "post": {"accountId": account_id, "content": content, "target": {"targetType": "twitter"}}
    }
