"""Part 7: event webhooks under a burst. The dispatch run of part 2 (N posts due at one
instant T, webhook receiver over HTTP), without any subscription and with a `post.published`
subscription on the same receiver, in the same run and on the same database kind, in the
order without, with, with, without (so that a drift of the shared machine's load weighs on
both sides alike). With a subscription N events must arrive, each once; we report
publish-to-delivery (arrival minus the moment the post was stored as published, which is
when its event was written) and the dispatch lag of the posts themselves (goal: with events
within 1.2x of without, comparing the means of the two runs of each)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from bench.dispatch import DispatchPlan

GOAL_RATIO = 1.2
Runner = Callable[[Path, DispatchPlan, int | None, int | None], Awaitable[dict[str, Any]]]
MEASURES = {
    "lag_p50": lambda run: run["lag"]["p50_ms"],
    "lag_p99": lambda run: run["lag"]["p99_ms"],
    "all_published": lambda run: run["seconds_to_all_published"],
}


@dataclass(frozen=True)
class EventsPlan:
    posts: int = 10_000
    timeout: float = 240.0
    """Seconds after T before a run gives up (the events come after the posts)."""


def _ratio(with_events: list[dict[str, Any]], without: list[dict[str, Any]], key: str) -> Any:
    values_with = [MEASURES[key](run) for run in with_events]
    values_without = [MEASURES[key](run) for run in without]
    if None in values_with or None in values_without:
        return None
    return round(fmean(values_with) / fmean(values_without), 3)


async def run_events(
    run: Runner,
    workdir: Path,
    plan: EventsPlan,
    server_cpu: int | None,
    client_cpu: int | None,
) -> dict[str, Any]:
    """`run` is bench.dispatch's run_sqlite or run_postgres."""
    base = DispatchPlan(posts=plan.posts, timeout=plan.timeout)
    subscribed = dataclasses.replace(base, subscribed=True)
    runs = []
    for n, each in enumerate((base, subscribed, subscribed, base)):
        runs.append(await run(workdir / f"run{n}", each, server_cpu, client_cpu))
    without = [runs[0], runs[3]]
    with_events = [runs[1], runs[2]]
    ratios = {key: _ratio(with_events, without, key) for key in MEASURES}
    delivered = all(
        r["events"]["delivered"] == plan.posts and r["events"]["unknown_ids"] == 0
        for r in with_events
    )
    return {
        "database": runs[0]["database"],
        "posts": plan.posts,
        "runs": runs,
        "ratios": ratios,
        "all_events_delivered": delivered,
        "ratios_ok": all(r is not None and r <= GOAL_RATIO for r in ratios.values()),
    }
