"""A connected account of platform P, made the same way for every platform: settings that
point Masthead at P's fake, an account connected from tokens the fake issued (as `masthead
accounts add` does), and a post sent through the API and followed until it settles. A
platform's conftest keeps only what is its own (its fake's options, its post body)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from masthead.config import Settings
from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.registry import SPECS
from tests.conftest import make_settings
from tests.fakes.http import FakeServer
from tests.support.harness import Caller, Harness


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
