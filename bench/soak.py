"""Part 6: a long run of mixed API traffic at half the peak rate on `masthead serve` (embedded
SQLite, the default), for what short runs cannot show: a leak (RSS that keeps growing), an
error that happens once in a hundred thousand requests, a dispatcher that falls behind or
delivers a post twice while the API is busy.

The mix is mostly creating posts far in the future, some due at once to a webhook receiver
(so the dispatcher works throughout), reads of existing posts and of the account list, and
PATCHes that move a scheduled post. Goals: no answer outside 2xx and no connection error,
RSS at the end within 10% of RSS at the end of the warm-up, and every post due at once
delivered exactly once.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import openloop, profile
from bench.api import _masthead
from bench.procs import (
    HOST,
    BenchError,
    child,
    clean_env,
    cpu_seconds,
    free_port,
    python_module,
    rss_mib,
    wait_for_port,
)
from masthead.domain.states import State
from masthead.timeutil import iso, utcnow

GOAL_RSS_GROWTH = 0.10
WINDOW_SECONDS = 10.0
"""openloop's window for latency over time."""
WARMUP_MAX_SECONDS = 60.0
WARMUP_SHARE = 0.10
SETTLED_CPU = 0.05
"""Seconds of server CPU, and of the machine's iowait, per second below which the server
counts as quiet (`_settle`)."""
MIX_WEIGHTS = {"post-future": 40, "post-now": 15, "get-post": 30, "get-accounts": 10, "patch": 5}


@dataclass(frozen=True)
class SoakPlan:
    seconds: float = 600.0
    probe_seconds: float = 5.0
    probe_rate: float = 3000.0
    """Far above what one process serves: the achieved rate is then the capacity."""
    pool: int = 200
    """Scheduled posts that the GET and PATCH requests take in turn."""
    sample_every: float = 2.0
    drain_timeout: float = 120.0
    settle_timeout: float = 60.0
    profile_to: Path | None = None
    """Where to write a py-spy profile of the server over the whole soak (None: none)."""
    preload: int = 0
    """Posts scheduled ahead inserted before the load: the table a long soak leaves behind,
    reached at once (for a short before/after run)."""
    preload_published: int = 0
    """Published posts (scheduled at their creation) inserted before the load, each with the
    item row its publication writes: the history a long soak leaves behind."""
    rate: float | None = None
    """A fixed rate instead of half the measured peak (before/after runs at the same rate)."""


def mix_requests(body: str, ids: list[str]) -> list[dict[str, Any]]:
    """The soak's mix: `body` is a webhook post scheduled far ahead, `ids` scheduled posts."""
    future = json.loads(body)
    now = {"post": future["post"]}
    move = {"patch": {"scheduledTime": iso(utcnow() + timedelta(days=60))}}
    requests: list[dict[str, Any]] = [
        {"kind": "post-future", "path": "/v2/posts", "body": future},
        {"kind": "post-now", "path": "/v2/posts", "body": now},
        {"kind": "get-post", "method": "GET", "paths": [f"/v2/posts/{i}" for i in ids]},
        {"kind": "get-accounts", "method": "GET", "path": "/v2/users/me/accounts"},
        {
            "kind": "patch",
            "method": "PATCH",
            "paths": [f"/v2/schedules/{i}" for i in ids],
            "body": move,
        },
    ]
    for request in requests:
        request["weight"] = MIX_WEIGHTS[request["kind"]]
    return requests


def rss_growth(samples: list[tuple[float, float]], warmup: float) -> dict[str, Any]:
    """RSS at the end of the warm-up (the last sample at or before `warmup` seconds) against
    the last sample; growth as a fraction of the former."""
    if not samples:
        return {"warmup_mib": None, "end_mib": None, "growth": None}
    at_warmup = [mib for t, mib in samples if t <= warmup] or [samples[0][1]]
    start, end = at_warmup[-1], samples[-1][1]
    return {
        "warmup_mib": start,
        "end_mib": end,
        "max_mib": max(mib for _, mib in samples),
        "growth": round((end - start) / start, 4) if start else None,
    }


def _immediate_states(db_file: Path) -> dict[str, int]:
    """Posts sent without scheduledTime (the mix's `post-now`), by state."""
    with closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=30)) as conn:
        rows = conn.execute(
            "SELECT state, count(*) FROM posts WHERE scheduled_at IS NULL GROUP BY state"
        )
        return {state: int(n) for state, n in rows}


