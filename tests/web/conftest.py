"""A Masthead app per test with httpx clients that each keep their own cookies (one per
browser), for the web UI's HTTP-level tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from masthead.app import create_app
from masthead.config import Settings
from tests.conftest import make_settings
from tests.support.harness import Harness, migrate

Browsers = Callable[[], httpx.AsyncClient]


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, api_rate_limits="off", public_url="http://masthead.test")


@pytest.fixture
async def web(web_settings: Settings) -> AsyncIterator[tuple[Harness, Browsers]]:
    """The app, and a factory of cookie-keeping clients (each one a separate browser)."""
    await migrate(web_settings.sqlalchemy_url)
    app = create_app(web_settings, run_worker=False)
    clients: list[httpx.AsyncClient] = []

    def browser() -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=web_settings.public_url
        )
        clients.append(client)
        return client

    async with app.router.lifespan_context(app):
        api = browser()
        yield Harness(web_settings, app.state.ctx, api), browser
        for client in clients:
            await client.aclose()
