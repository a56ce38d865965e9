"""Part 9's Bluesky row: Bluesky's metrics reader against the tests' fake AppView
(tests/fakes/bluesky_appview.py), which answers `app.bsky.feed.getPosts` from the records the
reference PDS really holds and refuses a request that breaks the lexicon (no `uris`, more than
25, one that is not an AT-URI). The PDS is a Node process, started as the tests start it
(tests/support/bluesky_pds.py: installed once per machine into a cache folder, bound to
127.0.0.1) and stopped on every way out, an error or Ctrl-C included.

One account publishes the posts on the PDS through `com.atproto.repo.applyWrites`, 200 a call
(the PDS's limit), before the clock starts; the reader then gets them in the collector's
chunks (bench/metrics_read.py): requests made (goal: one per 25 posts) and the time to read
them all. Without Node, npm or a PDS that starts, the row is not run and says why
(`BlueskyUnavailable`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from tests.fakes.bluesky_appview import POST, FakeAppView, session
from tests.support.bluesky_pds import Pds, PdsUnavailable, install
from tests.support.metrics import account, published

from bench.metrics_read import Reading, read_metrics
from masthead.config import Settings
from masthead.platforms.base import PublishedPost
from masthead.platforms.metrics import chunked

WRITES_PER_CALL = 200
"""The most writes the PDS takes in one `applyWrites`."""
CREATED_AT = "2026-12-03T12:00:00.000Z"


class BlueskyUnavailable(RuntimeError):
    """Node, npm or the PDS is not there: the row is not run, with this reason."""


def unavailable_reason(exc: Exception) -> str:
    """An install or start failure in one line: its first line, and the last line of the log
    it carries (npm's or the PDS's), where the cause usually is."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"


def post_writes(numbers: list[int]) -> list[dict[str, Any]]:
    """The `applyWrites` writes that create posts "post <n>" for each of `numbers`."""
    return [
        {
            "$type": "com.atproto.repo.applyWrites#create",
            "collection": POST,
            "value": {"$type": POST, "text": f"post {n}", "createdAt": CREATED_AT},
        }
        for n in numbers
    ]


@contextmanager
def pds_and_appview(workdir: Path) -> Iterator[tuple[Pds, FakeAppView]]:
    """The reference PDS in `workdir` with the fake AppView in front, both on 127.0.0.1 and
    both stopped when the block is left, however it is left."""
    try:
        installed = install()
        pds = Pds(installed, workdir)
    except (PdsUnavailable, RuntimeError) as exc:
        raise BlueskyUnavailable(unavailable_reason(exc)) from exc
    try:
        appview = FakeAppView(pds, installed)
        appview.start()
        try:
            yield pds, appview
        finally:
            appview.stop()
    finally:
        pds.stop()


async def publish_posts(pds: Pds, count: int) -> tuple[dict[str, Any], list[PublishedPost]]:
    """A new account's session and its `count` posts, published on the PDS, as Masthead
    stores a sent Bluesky post (its AT-URI, with the URI and CID as the send's data)."""
    who = await asyncio.to_thread(pds.create_account, "bench")
    signed_in = await asyncio.to_thread(session, pds, who)
    posts: list[PublishedPost] = []
    for numbers in chunked(range(count), WRITES_PER_CALL):
        body = {"repo": signed_in["did"], "writes": post_writes(numbers)}
        # One call at a time (the PDS writes a repository under a lock), each in a thread so
        # that Ctrl-C is seen between calls.
        answer = await asyncio.to_thread(
            pds.xrpc, "com.atproto.repo.applyWrites", body, signed_in["accessJwt"]
        )
        for made in answer["results"]:
            uri = str(made["uri"])
            posts.append(published(uri, data={"uri": uri, "cid": str(made["cid"])}))
    return signed_in, posts


async def measure_bluesky(workdir: Path, count: int) -> dict[str, Any]:
    """`count` posts published on the reference PDS, read through Bluesky's reader."""
    with pds_and_appview(workdir) as (pds, appview):
        started = time.monotonic()
        signed_in, posts = await publish_posts(pds, count)
        seed_seconds = time.monotonic() - started
        settings = Settings(
            secret_key="bench-metrics-fakes",
            bluesky_service_url=pds.url,
            bluesky_plc_url=pds.plc_url,
            bluesky_appview_url=appview.url,
        )
        did, handle = signed_in["did"], signed_in["handle"]
        # What a connected account holds (the repository is asked only about a post the
        # AppView leaves out, to tell a deleted one).
        ctx = account("bluesky", {}, did, handle, service=pds.url, did=did, handle=handle)
        reading = Reading(
            settings,
            httpx.AsyncHTTPTransport(),
            ctx,
            posts,
            appview.invalid,
            seed_seconds=seed_seconds,
        )
        return await read_metrics("bluesky", reading, one_per_request=False)
