"""A fake X for publisher tests, and an app whose X settings point at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from masthead.config import Settings
from tests.fakes.x import OPENAPI, FakeX
from tests.support.harness import Harness, running_app
from tests.support.platforms import fake_settings


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    if not OPENAPI.exists():
        pytest.skip(f"X's OpenAPI is not at {OPENAPI} (the shared specs folder beside the repo)")
    with FakeX().running("requests that X's OpenAPI refuses") as fake:
        yield fake


@pytest.fixture
def x_settings(tmp_path: Path, fake_x: FakeX) -> Settings:
    return fake_settings(tmp_path, "twitter", fake_x)


@pytest.fixture
async def x_app(x_settings: Settings, fake_x: FakeX) -> AsyncIterator[Harness]:
    """The app with the fake served in-process (its port stays up for subprocess tests)."""
    async with running_app(x_settings, transports={"twitter": fake_x.transport()}) as running:
        yield running


def x_post(account_id: str, *texts: str, media: tuple[str, ...] = ()) -> dict[str, Any]:
    content: dict[str, Any] = {"text": texts[0], "mediaUrls": list(media), "platform": "twitter"}
    if len(texts) > 1:
        content["additionalPosts"] = [{"text": t, "mediaUrls": []} for t in texts[1:]]
    return {
        "post": {"accountId": account_id, "content": content, "target": {"targetType": "twitter"}}
    }
