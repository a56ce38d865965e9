"""Every answer is counted by method, route template and status, and timed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from masthead.api import middleware
from masthead.api.middleware import RequestContextMiddleware


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 418, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def request(method: str) -> None:
    scope: dict[str, Any] = {"type": "http", "method": method, "path": "/x", "headers": []}

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        return None

    asyncio.run(RequestContextMiddleware(answer)(scope, receive, send))


def counted(method: str) -> tuple[float, float]:
    labels = {"method": method, "route": "unmatched"}
    total = REGISTRY.get_sample_value("masthead_http_requests_total", {**labels, "status": "418"})
    timed = REGISTRY.get_sample_value("masthead_http_request_duration_seconds_count", labels)
    return total or 0.0, timed or 0.0


def test_each_answer_is_counted_and_timed_once() -> None:
    before = counted("BREW")
    for _ in range(3):
        request("BREW")
    after = counted("BREW")
    assert (after[0] - before[0], after[1] - before[1]) == (3, 3)


def test_the_labelled_children_are_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[tuple[str, ...]] = []
    real = middleware.HTTP_REQUESTS.labels

    def labels(*values: str) -> Any:
        looked_up.append(values)
        return real(*values)

    monkeypatch.setattr(middleware.HTTP_REQUESTS, "labels", labels)
    for _ in range(3):
        request("WHEN")
    assert looked_up == [("WHEN", "unmatched", "418")]
