"""/analytics: top posts of the period for a metric, a post's history drawn as SVG, totals
per platform per day, filters, and only the signed-in user's posts."""

from __future__ import annotations

import re

from tests.support.analytics_seed import seed_measured
from tests.support.harness import Harness
from tests.support.web import sign_in, user_with_password
from tests.web.conftest import Browsers


async def test_top_posts_history_and_daily_totals_for_the_users_own_posts(
    web: tuple[Harness, Browsers],
) -> None:
    harness, browser = web
    ada = await user_with_password(harness, "ada@example.com")
    bob = await user_with_password(harness, "bob@example.com")
    ids = await seed_measured(harness, ada)
    client = browser()
    await sign_in(client, ada.email)
    page = (await client.get("/analytics")).text
    rows = re.findall(r'<tr id="top-([0-9a-f-]+)"', page)
    # views_count: viewsCount (Bluesky, 3x its likes) else impressionsCount (X).
    assert rows == [
        ids["Launch day: Masthead speaks the Blotato API"],
        ids["Self-hosting your social scheduler, a short guide"],
        ids["Thread: how we batch 100 X posts per metrics request"],
        ids["Small fix release"],
    ]
    assert "7,800" in page and "2,940" in page
    history = re.search(r'<svg id="history-chart".*?</svg>', page, re.S)
    assert history is not None and history.group(0).count("<circle") == 3
    assert 'aria-label="Views at each reading:' in history.group(0)
    daily = re.search(r'<svg id="daily-chart".*?</svg>', page, re.S)
    assert daily is not None and daily.group(0).count("<rect") == 4
    assert "4 of 4 posts" in page

    chosen = ids["Small fix release"]
    one = (await client.get("/analytics", params={"post": chosen, "metric": "likes_count"})).text
    assert f'<tr id="top-{chosen}" aria-current="true">' in one
    assert "Top posts by likes" in one
    only_x = (await client.get("/analytics", params={"platform": "twitter", "days": "7"})).text
    assert len(re.findall(r'<tr id="top-', only_x)) == 2 and "Last 7 days" in only_x

    other = browser()
    await sign_in(other, bob.email)
    theirs = (await other.get("/analytics", params={"post": chosen})).text
    assert '<tr id="top-' not in theirs and "Launch day" not in theirs
    assert "No post published in this period has been measured yet." in theirs
