"""Connecting Threads accounts (authorization window → short-lived token → long-lived token,
or a token given to `masthead accounts add`) and keeping their 60-day tokens alive."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
from sqlalchemy import select
from typer.testing import CliRunner

from masthead.cli import app as cli
from masthead.dispatch.credentials import AccountCredentials
from masthead.store import accounts
from masthead.store.models import Account
from masthead.timeutil import utcnow
from tests.conftest import make_settings
from tests.fakes.threads import LONG_LIVED_SECONDS, FakeThreads
from tests.platforms.threads.conftest import connect_threads, threads_post, threads_settings
from tests.platforms.threads.test_publish import publish
from tests.support.harness import Caller, Harness, running_app

CALLBACK = "http://masthead.test/oauth/threads/callback"
DAY = 86400.0


async def _connect_through_the_browser(app: Harness, caller: Caller) -> httpx.Response:
    response = await app.client.post("/oauth/threads/start", headers=caller.headers)
    assert response.status_code == 200, response.text
    async with httpx.AsyncClient() as browser:  # the user's browser at Threads
        consent = await browser.get(response.json()["authorizeUrl"])
    assert consent.status_code == 302, consent.text
    location = consent.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return await app.client.get(location.removeprefix("http://masthead.test"))


async def _credentials(app: Harness, account_id: int) -> dict[str, Any]:
    return await AccountCredentials(app.db, app.ctx.secrets, account_id).load()


def _when(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


async def test_authorize_url_asks_threads_for_the_publishing_scopes(
    app: Harness, fake_threads: FakeThreads
) -> None:
    caller = await app.user()
    response = await app.client.post("/oauth/threads/start", headers=caller.headers)

    url = response.json()["authorizeUrl"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(fake_threads.authorize_url + "?")
    assert query["scope"] == [
        "threads_basic,threads_content_publish,threads_read_replies,threads_manage_insights"
    ]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [fake_threads.client_id]
    assert len(query["state"][0]) >= 32


async def test_oauth_connect_stores_a_long_lived_token_and_the_account_can_post(
    app: Harness, fake_threads: FakeThreads
) -> None:
    caller = await app.user()
    user = fake_threads.add_user("hopper", "Grace Hopper")
    fake_threads.authorize_as = user.id

    page = await _connect_through_the_browser(app, caller)

    assert page.status_code == 200, page.text
    assert "@hopper" in page.text
    [account] = await app.db.read(lambda c: accounts.list_accounts(c, caller.user_id))
    assert (account.external_id, account.username, account.fullname) == (
        user.id,
        "hopper",
        "Grace Hopper",
    )
    stored = await _credentials(app, account.id)
    token = fake_threads.tokens[stored["access_token"]]
    assert token.kind == "long"
    assert abs((_when(stored["expires_at"]) - utcnow()).total_seconds() - LONG_LIVED_SECONDS) < 60
    assert [r.operation for r in fake_threads.requests][:2] == ["token", "exchange"]
    posted = await app.create_post(caller, threads_post(str(account.id), "connected"))
    status = await app.wait_status(
        caller, posted.json()["postSubmissionId"], {"published", "failed"}
    )
    assert status["status"] == "published", status


async def test_a_denied_authorization_connects_nothing(
    app: Harness, fake_threads: FakeThreads
) -> None:
    caller = await app.user()
    fake_threads.deny_authorization = True

    page = await _connect_through_the_browser(app, caller)

    assert page.status_code == 400
    assert "threads did not grant access: Permissions error" in page.text
    assert await app.db.read(lambda c: accounts.list_accounts(c, caller.user_id)) == []


async def test_without_the_app_secret_threads_is_not_configured(
    tmp_path: Path, fake_threads: FakeThreads
) -> None:
    settings = threads_settings(tmp_path, fake_threads, threads_client_secret=None)
    async with running_app(settings) as app:
        caller = await app.user()
        response = await app.client.post("/oauth/threads/start", headers=caller.headers)

    assert response.status_code == 400
    assert "MASTHEAD_THREADS_CLIENT_ID" in response.json()["message"]


async def test_a_token_due_for_refresh_is_refreshed_before_publishing(
    app: Harness, fake_threads: FakeThreads
) -> None:
    """15 days old, 45 left: fewer than 50, so the publish refreshes it first."""
    caller = await app.user()
    user = fake_threads.add_user("ada")
    account = await connect_threads(
        app, caller, fake_threads, user, age=15 * DAY, lifetime=60 * DAY
    )
    old = (await _credentials(app, int(account)))["access_token"]

    posted = await app.create_post(caller, threads_post(account, "fresh token"))
    status = await app.wait_status(
        caller, posted.json()["postSubmissionId"], {"published", "failed"}
    )

    assert status["status"] == "published", status
    stored = await _credentials(app, int(account))
    assert stored["access_token"] != old
    assert fake_threads.tokens[stored["access_token"]].kind == "long"
    assert (_when(stored["expires_at"]) - utcnow()).total_seconds() > 59 * DAY
    [refresh] = fake_threads.calls("refresh")
    assert refresh.params == {"grant_type": "th_refresh_token"}
    assert refresh.at < fake_threads.calls("create")[0].at


async def test_a_recent_token_is_not_refreshed(app: Harness, fake_threads: FakeThreads) -> None:
    status, _, _ = await publish(app, fake_threads, threads_post("", "no refresh"))

    assert status["status"] == "published", status
    assert fake_threads.calls("refresh") == []


async def test_a_refresh_threads_refuses_for_now_does_not_stop_the_post(
    app: Harness, fake_threads: FakeThreads
) -> None:
    caller = await app.user()
    user = fake_threads.add_user("ada")
    account = await connect_threads(
        app, caller, fake_threads, user, age=15 * DAY, lifetime=60 * DAY
    )
    fake_threads.fail_next("refresh", "unavailable")

    posted = await app.create_post(caller, threads_post(account, "old token still good"))
    status = await app.wait_status(
        caller, posted.json()["postSubmissionId"], {"published", "failed"}
    )

    assert status["status"] == "published", status
    assert len(fake_threads.calls("refresh")) == 1


async def test_a_token_threads_will_not_refresh_disconnects_the_account(
    app: Harness, fake_threads: FakeThreads
) -> None:
    caller = await app.user()
    user = fake_threads.add_user("ada")
    account = await connect_threads(
        app, caller, fake_threads, user, age=15 * DAY, lifetime=60 * DAY
    )
    fake_threads.fail_next("refresh", "expired_token")

    posted = await app.create_post(caller, threads_post(account, "revoked"))
    status = await app.wait_status(
        caller, posted.json()["postSubmissionId"], {"published", "failed"}
    )

    assert status["status"] == "failed", status
    assert "Threads refused to refresh the account's token" in status["errorMessage"]
    [row] = await app.db.read(lambda c: accounts.list_accounts(c, caller.user_id))
    assert row.status == "disconnected"
    assert fake_threads.calls("create") == []


async def test_a_token_past_its_end_disconnects_without_calling_threads(
    app: Harness, fake_threads: FakeThreads
) -> None:
    caller = await app.user()
    user = fake_threads.add_user("ada")
    account = await connect_threads(app, caller, fake_threads, user)
    store = AccountCredentials(app.db, app.ctx.secrets, int(account))
    current = await store.load()
    ended = {**current, "expires_at": "2026-01-01T00:00:00.000Z"}
    assert await store.save(ended, replaces=current)

    posted = await app.create_post(caller, threads_post(account, "too late"))
    status = await app.wait_status(
        caller, posted.json()["postSubmissionId"], {"published", "failed"}
    )

    assert status["status"] == "failed", status
    assert "The Threads token expired on 2026-01-01T00:00:00.000Z" in status["errorMessage"]
    assert fake_threads.calls("create") == []


async def test_a_token_meta_ended_early_disconnects_the_account(
    app: Harness, fake_threads: FakeThreads
) -> None:
    caller = await app.user()
    user = fake_threads.add_user("ada")
    account = await connect_threads(app, caller, fake_threads, user)
    fake_threads.expire_tokens()

    posted = await app.create_post(caller, threads_post(account, "password changed"))
    status = await app.wait_status(
        caller, posted.json()["postSubmissionId"], {"published", "failed"}
    )

    assert status["status"] == "failed", status
    assert "[Threads error 190/463]" in status["errorMessage"]
    [row] = await app.db.read(lambda c: accounts.list_accounts(c, caller.user_id))
    assert row.status == "disconnected"


# -- masthead accounts add ------------------------------------------------------------------


def _run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _env(tmp_path: Path, fake: FakeThreads) -> dict[str, str]:
    return {
        "MASTHEAD_DATA_DIR": str(tmp_path),
        "MASTHEAD_SECRET_KEY": "cli-secret",
        "MASTHEAD_THREADS_API_URL": fake.url,
        "MASTHEAD_THREADS_CLIENT_ID": fake.client_id,
        "MASTHEAD_THREADS_CLIENT_SECRET": fake.client_secret,
    }


async def _stored(tmp_path: Path) -> dict[str, Any]:
    """The Threads account's credentials as `masthead accounts add` stored them."""
    settings = make_settings(tmp_path, secret_key="cli-secret")
    async with running_app(settings, run_worker=False) as app:
        [account_id] = await app.db.read(
            lambda c: (
                c.execute(select(Account.id).where(Account.platform == "threads")).scalars().all()
            )
        )
        sealed = await app.db.read(lambda c: accounts.sealed_credentials(c, account_id))
        stored: dict[str, Any] = orjson.loads(app.ctx.secrets.decrypt(sealed or ""))
        return stored


