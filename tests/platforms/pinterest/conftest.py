"""A fake Pinterest per test, and a Masthead served on a real port (Pinterest pulls images
from Masthead's public URL of each file)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.pinterest import OPENAPI, FakePinterest
from tests.support.files import FileServer
from tests.support.harness import Harness, served_app
from tests.support.platforms import fake_settings


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
    settings = fake_settings(tmp_path, "pinterest", fake_pinterest, fetch_allow=files.allow)
    async with served_app(
        settings, transports={"pinterest": fake_pinterest.transport()}
    ) as running:
        yield running


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
