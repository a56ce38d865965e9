"""A bounded cache whose entries expire a fixed time after they are stored.

For the lookups every API request makes (its key's owner, the post's account):
`cachetools.TTLCache` walks its expiry list under a timer on every read, ten times the cost of
a dict lookup, and the two reads were 3-6% of the event loop on `POST /v2/posts` (py-spy).
Here a read is one dict lookup and one clock read. Every entry lives the same `ttl`, so the
dict's insertion order is also expiry order, and the first entries are the ones to evict.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    def __init__(
        self, maxsize: int, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def __setitem__(self, key: K, value: V) -> None:
        now = self._clock()
        self._entries.pop(key, None)  # re-stored entries move to the end: order = expiry
        while self._entries:
            oldest = next(iter(self._entries))
            if len(self._entries) < self.maxsize and self._entries[oldest][0] > now:
                break
            del self._entries[oldest]
        self._entries[key] = (now + self.ttl, value)

    def pop(self, key: K, default: V | None = None) -> V | None:
        entry = self._entries.pop(key, None)
        return default if entry is None else entry[1]

    def __len__(self) -> int:
        return len(self._entries)
