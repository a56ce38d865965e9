"""The web UI in headless Chromium against the app on a real loopback port: what a person
does, click by click. Each test saves the pages it visits into docs/screenshots/."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import expect

from masthead.config import Settings
from masthead.store import posts
from masthead.timeutil import iso, utcnow
from tests.support.analytics_seed import seed_measured
from tests.support.comments import remote, seed_inbound, seed_post
from tests.support.harness import served_app, webhook_post
from tests.support.receiver import Fault, Receiver
from tests.support.web import (
    browser_sign_in,
    chromium,
    needs_chromium,
    screenshot,
    user_with_password,
)

pytestmark = needs_chromium


async def test_sign_in_create_a_key_use_it_then_revoke_it(settings: Settings) -> None:
    async with served_app(settings, run_worker=False) as app, chromium() as browser:
        base = app.settings.public_url
        await user_with_password(app, "ada@example.com")
        page = await (await browser.new_context(viewport={"width": 1100, "height": 800})).new_page()
        await page.goto(f"{base}/login")
        await screenshot(page, "login")
        await browser_sign_in(page, base, "ada@example.com")

        await page.goto(f"{base}/settings/keys")
        await page.get_by_label("Name").fill("n8n")
        await page.get_by_role("button", name="Create key").click()
        key = (await page.locator("#new-key").text_content() or "").strip()
        await expect(page.locator("#curl-example")).to_contain_text(f"{base}/v2/users/me")
        await screenshot(page, "keys")
        me = await app.client.get("/v2/users/me", headers={"blotato-api-key": key})

        page.on("dialog", lambda dialog: dialog.accept())
        await page.get_by_role("button", name="Revoke n8n").click()
        await expect(page.get_by_role("button", name="Revoke n8n")).to_have_count(0)
        after = await app.client.get("/v2/users/me", headers={"blotato-api-key": key})
        await page.goto(f"{base}/settings/keys")

        assert key.startswith("blt_") and me.status_code == 200, me.text
        assert me.json()["email"] == "ada@example.com"
        assert after.status_code == 401
        await expect(page.locator("table")).not_to_contain_text("n8n")


async def test_schedule_through_the_api_see_it_in_the_calendar_then_cancel_it(
    settings: Settings,
) -> None:
    async with served_app(settings) as app, chromium() as browser:
        base = app.settings.public_url
        ada = await user_with_password(app, "ada@example.com")
        account = await app.account(ada, "webhook", username="hooks")
        when = utcnow() + timedelta(days=1)
        body = webhook_post(
            account, "https://example.com/hook", "See you tomorrow", scheduledTime=iso(when)
        )
        post_id = (await app.create_post(ada, body)).json()["postSubmissionId"]
        context = await browser.new_context(
            viewport={"width": 1100, "height": 800}, timezone_id="Europe/Paris"
        )
        page = await context.new_page()
        await browser_sign_in(page, base, ada.email)

        await page.goto(f"{base}/posts?week={when.date().isoformat()}")
        calendar = page.locator(".calendar")
        await expect(calendar).to_contain_text("See you tomorrow")
        await screenshot(page, "posts")
        await page.locator(f"#post-{post_id}").get_by_role("button", name="Cancel").click()
        await page.wait_for_url(f"{base}/posts")
        stored = await app.db.read(lambda c: posts.get_post(c, ada.user_id, post_id))

        assert stored is not None and stored.state == "cancelled"
        await expect(page.locator(f"#post-{post_id}")).to_have_count(0)


async def test_a_failed_post_shows_its_error_and_each_thread_item(
    settings: Settings, receiver: Receiver
) -> None:
    async with served_app(settings) as app, chromium() as browser:
        base = app.settings.public_url
        ada = await user_with_password(app, "ada@example.com")
        account = await app.account(ada, "webhook", username="hooks")
        receiver.script.append(Fault(status=400))
        body = webhook_post(account, receiver.url, "This one fails")
        post_id = (await app.create_post(ada, body)).json()["postSubmissionId"]
        failed = await app.wait_status(ada, post_id, {"failed", "published"})
        page = await (await browser.new_context(viewport={"width": 1100, "height": 800})).new_page()
        await browser_sign_in(page, base, ada.email)

        await page.goto(f"{base}/posts?status=failed")
        entry = page.locator(f"#post-{post_id}")
        await expect(entry).to_contain_text(failed["errorMessage"])
        await entry.get_by_role("link", name="Details").click()
        await expect(page.get_by_role("heading", name=f"Post {post_id}")).to_be_visible()
        await screenshot(page, "post-detail")

        assert failed["status"] == "failed"
        await expect(page.locator("table")).to_contain_text("not sent")


async def test_a_weekly_slot_is_added_in_the_browsers_time_zone(settings: Settings) -> None:
    async with served_app(settings, run_worker=False) as app, chromium() as browser:
        base = app.settings.public_url
        ada = await user_with_password(app, "ada@example.com")
        await app.account(ada, "webhook", username="hooks")
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, timezone_id="America/New_York"
        )
        page = await context.new_page()
        await browser_sign_in(page, base, ada.email)

        await page.goto(f"{base}/settings/slots")
        await expect(page.get_by_label("Time zone (IANA)")).to_have_value("America/New_York")
        await page.get_by_label("Day").select_option("tuesday")
        await page.get_by_label("Time", exact=True).fill("08:30")
        await page.get_by_role("button", name="Add slot").click()
        await expect(page.locator("tbody")).to_contain_text("08:30")
        await screenshot(page, "slots-phone")
        listed = await app.client.get("/v2/schedule/slots", headers=ada.headers)

        [slot] = listed.json()["items"]
        assert (slot["day"], slot["hour"], slot["minute"]) == ("tuesday", 8, 30)
        assert slot["timezone"] == "America/New_York"


async def test_every_page_and_the_api_docs_run_under_the_content_security_policy(
    settings: Settings,
) -> None:
    async with served_app(settings, run_worker=False) as app, chromium() as browser:
        base = app.settings.public_url
        ada = await user_with_password(app, "ada@example.com")
        await app.account(ada, "webhook", username="hooks")
        page = await (await browser.new_context(viewport={"width": 1100, "height": 800})).new_page()
        refused: list[str] = []
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        await browser_sign_in(page, base, ada.email)
        for path in (
            "/posts",
            "/analytics",
            "/settings/keys",
            "/settings/slots",
            "/settings/accounts",
        ):
            await page.goto(f"{base}{path}")
            await expect(page.locator("main h1")).to_be_visible()

        # The remove button asks first (static/app.js, no inline handler): no, then yes.
        remove = page.get_by_role("button", name="Remove")
        page.once("dialog", lambda dialog: dialog.dismiss())
        await remove.click()
        await expect(page.locator("main")).to_contain_text("@hooks")
        page.once("dialog", lambda dialog: dialog.accept())
        await remove.click()
        await expect(page.locator("main")).not_to_contain_text("@hooks")

        await page.goto(f"{base}/docs")
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Masthead")
        await expect(page.locator(".opblock").first).to_be_visible()

        assert refused == []


async def test_analytics_on_a_phone_shows_top_posts_and_draws_the_history(
    settings: Settings,
) -> None:
    async with served_app(settings, run_worker=False) as app, chromium() as browser:
        base = app.settings.public_url
        ada = await user_with_password(app, "ada@example.com")
        ids = await seed_measured(app, ada)
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        page = await context.new_page()
        await browser_sign_in(page, base, ada.email)

        await page.get_by_role("link", name="Analytics").click()
        await page.wait_for_url(f"{base}/analytics")
        first = page.locator(".top-posts tbody tr").first
        await expect(first).to_contain_text("Launch day")
        chart = page.locator("#history-chart")
        await expect(chart.locator("circle")).to_have_count(3)
        box = await chart.bounding_box()
        await screenshot(page, "analytics-phone")
        await page.get_by_role("link", name="Small fix release").click()
        await expect(page.locator("#history-title")).to_contain_text("Small fix release")
        width = await page.evaluate("document.documentElement.scrollWidth")

        assert box is not None and box["width"] <= 390
        assert width <= 390, "the page scrolls sideways on a phone"
        assert ids


async def test_reply_to_a_comment_from_the_inbox(settings: Settings) -> None:
    async with served_app(settings, run_worker=False) as app, chromium() as browser:
        base = app.settings.public_url
        ada = await user_with_password(app, "ada@example.com")
        account = await app.account(ada, "instagram", username="bakery")
        post = await seed_post(app.db, ada, account, "instagram")
        [fan] = await seed_inbound(
            app.db, ada, account, post, "instagram", [remote("181", "Open on Sunday?")]
        )
        page = await (await browser.new_context(viewport={"width": 1100, "height": 800})).new_page()
        await browser_sign_in(page, base, ada.email)
        await page.get_by_role("link", name="Comments").click()
        comment = page.locator(f"#comment-{fan}")
        await expect(comment).to_contain_text("Unanswered")
        await comment.get_by_label("Reply").fill("Yes, 9 to 1")
        await comment.get_by_role("button", name="Send reply").click()
        await expect(page.locator("main")).to_contain_text("Yes, 9 to 1")
        await expect(page.locator(f"#comment-{fan}")).not_to_contain_text("Unanswered")
        await expect(page.locator("main")).to_contain_text("queued")
        await screenshot(page, "comments")
