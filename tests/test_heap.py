"""The collector's settings for a long-running process (src/masthead/heap.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from masthead.heap import YOUNG_COLLECTION_AFTER, settle
from tests.conftest import make_settings
from tests.support.harness import running_app

PYTHON_DEFAULT = (700, 10, 10)


@pytest.fixture
def default_collector() -> Iterator[None]:
    """Python's own settings for the test, and the suite's back after it."""
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(*PYTHON_DEFAULT)
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.usefixtures("default_collector")
def test_settling_freezes_the_start_up_objects_and_spaces_young_collections() -> None:
    settle()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG_COLLECTION_AFTER, 10, 10)


@pytest.mark.usefixtures("default_collector")
async def test_the_server_settles_once_started(tmp_path: Path) -> None:
    async with running_app(make_settings(tmp_path), run_worker=False):
        assert gc.get_threshold()[0] == YOUNG_COLLECTION_AFTER
        assert gc.get_freeze_count() > 0
