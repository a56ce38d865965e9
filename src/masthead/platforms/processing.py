"""Waiting for a platform to finish processing an upload before a post may use it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from masthead.platforms.base import Retryable


async def until_processed(
    look: Callable[[], Awaitable[bool]], still: str, limit: float, pause: float
) -> None:
    """Ask `look` every `pause` seconds until it answers True (it raises the platform's own
    refusal itself). After `limit` seconds the wait is `Retryable` with the words `still`: an
    upload creates nothing visible, so the work may start again."""
    deadline = time.monotonic() + limit
    while not await look():
        if time.monotonic() > deadline:
            raise Retryable(still)
        await asyncio.sleep(pause)