def _drain(db_file: Path, timeout: float) -> dict[str, int]:
    """Until no post due at once is still waiting or in flight (or `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        states = _immediate_states(db_file)
        busy = states.get(State.SCHEDULED, 0) + states.get(State.IN_PROGRESS, 0)
        if busy == 0 or time.monotonic() > deadline:
            return states
        time.sleep(0.5)


def _peak(probe: dict[str, Any], db_file: Path, plan: SoakPlan) -> float:
    """Requests per second of wall time that the server needed for all the work of an
    overload: answering, and then delivering the posts due at once, which the dispatcher
    partly leaves for after the burst. The answers' rate alone overstated what the server
    sustains (a soak at half of it still queued for tens of seconds)."""
    started = time.monotonic()
    _drain(db_file, plan.drain_timeout)
    answered_for = probe["completed"] / probe["achieved_rate"] if probe["achieved_rate"] else 0
    total = answered_for + time.monotonic() - started
    return round(probe["completed"] / total, 1) if total else 0.0


_PRELOAD = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
INSERT INTO posts (id, user_id, account_id, platform, subaccount_id, draft, state,
                   scheduled_at, post_time, due_at, attempt, version, created_at, updated_at)
SELECT lower(hex(randomblob(18))), p.user_id, p.account_id, p.platform, p.subaccount_id,
       p.draft, p.state, p.scheduled_at, p.post_time, p.due_at, p.attempt, p.version,
       p.created_at, p.updated_at
FROM n, (SELECT * FROM posts WHERE id = :template) AS p
"""


def _preload(db_file: Path, template: str, count: int) -> None:
    """`count` copies of the scheduled post `template` under new ids, in one transaction
    beside the running server (no ANALYZE: a deployment never runs one)."""
    with closing(sqlite3.connect(db_file, timeout=60)) as conn, conn:
        conn.execute(_PRELOAD, {"count": count, "template": template})


_PRELOAD_PUBLISHED = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
INSERT INTO posts (id, user_id, account_id, platform, subaccount_id, draft, state,
                   scheduled_at, post_time, due_at, attempt, version, created_at, updated_at,
                   public_url, finished_at)
SELECT 'pub-' || i, p.user_id, p.account_id, p.platform, p.subaccount_id, p.draft,
       'published', p.created_at, p.created_at, NULL, 1, p.version, p.created_at, p.updated_at,
       'http://127.0.0.1/pub-' || i, p.created_at
FROM n, (SELECT * FROM posts WHERE id = :template) AS p
"""
_PRELOAD_PUBLISHED_ITEMS = """
INSERT INTO post_items (post_id, position, state, remote_id, public_url, sending_at, sent_at)
SELECT id, 0, 'published', id, public_url, finished_at, finished_at
FROM posts WHERE id LIKE 'pub-%'
"""


def _preload_published(db_file: Path, template: str, count: int) -> None:
    """`count` published posts like `template`, each with its item, in one transaction."""
    with closing(sqlite3.connect(db_file, timeout=60)) as conn, conn:
        conn.execute(_PRELOAD_PUBLISHED, {"count": count, "template": template})
        conn.execute(_PRELOAD_PUBLISHED_ITEMS)


def _pool(port: int, key: str, body: str, count: int) -> list[str]:
    headers = {"blotato-api-key": key, "Content-Type": "application/json"}
    ids = []
    with httpx.Client(base_url=f"http://{HOST}:{port}", headers=headers, timeout=10) as client:
        for _ in range(count):
            answer = client.post("/v2/posts", content=body)
            if answer.status_code != 201:
                raise BenchError(f"creating the soak's posts: {answer.status_code} {answer.text}")
            ids.append(answer.json()["postSubmissionId"])
    return ids


def _wal_mib(db_file: Path) -> float:
    try:
        return round(db_file.with_name(db_file.name + "-wal").stat().st_size / 2**20, 1)
    except FileNotFoundError:
        return 0.0


@dataclass(frozen=True)
class Clocks:
    """Cumulative seconds at one sample: the server's CPU, and the machine's time stolen by
    its host and waiting on the disk (summed over its CPUs). A slow window with the server's
    CPU low and steal or iowait high was the machine, not the server."""

    at: float
    server_cpu: float
    steal: float
    iowait: float


def _clocks(pid: int, at: float) -> Clocks | None:
    tick = os.sysconf("SC_CLK_TCK")
    try:
        server_cpu = cpu_seconds(pid)
        cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    # /proc/stat's "cpu" line: user nice system idle iowait irq softirq steal.
    return Clocks(at, server_cpu, int(cpu[8]) / tick, int(cpu[5]) / tick)


def _settle(pid: int, timeout: float) -> float:
    """Seconds until the server's CPU and the machine's iowait over one second both fall
    under SETTLED_CPU, at most `timeout`: the soak measures sustained load, so it starts from
    a quiet server, not from the peak probe's overload. In every run so far it was quiet
    after the first second; the first-window stalls of earlier runs were the kernel writing
    back part 3's files (see `bench/run.py` `_part`), not the server."""
    started = time.monotonic()
    before = _clocks(pid, 0.0)
    while before is not None and time.monotonic() - started < timeout:
        time.sleep(1.0)
        after = _clocks(pid, 0.0)
        if after is None or (
            after.server_cpu - before.server_cpu < SETTLED_CPU
            and after.iowait - before.iowait < SETTLED_CPU
        ):
            break
        before = after
    return round(time.monotonic() - started, 1)


