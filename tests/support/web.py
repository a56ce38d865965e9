"""Helpers for the web UI's tests: users with passwords, signing in over HTTP, and Debian's
chromium driven by Playwright (async API: the app under test runs in the same event loop)."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy.engine import Connection

from masthead.security import hash_password
from masthead.store import users
from tests.support.harness import Caller, Harness

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')

needs_chromium = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason=f"{CHROMIUM} is missing: `make test` installs Debian's chromium when run as root",
)


async def user_with_password(harness: Harness, email: str, password: str = PASSWORD) -> Caller:
    """A user who can sign in to the web UI (and has an API key, as harness users do)."""
    caller = await harness.user(email)
    hashed = hash_password(password)
    await harness.db.write(lambda c: _set(c, email, hashed))
    return caller


def _set(conn: Connection, email: str, hashed: str) -> None:
    users.set_password_hash(conn, email, hashed)


def csrf_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a csrf_token"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_in(form.text)},
    )


async def page_token(client: httpx.AsyncClient, path: str = "/settings/keys") -> str:
    """The signed-in session's CSRF token, as its pages' forms carry it."""
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return csrf_in(response.text)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def browser_sign_in(page: Page, base_url: str, email: str) -> None:
    await page.goto(f"{base_url}/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base_url}/posts")


async def screenshot(page: Page, name: str) -> None:
    """The current pages for docs/screenshots (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
