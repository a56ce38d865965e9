"""Part 2's baselines (bench/dispatch.py): the plain-SQL floor is seeded like the burst it
stands beside, whichever burst that is."""

from __future__ import annotations

from pathlib import Path

from bench.dispatch import DispatchPlan, sql_floor_sqlite


async def test_the_plain_sql_floor_publishes_a_burst_with_event_subscribers(
    tmp_path: Path,
) -> None:
    # Part 7 runs part 2 with a subscription; the floor writes no events and seeds none.
    plan = DispatchPlan(posts=25, subscribed=True)

    floor = await sql_floor_sqlite(tmp_path, plan, cpu=None)

    assert floor["published"] == 25
    assert floor["commits"] == 4  # one batch: claim, mark, outcome; then the empty claim
