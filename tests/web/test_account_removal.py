"""Removing an account keeps its posts and their history, marked as from a removed account, in
the API and on the posts page; posts not yet begun fail with the reason; the account itself is
gone from posting and listings until the same account is connected again."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.engine import Connection

from masthead.services.accounts import REMOVED_BEFORE_SENDING
from masthead.store import accounts
from masthead.store.models import Post
from masthead.timeutil import iso, utcnow
from tests.support.harness import Caller, Harness, webhook_post
from tests.support.web import page_token, sign_in, user_with_password
from tests.web.conftest import Browsers

HOOK = "https://hooks.example.com/never"


async def _published_and_scheduled(harness: Harness, ada: Caller, account: str) -> list[str]:
    later = iso(utcnow() + timedelta(days=1))
    ids = []
    for text in ("sent already", "still waiting"):
        made = await harness.create_post(
            ada, webhook_post(account, HOOK, text=text, scheduledTime=later)
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["postSubmissionId"])

    def publish(conn: Connection) -> None:
        conn.execute(
            update(Post)
            .where(Post.id == ids[0])
            .values(state="published", public_url="https://example.com/p/1", due_at=None)
        )

    await harness.db.write(publish)
    return ids


async def _remove(client: httpx.AsyncClient, email: str, account: str) -> httpx.Response:
    """Sign in and press the account card's Remove button."""
    await sign_in(client, email)
    token = await page_token(client, "/settings/accounts")
    return await client.post(f"/settings/accounts/{account}/remove", data={"csrf_token": token})


async def test_removing_an_account_keeps_its_posts_marked_as_removed(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    account = await harness.account(ada, "webhook", username="hooky")
    published, waiting = await _published_and_scheduled(harness, ada, account)
    client = browser()

    removed = await _remove(client, ada.email, account)

    assert removed.status_code == 303
    listed = await harness.client.get(
        "/v2/posts", params={"since": "2000-01-01T00:00:00Z"}, headers=ada.headers
    )
    items = {item["id"]: item for item in listed.json()["items"]}
    assert items[published]["state"] == {"type": "published", "postUrl": "https://example.com/p/1"}
    assert items[waiting]["state"] == {"type": "failed", "errorMessage": REMOVED_BEFORE_SENDING}
    assert all(item["accountRemoved"] is True for item in items.values())
    assert (await harness.status(ada, published))["accountRemoved"] is True
    page = (await client.get("/posts")).text
    assert "@hooky (removed account)" in page and "sent already" in page
    detail = (await client.get(f"/posts/{waiting}")).text
    assert REMOVED_BEFORE_SENDING in detail


async def test_a_removed_account_takes_no_posts_and_is_not_listed(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    account = await harness.account(ada, "webhook")
    client = browser()
    await _remove(client, ada.email, account)

    token = await page_token(client, "/settings/accounts")
    again = await client.post(f"/settings/accounts/{account}/remove", data={"csrf_token": token})
    made = await harness.create_post(ada, webhook_post(account, HOOK))
    listed = await harness.client.get("/v2/users/me/accounts", headers=ada.headers)

    assert again.status_code == 404
    assert made.status_code == 422 and made.json()["message"] == "Wrong Account ID"
    assert listed.json() == {"items": []}


async def test_connecting_the_same_account_again_revives_it_with_its_posts(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    account = await harness.account(ada, "webhook", username="hooky")
    published, _ = await _published_and_scheduled(harness, ada, account)
    await _remove(browser(), ada.email, account)

    def reconnect(conn: Connection) -> int:
        return accounts.save_connected(
            conn,
            user_id=ada.user_id,
            platform="webhook",
            external_id="webhook-hooky",
            username="hooky",
            fullname="Hooky",
            profile_image_url=None,
            credentials=None,
            subaccounts=[],
            now=utcnow(),
        )

    revived = await harness.db.write(reconnect)

    assert str(revived) == account
    assert "accountRemoved" not in await harness.status(ada, published)
