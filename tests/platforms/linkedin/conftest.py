"""A fake LinkedIn per test, and a Masthead whose LinkedIn settings point at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from masthead.config import Settings
from masthead.platforms.oauth import credentials_from_token_response
from tests.conftest import make_settings
from tests.fakes.linkedin import FakeLinkedIn, Member
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness, running_app


@pytest.fixture
def fake_linkedin() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn().running("requests LinkedIn's documented contract refuses") as fake:
        yield fake


def linkedin_settings(tmp_path: Path, fake: FakeLinkedIn, **overrides: Any) -> Settings:
    return make_settings(
        tmp_path,
        api_rate_limits="off",
        public_url="http://masthead.test",
        linkedin_api_url=fake.url,
        linkedin_authorize_url=fake.authorize_url,
        linkedin_token_url=fake.token_url,
        linkedin_client_id=fake.client_id,
        linkedin_client_secret=fake.client_secret,
        **overrides,
    )


@pytest.fixture
async def linkedin_app(
    tmp_path: Path, fake_linkedin: FakeLinkedIn, files: FileServer
) -> AsyncIterator[Harness]:
    settings = linkedin_settings(tmp_path, fake_linkedin, fetch_allow=files.allow)
    async with running_app(settings, transports={"linkedin": fake_linkedin.transport()}) as running:
        yield running


async def connect_linkedin(
    harness: Harness, caller: Caller, fake: FakeLinkedIn, member: Member, **tokens: Any
) -> str:
    """What `masthead accounts add --platform linkedin --access-token ...` does."""
    credentials = {**credentials_from_token_response(fake.issue_tokens(member)), **tokens}
    return await harness.connect(caller, "linkedin", credentials)


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
