"""A comment whose answer was lost, settled at once by looking for it: X and Threads take no
idempotency key, so only the platform's own list of the account's replies can tell whether
the request was acted on."""

from __future__ import annotations

from collections.abc import Awaitable

from masthead.platforms.base import OutcomeUnknown, PublishError


async def found_or_unknown(unknown: OutcomeUnknown, find: Awaitable[str | None]) -> str:
    """The comment id `find` answers, else `unknown` raised again (never a blind resend)."""
    try:
        found = await find
    except PublishError:
        found = None  # the platform could not be asked: the outcome stays unknown
    if found is None:
        raise unknown
    return found
