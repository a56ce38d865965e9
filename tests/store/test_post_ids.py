"""Post ids (store/posts.new_post_id): valid UUIDs, unguessable, in time order."""

from __future__ import annotations

import time
import uuid

from masthead.store import posts


def test_new_post_ids_are_uuid7_in_time_order() -> None:
    """Post ids carry their creation time first, so that inserts append to the primary key's
    index (store/posts.new_post_id) and stay valid, unguessable UUIDs."""
    before = time.time_ns() // 1_000_000
    ids = []
    for _ in range(3):
        ids.append(posts.new_post_id())
        time.sleep(0.002)
    after = time.time_ns() // 1_000_000
    parsed = [uuid.UUID(post_id) for post_id in ids]
    assert [str(u) for u in parsed] == ids
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert ids == sorted(ids)
    assert all(before <= u.int >> 80 <= after for u in parsed)
    assert len({posts.new_post_id() for _ in range(10_000)}) == 10_000
