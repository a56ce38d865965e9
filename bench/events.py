"""Part 7: event webhooks under a burst. The dispatch run of part 2 (N posts due at one
instant T, webhook receiver over HTTP), first without any subscription and then, in the same
run and on the same database kind, with a `post.published` subscription on the same receiver:
N events must arrive, each once; we report publish-to-delivery (arrival minus the moment the
post was stored as published, which is when its event was written) and the dispatch lag of
the posts themselves in both runs (goal: with events within 1.2x of without)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.dispatch import DispatchPlan

GOAL_RATIO = 1.2
Runner = Callable[[Path, DispatchPlan, int | None, int | None], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class EventsPlan:
    posts: int = 10_000
    timeout: float = 240.0
    """Seconds after T before a run gives up (the events come after the posts)."""


def _ratio(with_events: float | None, without: float | None) -> float | None:
    if not with_events or not without:
        return None
    return round(with_events / without, 3)


async def run_events(
    run: Runner,
    workdir: Path,
    plan: EventsPlan,
    server_cpu: int | None,
    client_cpu: int | None,
) -> dict[str, Any]:
    """`run` is bench.dispatch's run_sqlite or run_postgres."""
    base = DispatchPlan(posts=plan.posts, timeout=plan.timeout)
    without = await run(workdir / "without", base, server_cpu, client_cpu)
    subscribed = dataclasses.replace(base, subscribed=True)
    with_events = await run(workdir / "with", subscribed, server_cpu, client_cpu)
    events = with_events["events"]
    ratios = {
        "lag_p50": _ratio(with_events["lag"]["p50_ms"], without["lag"]["p50_ms"]),
        "lag_p99": _ratio(with_events["lag"]["p99_ms"], without["lag"]["p99_ms"]),
        "all_published": _ratio(
            with_events["seconds_to_all_published"], without["seconds_to_all_published"]
        ),
    }
    return {
        "database": without["database"],
        "posts": plan.posts,
        "without": without,
        "with": with_events,
        "events": events,
        "ratios": ratios,
        "all_events_delivered": events["delivered"] == plan.posts and events["unknown_ids"] == 0,
        "ratios_ok": all(r is not None and r <= GOAL_RATIO for r in ratios.values()),
    }
