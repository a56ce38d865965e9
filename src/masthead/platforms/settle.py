"""A call whose answer was lost, settled at once by looking for what it made: X, LinkedIn,
Pinterest and Threads take no idempotency key, so only the platform's own list of the
account's posts or replies can tell whether the request was acted on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from masthead.platforms.base import OutcomeUnknown, Permanent, PublishError, Retryable

Found = TypeVar("Found")


async def found_or_unknown(unknown: OutcomeUnknown, find: Awaitable[Found | None]) -> Found:
    """What `find` answers (the post or comment the lost call made), else `unknown` raised
    again (never a blind resend)."""
    try:
        found = await find
    except PublishError:
        found = None  # the platform could not be asked: the outcome stays unknown
    if found is None:
        raise unknown
    return found


async def sent_or_found(
    send: Awaitable[Found], find: Callable[[], Awaitable[Found | None]]
) -> Found:
    """What `send` (the irreversible call) answers; when its answer was lost, what `find`
    finds of what it made, else the loss raised again (`found_or_unknown`)."""
    try:
        return await send
    except OutcomeUnknown as unknown:
        return await found_or_unknown(unknown, find())


async def answer_or_none(lookup: Awaitable[httpx.Response]) -> httpx.Response | None:
    """The platform's list to look for what a lost call made (its 200 answer); None when the
    platform could not be asked or refused to list, so the outcome stays unknown."""
    try:
        response = await lookup
    except (Retryable, Permanent):
        return None
    return response if response.status_code == 200 else None
