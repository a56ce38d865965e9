"""What every registered platform shares, each tried on a connected account of it."""

from __future__ import annotations

import re

import pytest

from masthead.platforms.registry import RULES
from tests.support.platforms import PlatformAccount

TEXT_LIMITED = [name for name, rules in RULES.items() if rules.text_limits]


@pytest.mark.parametrize("platform_account", TEXT_LIMITED, indirect=True)
async def test_a_text_over_the_platforms_limit_is_refused_naming_the_field_and_never_sent(
    platform_account: PlatformAccount,
) -> None:
    account = platform_account
    rules = RULES[account.platform]
    limit = rules.text_limits[0]  # the first one validation checks; "a" is one unit in any
    heard = len(account.fake.requests) if account.fake is not None else 0
    content = {
        "text": "a" * (limit.maximum + 1),
        "mediaUrls": [],
        "platform": rules.content_platforms[0],
    }
    body = {
        "post": {
            "accountId": account.account_id,
            "content": content,
            "target": {"targetType": account.platform},
        }
    }

    response = await account.app.create_post(account.caller, body)

    assert response.status_code == 422, response.text
    said = [e["message"] for e in response.json()["errors"] if e["path"] == "post.content.text"]
    assert len(said) == 1, response.text
    assert re.search(
        rf"^is {limit.maximum + 1} .*\b{account.platform} allows {limit.maximum}\b", said[0]
    )
    if account.fake is not None:
        assert len(account.fake.requests) == heard, "the platform heard of a refused post"
