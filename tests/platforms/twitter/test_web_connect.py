"""Connecting an X account from /settings/accounts in headless Chromium: the button, X's
consent (the fake stands in for it), the callback, and the card listing the account."""

from __future__ import annotations

from playwright.async_api import expect

from masthead.config import Settings
from tests.fakes.x import FakeX
from tests.support.harness import served_app
from tests.support.web import browser_sign_in, chromium, needs_chromium, user_with_password

pytestmark = needs_chromium


async def test_connect_x_from_the_accounts_page(x_settings: Settings, fake_x: FakeX) -> None:
    fake_x.authorize_as = fake_x.add_user("hopper", "Grace Hopper").id
    async with served_app(x_settings, run_worker=False) as app, chromium() as browser:
        base = app.settings.public_url
        ada = await user_with_password(app, "ada@example.com")
        page = await (await browser.new_context()).new_page()
        await browser_sign_in(page, base, ada.email)

        await page.goto(f"{base}/settings/accounts")
        await page.get_by_role("button", name="Connect X").click()
        await expect(page.get_by_role("heading", name="Account connected")).to_be_visible()
        await page.goto(f"{base}/settings/accounts")
        card = page.locator("section", has=page.get_by_role("heading", name="X", exact=True))
        listed = await app.client.get("/v2/users/me/accounts", headers=ada.headers)

        [account] = listed.json()["items"]
        assert account["username"] == "hopper"
        await expect(card).to_contain_text("@hopper")
        await expect(card.locator(f"#account-{account['id']}")).to_have_text(account["id"])
        await expect(card).to_contain_text("connected")
        await expect(card.get_by_role("button", name="Reconnect")).to_be_visible()
        assert fake_x.calls("token"), "the code was traded for tokens at X"
