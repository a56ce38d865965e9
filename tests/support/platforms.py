"""A connected account of platform P, made the same way for every platform: settings that
point Masthead at P's fake, an account connected from tokens the fake issued (as `masthead
accounts add` does), and a post sent through the API and followed until it settles. A
platform's conftest keeps only what is its own (its fake's options, its post body).
`platform_account` makes the whole of it for any registered platform, for tests of what every
platform shares (tests/platforms/conftest.py parametrises it over the registry)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

from masthead.config import Settings
from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.registry import SPECS
from tests.conftest import make_settings
from tests.fakes import linkedin, meta, pinterest, threads, tiktok, x, youtube
from tests.fakes.http import FakeServer
from tests.support.harness import Caller, Harness, running_app


class IssuesTokens(Protocol):
    """A fake that hands out OAuth token responses for one of its users."""

    def issue_tokens(self, who: Any, /) -> dict[str, Any]: ...


def fake_settings(tmp_path: Path, platform: str, fake: FakeServer, **overrides: Any) -> Settings:
    """Settings with `platform` (its settings prefix) at `fake` and the API's own rate limits
    off; `overrides` win."""
    values: dict[str, Any] = {
        "api_rate_limits": "off",
        "public_url": "http://masthead.test",
        **fake.settings(SPECS[platform].prefix),
    }
    return make_settings(tmp_path, **(values | overrides))


async def connected_account(
    platform: str,
    harness: Harness,
    caller: Caller,
    fake: IssuesTokens,
    who: Any,
    **credentials: Any,
) -> str:
    """`who`'s `platform` account connected for `caller` from tokens `fake` issued, as
    `masthead accounts add` does; `credentials` replace what would be stored."""
    issued = credentials_from_token_response(fake.issue_tokens(who))
    return await harness.connect(caller, platform, {**issued, **credentials})


async def publish(
    harness: Harness, caller: Caller, body: dict[str, Any], timeout: float = 30.0
) -> dict[str, Any]:
    """POST /v2/posts, then GET /v2/posts/{id} until the post is published or failed."""
    response = await harness.create_post(caller, body)
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    return await harness.wait_status(caller, post_id, {"published", "failed"}, timeout)


@dataclass(frozen=True)
class InProcessFake:
    """How a platform's fake is made, and a new user of it given tokens."""

    make: Callable[[], FakeServer]
    tokens: Callable[[Any], dict[str, Any]]
    """The token answer (RFC 6749 section 5.1) the fake gives a new user of its platform."""
    schema: Path | None = None
    """The official schema the fake checks requests against (tests skip without it)."""
    settings: Callable[[Any], dict[str, Any]] = field(default=lambda fake: {})
    """Settings beyond `fake_settings` that point Masthead at the fake."""


def _meta_tokens(fake: meta.FakeMeta) -> dict[str, Any]:
    """A Facebook user with a Page whose Instagram account is linked (both connect)."""
    user = fake.add_user("Ada Lovelace")
    fake.add_page(user, "Ada's Bakery", instagram="adasbakery")
    return {"access_token": fake.user_token(user)}


META = InProcessFake(meta.FakeMeta, _meta_tokens, meta.SPECS)
FAKES: dict[str, InProcessFake] = {
    "twitter": InProcessFake(
        x.FakeX, lambda fake: fake.issue_tokens(fake.add_user("ada")), x.OPENAPI
    ),
    "linkedin": InProcessFake(
        linkedin.FakeLinkedIn,
        lambda fake: fake.issue_tokens(fake.add_member("Ada Lovelace")),
        settings=lambda fake: {"linkedin_token_url": fake.token_url},
    ),
    "facebook": META,
    "instagram": META,
    "tiktok": InProcessFake(
        tiktok.FakeTikTok, lambda fake: fake.issue_tokens(fake.add_user("ada"))
    ),
    "pinterest": InProcessFake(
        pinterest.FakePinterest,
        lambda fake: fake.issue_tokens(fake.add_user("ada")),
        pinterest.OPENAPI,
    ),
    "threads": InProcessFake(
        threads.FakeThreads, lambda fake: fake.issue_token(fake.add_user("ada"))
    ),
    "youtube": InProcessFake(
        youtube.FakeYouTube,
        lambda fake: fake.issue_tokens(fake.add_channel("Ada Lovelace")),
        youtube.DISCOVERY,
        settings=lambda fake: {"youtube_token_url": f"{fake.url}/token"},
    ),
}
"""The platforms whose fake is served in-process, by name. A platform not here (Bluesky's is a
real PDS in Node, the webhook has no account to connect) gets an account seeded as connected."""


@dataclass
class PlatformAccount:
    """A connected account of `platform` for `caller` in `app`; `fake` is the platform's, which
    issued its credentials, when it has one in-process."""

    platform: str
    app: Harness
    caller: Caller
    account_id: str
    fake: FakeServer | None


@asynccontextmanager
async def platform_account(platform: str, tmp_path: Path) -> AsyncIterator[PlatformAccount]:
    """An app with one connected account of `platform`: connected through its fake (which
    fails the test on any request its platform's contract refuses), else seeded."""
    kit = FAKES.get(platform)
    if kit is None:
        async with running_app(make_settings(tmp_path, api_rate_limits="off")) as app:
            caller = await app.user()
            yield PlatformAccount(platform, app, caller, await app.account(caller, platform), None)
        return
    if kit.schema is not None and not kit.schema.exists():
        pytest.skip(f"{platform}'s fake needs its schema at {kit.schema} (../shared/specs)")
    with kit.make().running() as fake:
        settings = fake_settings(tmp_path, platform, fake, **kit.settings(fake))
        async with running_app(settings, transports={platform: fake.transport()}) as app:
            caller = await app.user()
            credentials = credentials_from_token_response(kit.tokens(fake))
            account = await app.connect(caller, platform, credentials)
            yield PlatformAccount(platform, app, caller, account, fake)
