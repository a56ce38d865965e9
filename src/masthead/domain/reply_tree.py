"""Replies at any depth seen as the contract's comments, which nest one level: each reply is
filed under its top-level ancestor (the reply to the post it descends from). Pure."""

from __future__ import annotations

from collections.abc import Mapping


def top_level_parents(root: str, parents: Mapping[str, str | None]) -> dict[str, str | None]:
    """For each reply id in `parents` (reply id → the id it replies to), the id of its
    top-level ancestor, or None when it replies to `root` itself. A reply whose chain leaves
    what the platform returned (an ancestor deleted, hidden or outside the read window) is
    treated as top-level, as is one caught in a cycle."""
    tops: dict[str, str | None] = {}
    for reply, parent in parents.items():
        ancestor: str | None = None
        seen = {reply}
        while parent is not None and parent != root and parent in parents and parent not in seen:
            seen.add(parent)
            ancestor, parent = parent, parents[parent]
        tops[reply] = ancestor if parent == root else None
    return tops
