"""What every registered platform shares, each tried on a connected account of it."""

from __future__ import annotations

import re

import pytest

from masthead.platforms.registry import RULES, SOCIAL
from masthead.store import accounts
from tests.support.platforms import FAKES, PlatformAccount, publish

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


@pytest.mark.parametrize("platform_account", [p for p in SOCIAL if p in FAKES], indirect=True)
async def test_a_post_its_rules_accept_is_published(platform_account: PlatformAccount) -> None:
    """What the tests here send is a post the platform takes (so a refusal they expect is
    the one they cause), published to the platform's fake with its public URL."""
    account = platform_account

    status = await publish(account.app, account.caller, account.post("Hello from Masthead"))

    assert status["status"] == "published", status
    assert status["publicUrl"].startswith(("http://", "https://")), status


@pytest.mark.parametrize("platform_account", SOCIAL, indirect=True)
async def test_a_post_to_an_account_whose_grant_is_gone_fails_and_disconnects_it(
    platform_account: PlatformAccount,
) -> None:
    """The user took the grant back on the platform (a seeded account never had one): the
    post fails at once, the account is disconnected, and the post says why."""
    account = platform_account
    account.revoke()

    status = await publish(account.app, account.caller, account.post("Still here?"))

    assert status["status"] == "failed", status
    account_id = int(account.account_id)
    stored = await account.app.db.read(lambda c: accounts.account_by_id(c, account_id))
    assert stored is not None and stored.status == "disconnected"
    reasons = await account.app.db.read(
        lambda c: accounts.status_reasons(c, account.caller.user_id)
    )
    assert reasons[account_id] and reasons[account_id] in status["errorMessage"], status
