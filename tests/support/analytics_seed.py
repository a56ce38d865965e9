"""A user's measured posts on X and Bluesky with a few readings each: what the analytics page
and its screenshot show."""

from __future__ import annotations

from datetime import timedelta

from masthead.timeutil import utcnow
from tests.support.analytics import measure, publish
from tests.support.harness import Caller, Harness

POSTS = (
    ("twitter", "Launch day: Masthead speaks the Blotato API", 2, (900, 4200, 7800)),
    ("twitter", "Thread: how we batch 100 X posts per metrics request", 4, (300, 1200)),
    ("bluesky", "Self-hosting your social scheduler, a short guide", 1, (120, 640, 980)),
    ("bluesky", "Small fix release", 6, (40,)),
)
"""(platform, text, days since publishing, views at each reading)."""


async def seed_measured(harness: Harness, caller: Caller) -> dict[str, str]:
    """The posts above, published and measured; returns post id by text."""
    accounts = {
        "twitter": await harness.account(caller, "twitter", username="masthead"),
        "bluesky": await harness.account(caller, "bluesky", username="masthead.bsky.social"),
    }
    ids: dict[str, str] = {}
    now = utcnow()
    for n, (platform, text, age, views) in enumerate(POSTS):
        published = now - timedelta(days=age, hours=n)
        [post_id] = await publish(
            harness.db, caller, accounts[platform], platform, [f"r{n}"], published, {}, text=text
        )
        for k, value in enumerate(views):
            metrics = {"impressionsCount" if platform == "twitter" else "likesCount": str(value)}
            if platform == "bluesky":
                metrics["viewsCount"] = str(value * 3)
            await measure(harness.db, post_id, metrics, published + timedelta(hours=6 + 18 * k))
        ids[text] = post_id
    return ids