def _sampled(
    pid: int, db_file: Path, every: float, work: Any, *args: Any, **kwargs: Any
) -> tuple[Any, list[tuple[float, float]], list[tuple[float, float]], list[Clocks]]:
    """`work(*args, **kwargs)` in a thread while this one samples `pid`'s RSS and the size
    of the database's WAL file (both in MiB, by seconds from the start), and `Clocks`."""
    samples: list[tuple[float, float]] = []
    wal: list[tuple[float, float]] = []
    clocks: list[Clocks] = []
    start = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(work, *args, **kwargs)
        while True:
            at = round(time.monotonic() - start, 1)
            mib = rss_mib(pid)
            if mib is not None:
                samples.append((at, mib))
            wal.append((at, _wal_mib(db_file)))
            if (now := _clocks(pid, at)) is not None:
                clocks.append(now)
            if wait([future], timeout=every).done:
                return future.result(), samples, wal, clocks


def with_samples(
    windows: list[dict[str, Any]],
    wal: list[tuple[float, float]],
    clocks: list[Clocks],
    width: float,
) -> list[dict[str, Any]]:
    """Each latency window with the largest WAL size sampled during it, and the server's CPU,
    the machine's steal and its iowait over it, in percent of one CPU (None: no sample)."""
    out = []
    for window in windows:
        start, end = window["from_s"], window["from_s"] + width
        sizes = [mib for t, mib in wal if start <= t < end]
        out.append(
            {
                **window,
                "wal_max_mib": max(sizes) if sizes else None,
                **_shares(clocks, start, end),
            }
        )
    return out


def _shares(clocks: list[Clocks], start: float, end: float) -> dict[str, float | None]:
    """From the last sample at or before `start` to the last one at or before `end`."""
    before = [c for c in clocks if c.at <= start]
    upto = [c for c in clocks if c.at <= end]
    first = before[-1] if before else (upto[0] if upto else None)
    last = upto[-1] if upto else None
    if first is None or last is None or last.at <= first.at:
        return {"server_cpu_pct": None, "steal_pct": None, "iowait_pct": None}
    span = last.at - first.at
    return {
        "server_cpu_pct": round(100 * (last.server_cpu - first.server_cpu) / span, 1),
        "steal_pct": round(100 * (last.steal - first.steal) / span, 1),
        "iowait_pct": round(100 * (last.iowait - first.iowait) / span, 1),
    }


def _profile_summary(out: Path | None) -> dict[str, Any] | None:
    if out is None:
        return None
    if not out.exists():
        return {"skipped": "no profile (py-spy missing? `.venv/bin/pip install py-spy`)"}
    return {"file": str(out), **profile.summarize(out)}


