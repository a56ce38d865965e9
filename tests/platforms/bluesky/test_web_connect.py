"""Connecting a Bluesky account from /settings/accounts in headless Chromium, against the
real PDS: the handle and app-password form, the card that lists the account, and the app
password never shown back."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.platforms.bluesky.conftest import bluesky_settings
from tests.support.bluesky_pds import Pds, PdsAccount
from tests.support.harness import served_app
from tests.support.web import (
    browser_sign_in,
    chromium,
    needs_chromium,
    screenshot,
    user_with_password,
)

pytestmark = needs_chromium


async def test_connect_bluesky_with_an_app_password(
    tmp_path: Path, pds: Pds, alice: PdsAccount
) -> None:
    settings = bluesky_settings(tmp_path, pds.url)
    async with served_app(settings, run_worker=False) as app, chromium() as browser:
        base = app.settings.public_url
        ada = await user_with_password(app, "ada@example.com")
        await app.account(ada, "webhook", username="hooks")
        page = await (await browser.new_context(viewport={"width": 1100, "height": 800})).new_page()
        await browser_sign_in(page, base, ada.email)

        await page.goto(f"{base}/settings/accounts")
        await page.get_by_label("Handle").fill(alice.handle)
        await page.get_by_label("App password").fill(alice.app_password)
        await page.get_by_role("button", name="Connect Bluesky account").click()
        await expect(page.get_by_role("status")).to_have_text("Bluesky account connected")
        card = page.locator("section", has=page.get_by_role("heading", name="Bluesky"))
        await screenshot(page, "accounts")
        listed = await app.client.get("/v2/users/me/accounts", headers=ada.headers)
        html = await page.content()

        bluesky = [a for a in listed.json()["items"] if a["platform"] == "bluesky"]
        assert [a["username"] for a in bluesky] == [alice.handle]
        await expect(card).to_contain_text(f"@{alice.handle}")
        await expect(card.locator(f"#account-{bluesky[0]['id']}")).to_have_text(bluesky[0]["id"])
        await expect(card).to_contain_text("connected")
        assert alice.app_password not in html


async def test_a_refused_app_password_says_why(tmp_path: Path, pds: Pds, alice: PdsAccount) -> None:
    settings = bluesky_settings(tmp_path, pds.url)
    async with served_app(settings, run_worker=False) as app, chromium() as browser:
        base = app.settings.public_url
        ada = await user_with_password(app, "ada@example.com")
        page = await (await browser.new_context()).new_page()
        await browser_sign_in(page, base, ada.email)

        await page.goto(f"{base}/settings/accounts")
        await page.get_by_label("Handle").fill(alice.handle)
        await page.get_by_label("App password").fill("wrong-wrong-wrong-wrong")
        await page.get_by_role("button", name="Connect Bluesky account").click()

        await expect(page.get_by_role("alert")).to_contain_text("Bluesky refused the connection")
        listed = await app.client.get("/v2/users/me/accounts", headers=ada.headers)
        assert listed.json()["items"] == []
