"""Part 9, per platform, the measure itself: a platform's metrics reader, built as the server
builds it (`PlatformSpec.build(settings, transport)`), is handed the published posts in chunks
of its `metrics_batch`, as the collector hands them; the requests it made are counted at its
transport (token refreshes too) and held against the platform's batch bound. Where the posts
and the fake come from is bench/metrics_fakes.py (in-process fakes) and
bench/metrics_bluesky.py (the reference PDS)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import httpx

from masthead.config import Settings
from masthead.platforms.base import AccountContext, MetricsReader, MetricsSnapshot, PublishedPost
from masthead.platforms.metrics import chunked
from masthead.platforms.registry import SPECS


@dataclass
class Reading:
    """What one platform's reader is measured against: its settings and transport (the fake's),
    the account and its published posts."""

    settings: Settings
    transport: httpx.AsyncBaseTransport
    ctx: AccountContext
    posts: list[PublishedPost]
    invalid: list[str]
    """What the fake refuses against the platform's schema, filled as the reader asks."""
    requests_per_post: int = 1
    """For a platform without a many-ids call: its requests per post."""
    seed_seconds: float = 0.0
    """How long the fake took to hold the posts (not part of the reading)."""


class Counted(httpx.AsyncBaseTransport):
    """A fake's transport that counts the requests made through it (token refreshes too)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def request_goal(posts: int, per_request: int, requests_per_post: int = 1) -> int:
    """The batch bound: one request per `per_request` posts, or `requests_per_post` a post
    where the platform reads one post at a time (`per_request` 1)."""
    return math.ceil(posts / per_request) * (requests_per_post if per_request == 1 else 1)


def within_bound(row: dict[str, Any]) -> bool:
    """A row meets its goal: no more requests than the bound, a snapshot of every post, and
    no request the fake refused."""
    return (
        row["requests"] <= row["goal"] and row["snapshots"] == row["posts"] and not row["invalid"]
    )


async def read_metrics(platform: str, reading: Reading, one_per_request: bool) -> dict[str, Any]:
    """The posts of `reading` read through the platform's reader; its row of the table.
    `one_per_request`: the platform has no many-ids call (its goal is per post)."""
    transport = Counted(reading.transport)
    publisher = SPECS[platform].build(reading.settings, transport)
    assert isinstance(publisher, MetricsReader)
    count = len(reading.posts)
    batch = 1 if one_per_request else publisher.metrics_batch
    snapshots = 0
    try:
        started = time.monotonic()
        for chunk in chunked(reading.posts, publisher.metrics_batch):
            answers = await publisher.fetch_metrics(reading.ctx, chunk)
            snapshots += sum(isinstance(a, MetricsSnapshot) for a in answers.values())
        seconds = time.monotonic() - started
    finally:
        await publisher.aclose()
    row = {
        "platform": platform,
        "posts": count,
        "per_request": batch,
        "requests": transport.requests,
        "goal": request_goal(count, batch, reading.requests_per_post),
        "snapshots": snapshots,
        "seconds": round(seconds, 3),
        "seed_seconds": round(reading.seed_seconds, 3),
        "invalid": reading.invalid[:3],
    }
    return {**row, "ok": within_bound(row)}
