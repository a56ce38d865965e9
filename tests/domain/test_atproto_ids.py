"""Record keys Masthead chooses for Bluesky posts must be TIDs the PDS accepts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from masthead.domain.atproto_ids import new_tid, rkey_of

TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def test_tids_have_the_syntax_the_lexicon_requires() -> None:
    assert all(TID.match(new_tid()) for _ in range(200))
    assert new_tid(0, 0) == "2222222222222"
    assert TID.match(new_tid((1 << 53) - 1, 1023))


def test_a_tid_encodes_its_time_like_the_reference_pds() -> None:
    # The reference PDS keyed a post "3n3eosaexhk2j" at 2026-11-28T12:19:32Z (transcript).
    at = datetime(2026, 11, 28, 12, 19, 32, tzinfo=UTC)
    assert new_tid(int(at.timestamp() * 1_000_000)).startswith("3n3eos")


def test_later_tids_sort_after_earlier_ones() -> None:
    assert new_tid(1_000_000, 1023) < new_tid(1_000_001, 0)


def test_rkey_of_an_at_uri() -> None:
    assert rkey_of("at://did:plc:abc/app.bsky.feed.post/3n3eosaexhk2j") == "3n3eosaexhk2j"
