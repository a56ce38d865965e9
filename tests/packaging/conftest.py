"""The container image, built once per session (skipped with the reason where podman cannot
run)."""

from __future__ import annotations

import pytest

from tests.support import podman


@pytest.fixture(scope="session")
def image() -> str:
    reason = podman.unavailable()
    if reason is not None:
        pytest.skip(f"podman cannot run containers here: {reason}")
    podman.build_image()
    return podman.IMAGE
