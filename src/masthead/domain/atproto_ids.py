"""atproto identifiers Masthead makes or reads: record keys (TIDs) and AT URIs."""

from __future__ import annotations

import secrets
import time

_BASE32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"


def new_tid(micros: int | None = None, clock_id: int | None = None) -> str:
    """A timestamp identifier: 13 characters of sortable base32 over 64 bits (0, 53 bits of
    microseconds since the epoch, 10 bits of clock id). app.bsky.feed.post records must be
    keyed by one; choosing it ourselves is what makes a post findable after a lost answer."""
    micros = time.time_ns() // 1000 if micros is None else micros
    clock_id = secrets.randbelow(1024) if clock_id is None else clock_id
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 1023)
    return "".join(_BASE32_SORTABLE[(value >> shift) & 31] for shift in range(60, -1, -5))


def rkey_of(uri: str) -> str:
    """The record key of `at://did/collection/rkey`."""
    return uri.rstrip("/").rsplit("/", 1)[-1]
