"""The cyclic garbage collector's settings for a long-running process (`masthead serve`,
`masthead worker`), applied once start-up is done."""

from __future__ import annotations

import gc

YOUNG_COLLECTION_AFTER = 20_000
"""Allocations between two young collections (Python's default: 700). A burst keeps
thousands of posts in flight, each with its task, futures and request, and every young pass
walked them again: with the default, 1,250 collections took 1.1-1.4 s of a 10,000-post webhook
burst's ~5 s of CPU even with the start-up objects frozen (2.3 s without); with this, 12
took 0.3 s. The server under the soak's mixed load at 300 req/s made 9 collections a
second with the default (a full one every 14 s), 1.4-1.5 s of 150 s; with this, 8-16 in all,
0.24-0.36 s, and no full one (docs/performance.md, part 6)."""


def settle() -> None:
    """Call once start-up has built what lives as long as the process: it is moved out of
    the collector's reach (its full passes walked it and stalled requests), and young
    collections run less often."""
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_AFTER)
