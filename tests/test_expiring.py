"""expiring.py: entries live exactly `ttl`, the size stays bounded, a pop forgets at once."""

from __future__ import annotations

from masthead.expiring import ExpiringCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def cache_on_clock(maxsize: int, ttl: float) -> tuple[Clock, ExpiringCache[str, int]]:
    clock = Clock()
    return clock, ExpiringCache(maxsize, ttl=ttl, clock=clock)


def test_an_entry_is_served_until_its_ttl_and_not_after() -> None:
    clock, cache = cache_on_clock(10, ttl=1.0)
    cache["key"] = 1
    clock.now += 0.999
    assert cache.get("key") == 1
    clock.now += 0.001
    assert cache.get("key") is None
    assert len(cache) == 0


def test_storing_again_restarts_the_ttl() -> None:
    clock, cache = cache_on_clock(10, ttl=1.0)
    cache["key"] = 1
    clock.now += 0.5
    cache["key"] = 2
    clock.now += 0.9
    assert cache.get("key") == 2


def test_a_full_cache_drops_its_oldest_entries_first() -> None:
    clock, cache = cache_on_clock(3, ttl=60.0)
    for key in "abcde":
        clock.now += 1
        cache[key] = ord(key)
    assert len(cache) == 3
    assert [cache.get(key) for key in "abcde"] == [None, None, ord("c"), ord("d"), ord("e")]


def test_expired_entries_make_room_before_live_ones_go() -> None:
    clock, cache = cache_on_clock(2, ttl=1.0)
    cache["old"] = 1
    clock.now += 2
    cache["new"] = 2
    cache["newer"] = 3
    assert (cache.get("new"), cache.get("newer")) == (2, 3)


def test_pop_forgets_at_once() -> None:
    """A revoked key must stop working in this process immediately (services/api_keys.py)."""
    _, cache = cache_on_clock(10, ttl=60.0)
    cache["key"] = 1
    assert cache.pop("key") == 1
    assert cache.get("key") is None
    assert cache.pop("key") is None
