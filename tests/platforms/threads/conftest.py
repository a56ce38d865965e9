"""A fake Threads for publisher tests, and Masthead apps whose Threads settings point at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from masthead.config import Settings
from masthead.dispatch import engine
from masthead.platforms import threads
from masthead.timeutil import iso, utcnow
from tests.fakes.threads import FakeThreads, User
from tests.support.harness import Caller, Harness, running_app
from tests.support.platforms import fake_settings

RATE_LIMIT_WAIT = 1.5
"""Seconds a Meta rate limit makes a post wait in these tests (10 minutes in production)."""


@pytest.fixture
def fake_threads() -> Iterator[FakeThreads]:
    with FakeThreads().running("requests that Threads' parameter rules refuse") as fake:
        yield fake


@pytest.fixture(autouse=True)
def quick_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries after 1 s instead of the engine's 10 s, and a short Meta rate-limit wait."""
    monkeypatch.setattr(engine, "RETRY_DELAYS", (1.0, 1.0, 1.0, 1.0, 1.0, 1.0))
    monkeypatch.setattr(threads, "RATE_LIMIT_WAIT", RATE_LIMIT_WAIT)


def threads_settings(tmp_path: Path, fake: FakeThreads, **overrides: Any) -> Settings:
    quick = {"threads_poll_seconds": 0.05, "threads_processing_limit_seconds": 5.0}
    return fake_settings(tmp_path, "threads", fake, **(quick | overrides))


@pytest.fixture
def settings(tmp_path: Path, fake_threads: FakeThreads) -> Settings:
    return threads_settings(tmp_path, fake_threads)


@pytest.fixture
async def app(settings: Settings, fake_threads: FakeThreads) -> AsyncIterator[Harness]:
    async with running_app(settings, transports={"threads": fake_threads.transport()}) as running:
        yield running


async def connect_threads(
    harness: Harness, caller: Caller, fake: FakeThreads, user: User, **token: Any
) -> str:
    """Connect `user`'s Threads account for `caller` the way `masthead accounts add` does,
    with a long-lived token (`token` passes `issue_token` options: age, lifetime, scopes)."""
    body = fake.issue_token(user, **token)
    now = utcnow()
    credentials = {  # as the OAuth callback stores a long-lived token
        "access_token": body["access_token"],
        "expires_at": iso(now + timedelta(seconds=body["expires_in"])),
        "issued_at": iso(now - timedelta(seconds=token.get("age", 0.0))),
    }
    return await harness.connect(caller, "threads", credentials)


def threads_post(
    account_id: str,
    *texts: str,
    media: tuple[str, ...] = (),
    thread_media: tuple[tuple[str, ...], ...] = (),
    **target: Any,
) -> dict[str, Any]:
    content: dict[str, Any] = {"text": texts[0], "mediaUrls": list(media), "platform": "threads"}
    if len(texts) > 1:
        extra = list(thread_media) + [()] * (len(texts) - 1 - len(thread_media))
        content["additionalPosts"] = [
            {"text": t, "mediaUrls": list(m)} for t, m in zip(texts[1:], extra, strict=True)
        ]
    return {
        "post": {
            "accountId": account_id,
            "content": content,
            "target": {"targetType": "threads", **target},
        }
    }
