"""Typed data between a publisher's steps reads back from what the engine stored as JSON."""

from __future__ import annotations

import orjson

from masthead.platforms.linkedin import PreparedPost
from masthead.platforms.pinterest import PinMedia
from masthead.platforms.seams import loaded, stored


def test_a_prepared_post_survives_the_engines_json_round_trip() -> None:
    post = PreparedPost("urn:li:organization:5", 1_700_000_000_000, media=["urn:li:image:1"])
    assert loaded(PreparedPost, orjson.loads(orjson.dumps(stored(post)))) == post


def test_data_stored_before_the_types_reads_back_by_its_keys() -> None:
    """A sending mark written by the untyped publishers (the same keys) still reconciles."""
    old = {"since": "2026-03-10T12:00:00.000Z", "video_id": "m1"}
    assert loaded(PinMedia, old) == PinMedia("2026-03-10T12:00:00.000Z", video_id="m1")
    assert loaded(PreparedPost, {"author": "urn:li:person:a", "since_ms": 5}).media == []


def test_absent_values_are_not_stored() -> None:
    assert stored(PinMedia("t", image_urls=["u"])) == {"since": "t", "image_urls": ["u"]}
