"""Fixtures for the media pipeline: a loopback file server the app may fetch from, and the
app itself (no dispatch worker unless a test asks for one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from masthead import app as app_module
from masthead.platforms.registry import TARGET_TYPES
from tests.conftest import make_settings
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness, running_app


@pytest.fixture
async def app(
    tmp_path: Path, files: FileServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """No dispatch worker runs, so posts to every target can be accepted and checked, even
    for platforms whose publisher is not in this build."""
    monkeypatch.setattr(app_module, "AVAILABLE", frozenset(TARGET_TYPES))
    settings = make_settings(
        tmp_path,
        fetch_allow=files.allow,
        api_rate_limits="off",
        media_max_bytes=8 * 1024 * 1024,
        media_fetch_timeout_seconds=3,
        media_read_timeout_seconds=1,
    )
    async with running_app(settings, run_worker=False) as running:
        yield running


@pytest.fixture
async def ada(app: Harness) -> Caller:
    return await app.user("ada@example.com")


async def post_media(app: Harness, caller: Caller, url: str) -> httpx.Response:
    return await app.client.post(
        "/v2/media",
        content=orjson.dumps({"url": url}),
        headers={**caller.headers, "Content-Type": "application/json"},
    )


def path_of(url: str) -> str:
    """The path of a hosted URL (the test client talks to the app directly)."""
    return httpx.URL(url).raw_path.decode()


def stored_files(app: Harness) -> list[Path]:
    root = app.settings.data_dir / "media"
    return [p for p in root.rglob("*") if p.is_file()]
