"""A fake Graph API, the app on a real loopback port (Meta fetches its media by URL), and
helpers to connect a Facebook user's Pages and Instagram accounts and to post to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from masthead.config import Settings
from tests.fakes.meta import SPECS, FakeMeta, FbUser, IgAccount, Page
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness, served_app
from tests.support.platforms import fake_settings


@pytest.fixture
def fake_meta() -> Iterator[FakeMeta]:
    if not SPECS.exists():
        pytest.skip(f"Meta's codegen specs are not at {SPECS} (the shared specs folder)")
    with FakeMeta().running("requests that Meta's specs refuse") as fake:
        yield fake


@pytest.fixture
def page(fake_meta: FakeMeta) -> Page:
    """Ada's Page, with its Instagram account, for tests that call a publisher directly."""
    return fake_meta.add_page(fake_meta.add_user("Ada"), "Ada's Bakery", instagram="adasbakery")


def ig_of(page: Page) -> IgAccount:
    """The Instagram account linked to `page`."""
    assert page.ig is not None
    return page.ig


@pytest.fixture
def meta_settings(tmp_path: Path, fake_meta: FakeMeta, files: FileServer) -> Settings:
    return fake_settings(
        tmp_path,
        "facebook",
        fake_meta,
        fetch_allow=files.allow,
        meta_poll_seconds=0.02,
        meta_processing_limit_seconds=10,
        meta_throttle_seconds=1,
    )


@pytest.fixture
async def meta_app(meta_settings: Settings, fake_meta: FakeMeta) -> AsyncIterator[Harness]:
    graph = fake_meta.transport()
    async with served_app(
        meta_settings, transports={"facebook": graph, "instagram": graph}
    ) as running:
        yield running


@dataclass
class Business:
    """A Facebook user with one Page whose Instagram account is linked, connected for `caller`."""

    caller: Caller
    user: FbUser
    page: Page
    token: str
    facebook: str
    instagram: str


@pytest.fixture
async def business(meta_app: Harness, fake_meta: FakeMeta) -> Business:
    caller = await meta_app.user()
    user = fake_meta.add_user("Ada Lovelace")
    page = fake_meta.add_page(user, "Ada's Bakery", instagram="adasbakery")
    token = fake_meta.user_token(user)
    facebook = await connect(meta_app, caller, "facebook", token)
    instagram = await connect(meta_app, caller, "instagram", token)
    return Business(caller, user, page, token, facebook, instagram)


async def connect(harness: Harness, caller: Caller, platform: str, token: str) -> str:
    """Connect with a user token, as `masthead accounts add --access-token` does."""
    return await harness.connect(caller, platform, {"access_token": token})


def facebook_post(
    account: str,
    page: Page,
    text: str,
    media: list[str] = (),
    **target: Any,  # type: ignore[assignment]
) -> dict[str, Any]:
    return {
        "post": {
            "accountId": account,
            "content": {"text": text, "mediaUrls": list(media), "platform": "facebook"},
            "target": {"targetType": "facebook", "pageId": page.id, **target},
        }
    }


def instagram_post(account: str, text: str, media: list[str], **target: Any) -> dict[str, Any]:
    return {
        "post": {
            "accountId": account,
            "content": {"text": text, "mediaUrls": media, "platform": "instagram"},
            "target": {"targetType": "instagram", **target},
        }
    }
