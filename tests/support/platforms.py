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
from masthead.domain.rules import MP4, FieldRule, Kind
from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.registry import RULES, SPECS
from tests.conftest import make_settings
from tests.fakes import linkedin, meta, pinterest, threads, tiktok, x, youtube
from tests.fakes.http import FakeServer
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness, running_app, served_app


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
    ids: Callable[[Any], dict[str, str]] = field(default=lambda fake: {})
    """The target ids a post to the account names that only the fake knows (Page, board)."""


def _revoke(fake: Any) -> None:
    """The user removed the app: no token the fake issued works any more, refresh tokens
    neither (platforms whose tokens are not refreshed keep none)."""
    fake.tokens.clear()
    if hasattr(fake, "refresh_tokens"):
        fake.refresh_tokens.clear()


def _meta_tokens(fake: meta.FakeMeta) -> dict[str, Any]:
    """A Facebook user with a Page whose Instagram account is linked (both connect)."""
    user = fake.add_user("Ada Lovelace")
    fake.add_page(user, "Ada's Bakery", instagram="adasbakery")
    return {"access_token": fake.user_token(user)}


META = InProcessFake(
    meta.FakeMeta, _meta_tokens, meta.SPECS, ids=lambda fake: {"pageId": next(iter(fake.pages))}
)
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
        ids=lambda fake: {"boardId": next(iter(next(iter(fake.users.values())).boards))},
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
    files: FileServer

    def revoke(self) -> None:
        """The user takes the grant back on the platform (a seeded account never had one)."""
        if self.fake is not None:
            _revoke(self.fake)

    def post(self, text: str) -> dict[str, Any]:
        """A post to the account that its platform's rules accept: their required target
        fields filled (ids from the fake), and one file when they require media (a video as
        long as they ask where the platform takes one, else an image)."""
        rules = RULES[self.platform]
        ids = FAKES[self.platform].ids(self.fake) if self.fake is not None else {}
        target: dict[str, Any] = {"targetType": self.platform}
        for rule in rules.fields:
            if rule.required:
                target[rule.name] = ids.get(rule.name) or _example(rule)
        media: list[str] = []
        if rules.media.minimum:
            if MP4 in rules.files.video_types:
                seconds = max(1.0, rules.files.min_video_seconds or 0.0)
                media.append(self.files.add("clip.mp4", samples.video(seconds)))
            else:
                media.append(self.files.add("photo.jpg", samples.image()))
        content = {"text": text, "mediaUrls": media, "platform": rules.content_platforms[0]}
        return {"post": {"accountId": self.account_id, "content": content, "target": target}}


def _example(rule: FieldRule) -> Any:
    """A value of a required target field that its rule accepts."""
    if rule.kind is Kind.BOOLEAN:
        return False
    if rule.kind is Kind.ENUM:
        return rule.choices[0]
    if rule.kind is Kind.STRING:
        return "A title"
    raise AssertionError(f"no example of a required {rule.kind} field ({rule.name})")


@asynccontextmanager
async def platform_account(
    platform: str, tmp_path: Path, files: FileServer
) -> AsyncIterator[PlatformAccount]:
    """An app with one connected account of `platform`: connected through its fake (which
    fails the test on any request its platform's contract refuses), else seeded; media of its
    posts are served by `files`."""
    kit = FAKES.get(platform)
    if kit is None:
        settings = make_settings(tmp_path, api_rate_limits="off", fetch_allow=files.allow)
        async with running_app(settings) as app:
            caller = await app.user()
            account = await app.account(caller, platform)
            yield PlatformAccount(platform, app, caller, account, None, files)
        return
    if kit.schema is not None and not kit.schema.exists():
        pytest.skip(f"{platform}'s fake needs its schema at {kit.schema} (../shared/specs)")
    with kit.make().running() as fake:
        more = {"fetch_allow": files.allow, **kit.settings(fake)}
        settings = fake_settings(tmp_path, platform, fake, **more)
        # On a real port: Meta (and the others that can) fetch media from Masthead's public URL.
        async with served_app(settings, transports={platform: fake.transport()}) as app:
            caller = await app.user()
            credentials = credentials_from_token_response(kit.tokens(fake))
            account = await app.connect(caller, platform, credentials)
            yield PlatformAccount(platform, app, caller, account, fake, files)
