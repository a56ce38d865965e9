"""Waiting for a platform to finish processing an upload before a post may use it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from masthead.platforms.base import Permanent, Retryable


@dataclass(frozen=True, slots=True)
class Processing:
    """How one platform's status answer tells an upload's processing: the `status` it gives
    once the upload is ready and once processing failed, the field that says why it failed
    (when it has one), and how long to wait at the most (seconds)."""

    platform: str
    """How messages call the platform ("LinkedIn")."""
    ready: str
    failed: str
    limit: float
    reason: str | None = None


async def until_processed(
    processing: Processing,
    status: Callable[[], Awaitable[Mapping[str, Any]]],
    what: str,
    pause: float,
) -> None:
    """Read `status` every `pause` seconds until it says the upload (`what`: "the video 42")
    is ready. Failed processing is `Permanent`, in the platform's reason when it gives one.
    After `processing.limit` seconds the wait is `Retryable`: an upload creates nothing
    visible, so the work may start again."""
    deadline = time.monotonic() + processing.limit
    while True:
        body = await status()
        state = body.get("status")
        if state == processing.failed:
            why = ""
            if processing.reason is not None:
                why = f": {body.get(processing.reason) or 'no reason given'}"
            raise Permanent(f"{processing.platform} could not process {what}{why}")
        if state == processing.ready:
            return
        if time.monotonic() > deadline:
            raise Retryable(f"{processing.platform} is still processing {what}")
        await asyncio.sleep(pause)
