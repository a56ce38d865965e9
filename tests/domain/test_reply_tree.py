"""Replies at any depth filed under their top-level ancestor."""

from __future__ import annotations

from masthead.domain.reply_tree import top_level_parents


def test_a_reply_to_the_post_is_top_level_and_deeper_ones_go_under_it() -> None:
    parents: dict[str, str | None] = {"a": "post", "b": "a", "c": "b", "d": "post", "e": "d"}
    assert top_level_parents("post", parents) == {
        "a": None,
        "b": "a",
        "c": "a",
        "d": None,
        "e": "d",
    }


def test_a_reply_whose_chain_is_broken_is_top_level() -> None:
    assert top_level_parents("post", {"b": "gone", "c": "b", "x": None}) == {
        "b": None,
        "c": None,
        "x": None,
    }


def test_a_cycle_ends() -> None:
    assert top_level_parents("post", {"a": "b", "b": "a"}) == {"a": None, "b": None}
