"""One real `masthead serve` per fuzz module, seeded with a user (API key and password), a
webhook account, a Pinterest account with a board and a scheduled post, so that generated
requests meet real objects as well as unknown ones."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings

from masthead.app import create_app
from masthead.security import Secrets, hash_password
from masthead.store import users
from masthead.store.database import Database
from masthead.timeutil import iso, utcnow
from tests.conftest import make_settings
from tests.support.harness import Caller, migrate, seed_account, seed_user, webhook_post
from tests.support.server import ServerProcess
from tests.support.web import PASSWORD, csrf_in

SECRET = "fuzz-secret"
EMAIL = "fuzz@example.com"

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)
"""Bounded and derandomised: the same examples on every run, so CI time is known (a few
minutes for both modules) and a failure reproduces; raise `max_examples` locally to explore."""


@dataclass(frozen=True, slots=True)
class Live:
    server: ServerProcess
    caller: Caller
    post_id: str


async def _seed(data_dir: Path) -> Caller:
    url = f"sqlite:///{data_dir / 'masthead.db'}"
    await migrate(url)
    db = Database(url)
    await db.start()
    try:
        caller = await seed_user(db, Secrets([SECRET]), EMAIL)
        hashed = hash_password(PASSWORD)
        await db.write(lambda conn: users.set_password_hash(conn, EMAIL, hashed))
        await seed_account(db, caller, "webhook")
        await seed_account(db, caller, "pinterest", subaccounts=[("board", "123", "Ideas")])
    finally:
        await db.close()
    return caller


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    caller = asyncio.run(_seed(data_dir))
    server = ServerProcess(
        data_dir,
        {
            "MASTHEAD_SECRET_KEY": SECRET,
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_LOG_LEVEL": "WARNING",
        },
    )
    server.start()
    try:
        accounts = httpx.get(f"{server.base_url}/v2/users/me/accounts", headers=caller.headers)
        webhook = next(a["id"] for a in accounts.json()["items"] if a["platform"] == "webhook")
        later = iso(utcnow() + timedelta(days=30))
        body = webhook_post(webhook, "https://hooks.example.com/fuzz", scheduledTime=later)
        made = httpx.post(f"{server.base_url}/v2/posts", json=body, headers=caller.headers)
        assert made.status_code == 201, made.text
        yield Live(server, caller, made.json()["postSubmissionId"])
    finally:
        server.terminate()


def signed_in(base_url: str) -> tuple[dict[str, str], str]:
    """A browser session of the fuzz user: its cookies and its CSRF token."""
    with httpx.Client(base_url=base_url) as client:
        form = client.get("/login")
        answer = client.post(
            "/login",
            data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_in(form.text)},
        )
        assert answer.status_code == 303, answer.text
        token = csrf_in(client.get("/settings/keys").text)
        return dict(client.cookies), token


def served_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, HEAD aside: what the fuzz must cover."""
    app = create_app(make_settings(tmp_path), run_worker=False)
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        # FastAPI 0.16x keeps an included router whole; its routes are its candidates.
        routes = route.effective_candidates() if hasattr(route, "effective_candidates") else [route]
        for each in routes:
            path = getattr(each, "path", "")
            found |= {(m, path) for m in getattr(each, "methods", None) or () if m != "HEAD"}
    return found
