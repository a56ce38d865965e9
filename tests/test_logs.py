"""Log lines: JSON for machines, readable at a terminal, chosen by MASTHEAD_LOG_FORMAT."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from masthead import logs


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    ("fmt", "stream", "chosen"),
    [
        ("auto", Terminal(), "text"),
        ("auto", io.StringIO(), "json"),
        ("json", Terminal(), "json"),
        ("text", io.StringIO(), "text"),
    ],
)
def test_auto_is_readable_at_a_terminal_and_json_elsewhere(
    fmt: logs.LogFormat, stream: io.StringIO, chosen: str
) -> None:
    assert logs.resolve_format(fmt, stream) == chosen


def _emit(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, fmt: logs.LogFormat) -> str:
    monkeypatch.setattr(sys, "stderr", stream)
    logs.configure("INFO", fmt)
    token = logs.request_id.set("req-1")
    try:
        logging.getLogger("masthead.test").info("stored %d posts", 3)
    finally:
        logs.request_id.reset(token)
    return stream.getvalue()


def test_json_lines_carry_the_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    line = json.loads(_emit(monkeypatch, io.StringIO(), "auto"))
    assert line["message"] == "stored 3 posts"
    assert line["level"] == "INFO" and line["logger"] == "masthead.test"
    assert line["request_id"] == "req-1"


def test_readable_lines_at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _emit(monkeypatch, Terminal(), "auto")
    assert not text.startswith("{")
    assert "INFO  masthead.test  stored 3 posts  [req-1]" in text
