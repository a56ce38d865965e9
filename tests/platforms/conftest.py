"""`platform_account`: a connected account of each registered platform in turn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from masthead.platforms.registry import TARGET_TYPES
from tests.support.files import FileServer
from tests.support.platforms import PlatformAccount, platform_account


@pytest.fixture(name="platform_account", params=TARGET_TYPES)
async def platform_account_fixture(
    request: pytest.FixtureRequest, tmp_path: Path, files: FileServer
) -> AsyncIterator[PlatformAccount]:
    """One per platform of the registry (a test narrows them with indirect parametrisation)."""
    async with platform_account(request.param, tmp_path, files) as account:
        yield account