def run_soak(
    workdir: Path, plan: SoakPlan, server_cpu: int | None, client_cpu: int | None
) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    rx_port = free_port()
    rx_out = workdir / "rx-soak.json"
    with child(
        "webhook receiver",
        python_module("bench.receiver", "--port", str(rx_port), "--out", str(rx_out)),
        env=clean_env({}),
        log=workdir / "receiver-soak.log",
    ) as receiver:
        wait_for_port(receiver, rx_port)
        with _masthead(workdir, "masthead-soak", rx_port, server_cpu) as server:
            ids = _pool(server.port, server.key, server.body, plan.pool)
            if plan.preload:
                print(f"  soak: {plan.preload:,} posts scheduled ahead inserted ...", flush=True)
                _preload(server.db_file, ids[0], plan.preload)
            if plan.preload_published:
                print(
                    f"  soak: {plan.preload_published:,} published posts inserted ...", flush=True
                )
                _preload_published(server.db_file, ids[0], plan.preload_published)
            mix = workdir / "mix.json"
            mix.write_text(json.dumps({"requests": mix_requests(server.body, ids)}))

            def load(rate: float, seconds: float) -> dict[str, Any]:
                return openloop.measure(
                    server.port,
                    api_key=server.key,
                    rate=rate,
                    seconds=seconds,
                    cpu=client_cpu,
                    mix_file=mix,
                )

            # Always measured here, even after part 1: its wrk peak of POST alone, like the
            # answers' rate of this mix, leaves out the dispatch of the posts due at once,
            # and half of it was more than the server sustained for ten minutes.
            peak: float | None = None
            if plan.rate is None:
                print(f"  soak: peak of the mix, {plan.probe_seconds:g}s overload ...", flush=True)
                peak = _peak(load(plan.probe_rate, plan.probe_seconds), server.db_file, plan)
            settled = _settle(server.child.pid, plan.settle_timeout)
            print(f"  soak: the server was quiet after {settled:g}s", flush=True)
            rate = plan.rate if plan.rate is not None else (peak or 0.0) / 2
            print(
                f"  soak: mixed load at {rate:,.0f} req/s (peak {peak or 'not measured'}) for"
                f" {plan.seconds:g}s ...",
                flush=True,
            )
            spy = None
            if plan.profile_to is not None:
                spy = profile.record(server.child.pid, plan.seconds, plan.profile_to)
            result, samples, wal, clocks = _sampled(
                server.child.pid, server.db_file, plan.sample_every, load, rate, plan.seconds
            )
            if spy is not None:
                spy.wait()
            states = _drain(server.db_file, plan.drain_timeout)
        receiver.stop()
    deliveries: list[tuple[float, str]] = json.loads(rx_out.read_text())["deliveries"]
    delivered = [post_id for _, post_id in deliveries]
    warmup = min(WARMUP_MAX_SECONDS, WARMUP_SHARE * plan.seconds)
    rss = rss_growth(samples, warmup)
    statuses: dict[str, int] = result["statuses"]
    non_2xx = sum(n for code, n in statuses.items() if not code.startswith("2"))
    errors = sum(result["errors"].values())
    immediate = sum(states.values())
    return {
        "seconds": plan.seconds,
        "preloaded_posts": plan.preload,
        "preloaded_published": plan.preload_published,
        "peak_rps": peak,
        "settled_after_s": settled,
        "rate": rate,
        "achieved_rate": result["achieved_rate"],
        "requests": result["requests"],
        "statuses": statuses,
        "non_2xx": non_2xx,
        "errors": result["errors"],
        "latency": result["latency"],
        "send_lag": result["send_lag"],
        "client_gc": result["client_gc"],
        "kinds": result["kinds"],
        "windows": with_samples(result["windows"], wal, clocks, WINDOW_SECONDS),
        "wal_mib": {"max": max((mib for _, mib in wal), default=None), "samples": wal},
        "profile": _profile_summary(plan.profile_to),
        "rss": {**rss, "warmup_s": warmup, "samples": samples},
        "immediate_posts": {
            "states": states,
            "deliveries": len(delivered),
            "duplicates": len(delivered) - len(set(delivered)),
        },
        "ok": {
            "no_errors": non_2xx == 0 and errors == 0,
            "rss": rss["growth"] is not None and rss["growth"] < GOAL_RSS_GROWTH,
            "all_published_once": states.get(State.PUBLISHED, 0) == immediate
            and len(set(delivered)) == immediate
            and len(delivered) == immediate,
        },
    }
