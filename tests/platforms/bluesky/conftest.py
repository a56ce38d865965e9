"""A real PDS for the whole session; per test, a user on it and a Masthead pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from masthead.config import Settings
from masthead.platforms.bluesky import BlueskyPublisher
from masthead.services.connections import connect_account
from tests.conftest import make_settings
from tests.fakes.bluesky_appview import FakeAppView
from tests.support.bluesky_pds import Pds, PdsAccount, PdsUnavailable, install
from tests.support.harness import Caller, Harness
from tests.support.xrpc_proxy import XrpcProxy


@pytest.fixture(scope="session")
def pds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pds]:
    try:
        installed = install()
    except PdsUnavailable as exc:
        pytest.skip(str(exc))
    server = Pds(installed, tmp_path_factory.mktemp("bluesky-pds"))
    yield server
    server.stop()


@pytest.fixture
def alice(pds: Pds) -> PdsAccount:
    return pds.create_account("alice")


@pytest.fixture
def proxy(pds: Pds) -> Iterator[XrpcProxy]:
    server = XrpcProxy(pds.url)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def appview(pds: Pds) -> Iterator[FakeAppView]:
    server = FakeAppView(pds, install())
    server.start()
    yield server
    server.stop()
    assert server.invalid == [], "what the AppView's lexicons refuse"


def bluesky_settings(tmp_path: Path, service_url: str, **overrides: Any) -> Settings:
    return make_settings(
        tmp_path, api_rate_limits="off", bluesky_service_url=service_url, **overrides
    )


def publisher_for(settings: Settings) -> BlueskyPublisher:
    return BlueskyPublisher(
        service_url=settings.bluesky_service_url,
        plc_url=settings.bluesky_plc_url,
        allow=settings.fetch_allow,
        timeout=settings.bluesky_timeout_seconds,
    )


async def connect(harness: Harness, caller: Caller, account: PdsAccount) -> str:
    """What `masthead accounts add --platform bluesky --handle H --app-password P` does."""
    publisher = publisher_for(harness.settings)
    try:
        account_id, _ = await connect_account(
            harness.db,
            harness.ctx.secrets,
            publisher,
            user_id=caller.user_id,
            credentials={"handle": account.handle, "app_password": account.app_password},
        )
    finally:
        await publisher.aclose()
    return str(account_id)


def bluesky_post(
    account_id: str,
    text: str,
    media: list[str] | None = None,
    thread: list[tuple[str, list[str]]] | None = None,
    **target: Any,
) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text, "mediaUrls": media or [], "platform": "bluesky"}
    if thread:
        content["additionalPosts"] = [{"text": t, "mediaUrls": m} for t, m in thread]
    return {
        "post": {
            "accountId": account_id,
            "content": content,
            "target": {"targetType": "bluesky", **target},
        }
    }
