"""What the pages say: account statuses and reasons, rescheduling with the API's rules, the
list's filters, and a platform without an OAuth app shown as not configured."""

from __future__ import annotations

from datetime import timedelta

import orjson
from httpx import AsyncClient
from sqlalchemy.engine import Connection

from masthead.platforms.registry import TARGET_TYPES
from masthead.store import accounts
from masthead.store import posts as post_store
from masthead.timeutil import iso, utcnow
from tests.support.harness import Harness, webhook_post
from tests.support.web import page_token, sign_in, user_with_password
from tests.web.conftest import Browsers


async def test_accounts_show_connected_expiring_and_disconnected_with_the_reason(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    soon = iso(utcnow() + timedelta(hours=5))
    sealed = harness.ctx.secrets.encrypt(
        orjson.dumps({"access_token": "t", "expires_at": soon}).decode()
    )
    now = utcnow()

    def seed(conn: Connection) -> None:
        expiring = accounts.add_account(
            conn,
            user_id=ada.user_id,
            platform="twitter",
            external_id="1",
            username="soon",
            fullname="Soon",
            now=now,
            credentials=sealed,
        )
        gone = accounts.add_account(
            conn,
            user_id=ada.user_id,
            platform="bluesky",
            external_id="did:plc:x",
            username="gone.test",
            fullname="Gone",
            now=now,
        )
        accounts.add_subaccount(
            conn, account_id=expiring, kind="page", external_id="p-77", name="Page"
        )
        accounts.disconnect(conn, gone, "the app password was revoked", now)
        assert expiring

    await harness.db.write(seed)
    client = browser()
    await sign_in(client, ada.email)

    html = (await client.get("/settings/accounts")).text

    assert "token expiring" in html
    assert "disconnected: the app password was revoked" in html
    assert "p-77" in html
    assert "Not configured" in html and "MASTHEAD_X_CLIENT_ID" in html
    doc = await client.get("/settings/accounts/docs/x")
    assert doc.status_code == 200 and "X" in doc.text
    assert (await client.get("/settings/accounts/docs/..%2Fdesign")).status_code == 404


async def test_reschedule_moves_the_post_and_refuses_the_past_like_the_api(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    account = await harness.account(ada, "webhook")
    body = webhook_post(
        account, "https://example.com/h", scheduledTime=iso(utcnow() + timedelta(days=1))
    )
    post_id = (await harness.create_post(ada, body)).json()["postSubmissionId"]
    client = browser()
    await sign_in(client, ada.email)
    client.cookies.set("masthead_tz", "Asia/Tokyo", domain="masthead.test")
    token = await page_token(client, f"/posts/{post_id}")

    moved = await client.post(
        f"/posts/{post_id}/reschedule", data={"csrf_token": token, "when": "2031-03-04T09:15"}
    )
    past = await client.post(
        f"/posts/{post_id}/reschedule", data={"csrf_token": token, "when": "2001-01-01T00:00"}
    )
    stored = await harness.db.read(lambda c: post_store.get_post(c, ada.user_id, post_id))

    assert moved.status_code == 303
    assert past.status_code == 422 and "must be in the future" in past.text
    assert stored is not None and stored.scheduled_at is not None
    assert iso(stored.scheduled_at) == "2031-03-04T00:15:00.000Z"


async def signed_in_with_a_scheduled_post(web: tuple[Harness, Browsers], text: str) -> AsyncClient:
    """Ada's browser, signed in, with one webhook post of `text` due in three days."""
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    account = await harness.account(ada, "webhook")
    later = iso(utcnow() + timedelta(days=3))
    await harness.create_post(
        ada, webhook_post(account, "https://example.com/h", text, scheduledTime=later)
    )
    client = browser()
    await sign_in(client, ada.email)
    return client


async def test_the_list_filters_by_status_and_platform(web: tuple[Harness, Browsers]) -> None:
    client = await signed_in_with_a_scheduled_post(web, "alpha")

    scheduled = (await client.get("/posts?status=scheduled")).text
    failed = (await client.get("/posts?status=failed")).text
    other_platform = (await client.get("/posts?platform=bluesky")).text

    assert "alpha" in scheduled
    assert "alpha" not in failed and "No posts match." in failed
    assert "alpha" not in other_platform


async def test_the_keys_page_shows_how_to_connect_an_agent(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    client = browser()
    await sign_in(client, ada.email)

    before = (await client.get("/settings/keys")).text
    token = await page_token(client)
    created = (
        await client.post("/settings/keys", data={"name": "agent", "csrf_token": token})
    ).text

    assert "Connect an AI agent" in before
    assert "http://masthead.test/mcp" in before
    assert "need only this URL" in before
    assert "YOUR_MASTHEAD_API_KEY" in before
    assert "masthead mcp --server http://masthead.test" in before
    new_key = created.split('<code id="new-key">')[1].split("</code>")[0]
    assert f"&#34;blotato-api-key&#34;: &#34;{new_key}&#34;" in created
    assert f"MASTHEAD_API_KEY={new_key} masthead mcp" in created


async def test_the_platform_filter_offers_and_applies_every_platform_of_the_registry(
    web: tuple[Harness, Browsers],
) -> None:
    client = await signed_in_with_a_scheduled_post(web, "alpha")

    listing = (await client.get("/posts")).text
    linkedin_only = (await client.get("/posts?platform=linkedin")).text

    assert all(f'name="platform" value="{name}"' in listing for name in TARGET_TYPES)
    assert "alpha" in listing and "alpha" not in linkedin_only
