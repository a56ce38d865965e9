"""A real Masthead on 127.0.0.1 (uvicorn, real database, real dispatch) with the fake X, a
webhook receiver and a file server, for the MCP SDK's client to drive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import Client

from tests.conftest import make_settings
from tests.fakes.x import FakeX
from tests.platforms.twitter.conftest import fake_x as fake_x  # the fixture, shared
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness, served_app
from tests.support.mcp_client import connected
from tests.support.receiver import Receiver


@pytest.fixture
async def server(
    tmp_path: Path, fake_x: FakeX, receiver: Receiver, files: FileServer
) -> AsyncIterator[Harness]:
    settings = make_settings(
        tmp_path,
        api_rate_limits="off",
        fetch_allow=f"{receiver.allow},{files.allow}",
        x_api_url=fake_x.url,
        x_authorize_url=fake_x.authorize_url,
        x_client_id=fake_x.client_id,
        x_client_secret=fake_x.client_secret,
    )
    async with served_app(settings) as running:
        yield running


@asynccontextmanager
async def agent(harness: Harness, caller: Caller, mode: str = "auto") -> AsyncIterator[Client]:
    """An agent configured with `caller`'s key, as the settings page tells users to."""
    async with connected(harness.settings.public_url, caller.headers, mode) as client:
        yield client