def test_accounts_add_exchanges_a_short_lived_token_for_a_long_lived_one(
    tmp_path: Path, fake_threads: FakeThreads
) -> None:
    env = _env(tmp_path, fake_threads)
    user = fake_threads.add_user("turing")
    short = fake_threads.issue_token(user, kind="short")["access_token"]
    _run(env, "users", "create", "--email", "cli@example.com", "--no-password")

    out = _run(
        env, "accounts", "add", "--user", "cli@example.com", "--platform", "threads",
        "--access-token", short,
    )  # fmt: skip

    assert out.strip().splitlines()[-1].isdigit()
    assert "turing" in _run(env, "accounts", "list", "--user", "cli@example.com")
    stored = asyncio.run(_stored(tmp_path))
    assert fake_threads.tokens[stored["access_token"]].kind == "long"
    assert stored["user_id"] == user.id and stored["expires_at"]


def test_accounts_add_keeps_a_long_lived_token_and_learns_its_end_by_refreshing(
    tmp_path: Path, fake_threads: FakeThreads
) -> None:
    env = _env(tmp_path, fake_threads)
    user = fake_threads.add_user("lovelace")
    token = fake_threads.issue_token(user, age=3 * DAY)["access_token"]
    _run(env, "users", "create", "--email", "cli@example.com", "--no-password")

    _run(
        env, "accounts", "add", "--user", "cli@example.com", "--platform", "threads",
        "--access-token", token,
    )  # fmt: skip

    stored = asyncio.run(_stored(tmp_path))
    assert [r.operation for r in fake_threads.requests] == ["me", "exchange", "refresh"]
    assert (_when(stored["expires_at"]) - utcnow()) > timedelta(days=59)
