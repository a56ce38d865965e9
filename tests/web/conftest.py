"""A Masthead app per test with httpx clients that each keep their own cookies (one per
browser, each from the address it is given), for the web UI's HTTP-level tests; and a record
of every argon2 check."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from masthead.app import create_app
from masthead.config import Settings
from tests.conftest import make_settings
from tests.support.harness import Harness, migrate

Browsers = Callable[..., httpx.AsyncClient]
"""`browser(address="127.0.0.1")`: a new browser, connecting from `address`."""


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, api_rate_limits="off", public_url="http://masthead.test")


@pytest.fixture
async def web(web_settings: Settings) -> AsyncIterator[tuple[Harness, Browsers]]:
    """The app, and a factory of cookie-keeping clients (each one a separate browser)."""
    await migrate(web_settings.sqlalchemy_url)
    app = create_app(web_settings, run_worker=False)
    clients: list[httpx.AsyncClient] = []

    def browser(address: str = "127.0.0.1") -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 50000)),
            base_url=web_settings.public_url,
        )
        clients.append(client)
        return client

    async with app.router.lifespan_context(app):
        api = browser()
        yield Harness(web_settings, app.state.ctx, api), browser
        for client in clients:
            await client.aclose()


@dataclass(frozen=True, slots=True)
class Argon2Check:
    hash: str
    thread: str
    running: int
    """Checks running at that moment, this one included."""


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> list[Argon2Check]:
    """Every argon2 verification from here on: against which hash, on which thread."""
    checks: list[Argon2Check] = []
    running = 0
    lock = threading.Lock()
    verify = PasswordHasher.verify

    def recorded(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        nonlocal running
        with lock:
            running += 1
            checks.append(Argon2Check(str(hash), threading.current_thread().name, running))
        try:
            return verify(self, hash, password)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(PasswordHasher, "verify", recorded)
    return checks
