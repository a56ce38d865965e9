"""One Facebook Login connects a user's Pages (facebook) and their linked Instagram accounts
(instagram): code → short-lived → long-lived token, state checked, tokens encrypted."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from masthead.platforms.base import Permanent
from masthead.services.connections import connect_account
from masthead.store import accounts
from tests.fakes.meta import FakeMeta
from tests.platforms.meta.conftest import facebook_post, instagram_post
from tests.support import samples
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness
from tests.support.platforms import publish


async def _login(harness: Harness, caller: Caller, platform: str) -> httpx.Response:
    """Start, let the fake login dialog grant, and follow its redirect to the callback."""
    started = await harness.client.post(f"/oauth/{platform}/start", headers=caller.headers)
    assert started.status_code == 200, started.text
    url = started.json()["authorizeUrl"]
    query = parse_qs(urlsplit(url).query)
    assert "instagram_content_publish" in query["scope"][0].split()
    assert query["redirect_uri"] == [f"{harness.settings.public_url}/oauth/{platform}/callback"]
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(url)
    assert consent.status_code == 302, consent.text
    return await harness.client.get(consent.headers["location"])


async def _accounts(harness: Harness, caller: Caller) -> list[dict[str, str]]:
    response = await harness.client.get("/v2/users/me/accounts", headers=caller.headers)
    items: list[dict[str, str]] = response.json()["items"]
    return items


async def test_facebook_login_connects_pages_with_long_lived_tokens_and_they_can_post(
    meta_app: Harness, fake_meta: FakeMeta
) -> None:
    caller = await meta_app.user()
    user = fake_meta.add_user("Grace Hopper")
    first = fake_meta.add_page(user, "Navy Cafe")
    second = fake_meta.add_page(user, "Compiler Club")
    fake_meta.authorize_as = user.id

    page = await _login(meta_app, caller, "facebook")

    assert page.status_code == 200, page.text
    [account] = await _accounts(meta_app, caller)
    assert account["platform"] == "facebook" and account["fullname"] == "Grace Hopper"
    subs = await meta_app.client.get(
        f"/v2/users/me/accounts/{account['id']}/subaccounts", headers=caller.headers
    )
    assert {i["id"] for i in subs.json()["items"]} == {first.id, second.id}
    exchanges = [r.params.get("grant_type") for r in fake_meta.calls("token")]
    assert exchanges == [None, "fb_exchange_token"], "the code, then the long-lived exchange"
    row = await meta_app.db.read(lambda c: accounts.account_by_id(c, int(account["id"])))
    assert row is not None and row.credentials and "EAA" not in row.credentials

    status = await publish(meta_app, caller, facebook_post(account["id"], second, "by login"))
    assert status["status"] == "published", status
    assert [p.message for p in fake_meta.posts_of(second)] == ["by login"]


async def test_instagram_login_connects_every_linked_instagram_account(
    meta_app: Harness, fake_meta: FakeMeta, files: FileServer
) -> None:
    caller = await meta_app.user()
    user = fake_meta.add_user("Ada")
    fake_meta.add_page(user, "No Instagram here")
    bakery = fake_meta.add_page(user, "Bakery", instagram="adasbakery")
    fake_meta.add_page(user, "Cafe", instagram="adascafe")
    fake_meta.authorize_as = user.id

    page = await _login(meta_app, caller, "instagram")

    assert page.status_code == 200, page.text
    connected = await _accounts(meta_app, caller)
    assert sorted(a["username"] for a in connected) == ["adasbakery", "adascafe"]
    assert {a["platform"] for a in connected} == {"instagram"}
    bakery_account = next(a["id"] for a in connected if a["username"] == "adasbakery")
    url = files.add("a.jpg", samples.image())
    status = await publish(meta_app, caller, instagram_post(bakery_account, "hi", [url]))
    assert status["status"] == "published", status
    assert len(fake_meta.media_of(bakery.ig)) == 1  # type: ignore[arg-type]


async def test_a_login_with_no_linked_instagram_account_says_how_to_link_one(
    meta_app: Harness, fake_meta: FakeMeta
) -> None:
    caller = await meta_app.user()
    user = fake_meta.add_user("Lin")
    fake_meta.add_page(user, "Plain page")
    fake_meta.authorize_as = user.id

    page = await _login(meta_app, caller, "instagram")

    assert page.status_code == 400
    assert "Instagram professional account linked" in page.text
    assert await _accounts(meta_app, caller) == []


async def test_a_callback_with_a_forged_state_connects_nothing(
    meta_app: Harness, fake_meta: FakeMeta
) -> None:
    caller = await meta_app.user()
    response = await meta_app.client.get("/oauth/facebook/callback?state=forged&code=c")
    assert response.status_code == 400
    assert await _accounts(meta_app, caller) == []


async def test_accounts_add_with_a_revoked_token_is_refused_in_metas_words(
    meta_app: Harness, fake_meta: FakeMeta
) -> None:
    caller = await meta_app.user()
    user = fake_meta.add_user("Old")
    token = fake_meta.user_token(user)
    fake_meta.revoke(token)
    with pytest.raises(Permanent, match="code 190"):
        await connect_account(
            meta_app.db,
            meta_app.ctx.secrets,
            meta_app.ctx.publishers["facebook"],
            user_id=caller.user_id,
            credentials={"access_token": token},
        )


async def test_a_token_given_directly_is_exchanged_for_a_long_lived_one(
    meta_app: Harness, fake_meta: FakeMeta
) -> None:
    """Page tokens listed with a short-lived user token end within hours; with a long-lived
    one they do not."""
    caller = await meta_app.user()
    user = fake_meta.add_user("Short")
    short = fake_meta.user_token(user, lifetime=3600)
    _, connected = await connect_account(
        meta_app.db,
        meta_app.ctx.secrets,
        meta_app.ctx.publishers["facebook"],
        user_id=caller.user_id,
        credentials={"access_token": short},
    )
    assert connected.credentials["access_token"] != short
    assert connected.credentials["expires_at"]
    assert [r.params["fb_exchange_token"] for r in fake_meta.calls("token")] == [short]
