"""Fixtures and body builders for the API contract tests (shared/spec/blotato-v2-api.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.support.harness import Caller, Harness, running_app

ISO_MS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
"""The compat timestamp format: `2026-03-11T15:30:00.000Z`."""
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
FAR_HOOK = "https://hooks.example.com/masthead"
"""A public webhook URL that tests never let the dispatcher reach (scheduled far ahead, or no
worker running)."""


@pytest.fixture
async def idle(tmp_path: Path) -> AsyncIterator[Harness]:
    """The real app and database without a dispatch worker (and without the webhook
    receiver): nothing is ever sent, so an immediate post stays `in-progress` and shapes can
    be checked without racing dispatch."""
    settings = make_settings(tmp_path, api_rate_limits="off")
    async with running_app(settings, run_worker=False) as running:
        yield running


@pytest.fixture
async def ada(idle: Harness) -> Caller:
    return await idle.user("ada@example.com")


@pytest.fixture
async def bob(idle: Harness) -> Caller:
    return await idle.user("bob@example.com")


def in_seconds(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def later(days: float = 1.0) -> str:
    """A scheduledTime comfortably in the future, whole seconds, UTC with Z."""
    when = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    return when.isoformat().replace("+00:00", "Z")


def hook_post(account_id: str, url: str = FAR_HOOK, text: str = "Hello", **root: Any) -> Any:
    return {
        "post": {
            "accountId": account_id,
            "content": {"text": text, "mediaUrls": [], "platform": "other"},
            "target": {"targetType": "webhook", "url": url},
        },
        **root,
    }


def facebook_post(account_id: str, page_id: str, text: str = "Hello", **root: Any) -> Any:
    return {
        "post": {
            "accountId": account_id,
            "content": {"text": text, "mediaUrls": [], "platform": "facebook"},
            "target": {"targetType": "facebook", "pageId": page_id},
        },
        **root,
    }


def twitter_post(account_id: str, text: str = "Hello", **root: Any) -> Any:
    return {
        "post": {
            "accountId": account_id,
            "content": {"text": text, "mediaUrls": [], "platform": "twitter"},
            "target": {"targetType": "twitter"},
        },
        **root,
    }


async def created_id(harness: Harness, caller: Caller, body: Any) -> str:
    response = await harness.create_post(caller, body)
    assert response.status_code == 201, response.text
    post_id: str = response.json()["postSubmissionId"]
    return post_id
