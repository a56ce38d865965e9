"""X tokens: refreshed before they end and once on 401, single-use refresh tokens never spent
twice, and a refused refresh disconnecting the account without losing what was stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from masthead.dispatch.credentials import AccountCredentials
from masthead.domain.posts import ThreadItem
from masthead.platforms.base import AccountInfo, PublishContext
from masthead.platforms.twitter import TwitterPublisher
from masthead.store import accounts
from tests.conftest import make_settings
from tests.fakes.x import FakeX, User
from tests.platforms.twitter.conftest import x_post
from tests.support.harness import Caller, Harness, running_app
from tests.support.platforms import connected_account

PAST = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()


async def _stored(harness: Harness, account_id: str) -> dict[str, Any]:
    return await AccountCredentials(harness.db, harness.ctx.secrets, int(account_id)).load()


async def _post(harness: Harness, caller: Caller, account_id: str, text: str) -> dict[str, Any]:
    response = await harness.create_post(caller, x_post(account_id, text))
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    return await harness.wait_status(caller, post_id, {"published", "failed"}, 15)


async def _account(harness: Harness, fake: FakeX, **tokens: Any) -> tuple[Caller, User, str]:
    caller = await harness.user()
    user = fake.add_user("grace")
    return caller, user, await connected_account("twitter", harness, caller, fake, user, **tokens)


async def test_token_about_to_end_is_refreshed_before_posting(
    x_app: Harness, fake_x: FakeX
) -> None:
    caller, user, account = await _account(x_app, fake_x, expires_at=PAST)
    before = await _stored(x_app, account)

    status = await _post(x_app, caller, account, "fresh token")

    assert status["status"] == "published", status
    after = await _stored(x_app, account)
    assert len(fake_x.calls("token")) == 1
    assert after["refresh_token"] != before["refresh_token"]
    assert before["refresh_token"] not in fake_x.refresh_tokens  # rotated: the old one is spent
    assert datetime.fromisoformat(after["expires_at"]) > datetime.now(UTC) + timedelta(hours=1)
    assert len(fake_x.tweets_by(user)) == 1


async def test_401_refreshes_once_and_the_post_goes_out_once(x_app: Harness, fake_x: FakeX) -> None:
    caller, user, account = await _account(x_app, fake_x)
    fake_x.expire_access_tokens()

    status = await _post(x_app, caller, account, "after a 401")

    assert status["status"] == "published", status
    assert len(fake_x.calls("token")) == 1
    assert [c.operation for c in fake_x.requests].count("tweets") == 2
    assert len(fake_x.tweets_by(user)) == 1


async def test_refused_refresh_disconnects_the_account_and_keeps_the_stored_token(
    x_app: Harness, fake_x: FakeX
) -> None:
    caller, user, account = await _account(x_app, fake_x, expires_at=PAST)
    before = await _stored(x_app, account)
    fake_x.refresh_tokens.clear()  # the user revoked the app on X

    status = await _post(x_app, caller, account, "never sent")

    assert status["status"] == "failed", status
    assert "Value passed for the token was invalid." in status["errorMessage"]
    row = await x_app.db.read(lambda c: accounts.account_by_id(c, int(account)))
    assert row is not None and row.status == "disconnected"
    assert (await _stored(x_app, account))["refresh_token"] == before["refresh_token"]
    assert fake_x.tweets_by(user) == []


async def test_two_workers_refreshing_at_once_share_one_rotation_and_stay_connected(
    x_app: Harness, fake_x: FakeX
) -> None:
    """Two worker processes (two publishers) find the token expired at the same moment; X
    accepts one refresh and refuses the spent token for the other, which must then use the
    tokens the first one stored instead of disconnecting the account."""
    _, user, account = await _account(x_app, fake_x, expires_at=PAST)
    fake_x.token_delay = 0.3
    workers = [
        TwitterPublisher(api_url=x_app.settings.x_api_url, app=x_app.settings.oauth_app("x"))
        for _ in range(2)
    ]
    store = AccountCredentials(x_app.db, x_app.ctx.secrets, int(account))
    info = AccountInfo(int(account), "twitter", user.id, user.username)

    async def publish(worker: TwitterPublisher, text: str) -> str:
        ctx = PublishContext(
            post_id=text,
            account=info,
            target={"targetType": "twitter"},
            items=(ThreadItem(text),),
            scheduled_at=None,
            signing_secret="",
            credentials=store,
        )
        prepared = await worker.prepare(ctx, 0)
        return (await worker.send(ctx, 0, prepared)).remote_id

    try:
        ids = await asyncio.gather(publish(workers[0], "one"), publish(workers[1], "two"))
    finally:
        for worker in workers:
            await worker.aclose()

    assert sorted(t.id for t in fake_x.tweets_by(user)) == sorted(ids)
    assert len(fake_x.calls("token")) == 2  # both tried; X took one
    stored = await _stored(x_app, account)
    assert stored["refresh_token"] in fake_x.refresh_tokens
    row = await x_app.db.read(lambda c: accounts.account_by_id(c, int(account)))
    assert row is not None and row.status == "connected"


async def test_wrong_app_secret_fails_the_post_without_disconnecting_the_account(
    tmp_path: Path, fake_x: FakeX
) -> None:
    settings = make_settings(
        tmp_path,
        api_rate_limits="off",
        x_api_url=fake_x.url,
        x_client_id=fake_x.client_id,
        x_client_secret="not-the-secret",
    )
    async with running_app(settings) as harness:
        caller, user, account = await _account(harness, fake_x, expires_at=PAST)

        status = await _post(harness, caller, account, "misconfigured")

        assert status["status"] == "failed", status
        assert "MASTHEAD_X_CLIENT_SECRET" in status["errorMessage"]
        row = await harness.db.read(lambda c: accounts.account_by_id(c, int(account)))
        assert row is not None and row.status == "connected"
        assert fake_x.tweets_by(user) == []
