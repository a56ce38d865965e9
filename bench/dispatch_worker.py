"""The dispatch engine alone in a process, for part 2 of the bench.

It imports everything, then blocks on a line on stdin before touching the database: the
parent starts it while it inserts the posts, so that the seconds of interpreter start-up do
not have to fit between the last insert and the due instant. Settings come from MASTHEAD_*
variables set by the parent. It touches --started once the dispatcher runs, drains on SIGTERM
as `masthead worker` does, then writes its CPU time and group-commit counts to --stats: CPU
per post says whether the engine is compute-bound, commits per post how well writes batch.

Run as `python -m bench.dispatch_worker --started F --stats F` (then a line on its stdin).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import time
from dataclasses import asdict
from pathlib import Path

import uvloop

from bench.null_platform import NullPublisher
from masthead import logs
from masthead.config import Settings, load_settings
from masthead.dispatch.runner import run_worker
from masthead.platforms.base import Publisher


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Collections:
    """Time spent in the cyclic garbage collector (gc.callbacks): in a burst it was a third
    of the worker's CPU before the worker froze its start-up objects (docs/performance.md)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.count += 1


async def run(settings: Settings, started: Path, null_out: Path | None) -> dict[str, float]:
    """Dispatch until SIGTERM; returns the CPU and collector seconds spent and the
    group-commit counts."""
    cpu_at_start = _cpu_seconds()
    collections = _Collections()
    gc.callbacks.append(collections)

    async def mark_started() -> None:
        await asyncio.to_thread(started.write_text, str(time.time()))

    publishers: dict[str, Publisher] | None = None
    if null_out is not None:
        publishers = {"webhook": NullPublisher(null_out)}
    stats = await run_worker(settings, on_started=mark_started, publishers=publishers)
    return {
        "cpu_seconds": _cpu_seconds() - cpu_at_start,
        "gc_seconds": collections.seconds,
        "gc_collections": collections.count,
        **asdict(stats),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--started", type=Path, required=True)
    parser.add_argument("--stats", type=Path, required=True)
    parser.add_argument(
        "--null-platform",
        type=Path,
        metavar="OUT",
        help="publish to the in-process zero-latency platform; its deliveries go to OUT",
    )
    args = parser.parse_args()
    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format)
    if not sys.stdin.readline():  # the parent went away before saying go
        return
    stats = uvloop.run(run(settings, args.started, args.null_platform))
    args.stats.write_text(json.dumps(stats))


if __name__ == "__main__":
    main()
