"""A fake LinkedIn per test, and a Masthead whose LinkedIn settings point at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from masthead.config import Settings
from tests.fakes.linkedin import FakeLinkedIn
from tests.support.files import FileServer
from tests.support.harness import Harness, running_app
from tests.support.platforms import fake_settings


@pytest.fixture
def fake_linkedin() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn().running("requests LinkedIn's documented contract refuses") as fake:
        yield fake


def linkedin_settings(tmp_path: Path, fake: FakeLinkedIn, **overrides: Any) -> Settings:
    return fake_settings(tmp_path, "linkedin", fake, linkedin_token_url=fake.token_url, **overrides)


@pytest.fixture
async def linkedin_app(
    tmp_path: Path, fake_linkedin: FakeLinkedIn, files: FileServer
) -> AsyncIterator[Harness]:
    settings = linkedin_settings(tmp_path, fake_linkedin, fetch_allow=files.allow)
    async with running_app(settings, transports={"linkedin": fake_linkedin.transport()}) as running:
        yield running


def linkedin_post(
    account_id: str, text: str, *, media: tuple[str, ...] = (), page: str | None = None
) -> dict[str, Any]:
    target: dict[str, Any] = {"targetType": "linkedin"}
    if page is not None:
        target["pageId"] = page
    return {
        "post": {
            "accountId": account_id,
            "content": {"text": text, "mediaUrls": list(media), "platform": "linkedin"},
            "target": target,
        }
    }
