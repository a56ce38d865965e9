"""`make bench`: one command, a table on the terminal, JSON in bench/results/.

Part 1 measures POST /v2/posts on `masthead serve` against a bare ASGI app on the same
uvicorn settings (see bench/api.py); part 2 measures the dispatch engine delivering 10,000
posts due at one instant (see bench/dispatch.py), on SQLite and, when a server answers at
127.0.0.1:5432, on PostgreSQL; part 3 ingests a 1 GiB file through POST /v2/media beside
curl (see bench/media.py); part 4 times every web UI page with 10,000 posts in the database
(see bench/web.py); part 5 repeats POST/GET latency and dispatch lag after a million future
posts were added, against the empty database's figures from the same run (see bench/scale.py);
part 6 soaks `masthead serve` under a mixed load at half its peak (see bench/soak.py); part 7
delivers an event webhook for each post of a burst, against the same burst without
subscriptions (see bench/events.py); part 8 calls the MCP tool blotato_create_post against
POST /v2/posts on one server (see bench/mcp.py); part 9 reads each platform's metrics and
times a burst with and without collection (see bench/analytics.py); part 10 polls 1,000 posts
for comments and compares publishing lag with and without polling in the same run (see
bench/comments.py). `--only <part>` runs one part, `--skip-<part>` leaves one out. All traffic
stays on 127.0.0.1; every process the bench starts is stopped before it returns, on errors and
Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench.analytics import GOAL_RATIO as ANALYTICS_GOAL_RATIO
from bench.analytics import NETWORK_SECONDS as ANALYTICS_NETWORK_SECONDS
from bench.analytics import X_BATCH_GOAL, AnalyticsPlan, run_analytics
from bench.api import ApiPlan, run_api
from bench.comments import CommentsPlan, run_comments
from bench.dispatch import PG_ADMIN, DispatchPlan, run_postgres, run_sqlite
from bench.events import GOAL_RATIO as EVENTS_GOAL_RATIO
from bench.events import EventsPlan, run_events
from bench.mcp import McpPlan, run_mcp
from bench.media import MediaPlan, run_media
from bench.metrics_fakes import FakesPlan, run_metrics_fakes
from bench.procs import BenchError, cpus
from bench.scale import (
    GOAL_LAG_P99_MS,
    GOAL_RATIO,
    GOAL_RSS_MIB,
    ScalePlan,
    run_scale_postgres,
    run_scale_sqlite,
)
from bench.soak import GOAL_RSS_GROWTH, SoakPlan, run_soak
from bench.web import WebPlan, run_web
from bench.wrk import ensure_wrk

RESULTS = Path(__file__).with_name("results")
PARTS = (
    "api",
    "dispatch",
    "media",
    "web",
    "scale",
    "soak",
    "events",
    "mcp",
    "analytics",
    "comments",
)
"""The parts in the order they run (1 to 10), by the name --only and --skip-<name> take."""


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so every `with child(...)` block
    stops its server on the way out."""
    raise KeyboardInterrupt(f"signal {signum}")


def _machine(server_cpu: int | None, client_cpu: int | None) -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent,
    ).stdout.strip()
    return {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "server_cpu": server_cpu,
        "client_cpu": client_cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "commit": commit or None,
    }


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  " + "  ".join(cells))
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _print_api(api: dict[str, Any]) -> None:
    if "skipped" in api or "error" in api:
        print(f"\nPOST /v2/posts: {api.get('skipped') or 'FAILED: ' + api['error']}")
        return
    s = api["settings"]
    pin = (
        f"server on CPU {s['server_cpu']}, wrk on CPU {s['client_cpu']}"
        if s["server_cpu"] is not None
        else "not pinned (taskset or a second CPU missing)"
    )
    print(
        f"\nPOST /v2/posts, wrk -t1 -c{s['connections']} -d{s['duration_s']:g}s "
        f"after a {s['warmup_s']:g}s warm-up; {pin}"
    )
    rows = [["server", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "non-201", "errors"]]
    for label, run in (
        ("bare ASGI (uvicorn)", api["bare"]),
        ("bare ASGI + durable insert", api["bare_durable"]),
        ("masthead (SQLite)", api["masthead"]),
    ):
        rows.append(
            [
                label,
                _fmt(run["rps"], 0),
                _fmt(run["p50_ms"]),
                _fmt(run["p90_ms"]),
                _fmt(run["p99_ms"]),
                _fmt(run["max_ms"]),
                _fmt(run["other"]),
                _fmt(run["errors"]),
            ]
        )
    print(_table(rows))
    print(
        f"  ratio masthead/bare: {api['ratio']:.3f}; masthead/bare with durable insert:"
        f" {api['ratio_durable']:.3f} (goal >= {GOAL_DURABLE_RATIO:g})"
    )

    half, loaded = api["half_load"], api["half_load_after_peak"]
    floor = api["half_load_client_floor"]
    print(
        f"\nHalf load: open loop at {half['target_rate']:,.0f} req/s for {half['duration_s']:.0f}s,"
        f" {half['connections']} connections (latency from each request's due time)"
    )
    rows = [["server", "achieved/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "client lag p99"]]
    for label, run in (
        ("masthead, fresh server", half),
        (f"masthead, after peak ({loaded['rows_in_table']:,} rows)", loaded),
        ("bare ASGI: client floor", floor),
    ):
        rows.append(
            [
                label,
                _fmt(run["achieved_rate"], 0),
                _fmt(run["latency"]["p50_ms"]),
                _fmt(run["latency"]["p90_ms"]),
                _fmt(run["latency"]["p99_ms"]),
                _fmt(run["latency"]["max_ms"]),
                _fmt(run["send_lag"]["p99_ms"]) + " ms",
            ]
        )
    print(_table(rows))
    print(
        "  note: the open-loop client is Python (asyncio/uvloop; Debian has no wrk2). The bare"
        "\n  line is what it and the loopback add on their own; 'client lag' is how late requests"
        "\n  left, from client slowness or from all connections waiting on the server."
    )
    print()
    for name, d in (
        ("peak server", api["durability"]["peak_server"]),
        ("fresh server", api["durability"]["fresh_server"]),
    ):
        print(
            f"Durability, {name}: {d['acknowledged_201']:,} answered 201, {d['rows']:,} rows,"
            f" {d['missing']} missing -> {'OK' if d['ok'] else 'FAILED'}"
        )
        if d["unacknowledged_bound"]:
            print(
                f"  ({d['unacknowledged_rows']} more rows: requests in flight when wrk stopped,"
                f" at most {d['unacknowledged_bound']} possible)"
            )
    _print_profile("masthead serve under wrk", api.get("profile"))


def _print_profile(what: str, prof: dict[str, Any] | None) -> None:
    if not prof:
        return
    if "self" not in prof:
        print(f"\nProfile of {what}: {prof.get('skipped')}")
        return
    print(f"\nProfile of {what} (py-spy, {prof['samples']:,} samples; {prof['file']})")
    print("  threads: " + ", ".join(f"{name} {pct}%" for name, pct in prof["threads"]))
    print("  self time:")
    for name, pct in prof["self"][:12]:
        print(f"    {pct:5.1f}%  {name}")
    print("  inclusive, masthead functions:")
    for name, pct in prof["masthead_inclusive"][:10]:
        print(f"    {pct:5.1f}%  {name}")


def _part(title: str) -> None:
    """Starts a part with the earlier parts' writes on disk. Left to the kernel's writeback,
    part 3's 1 GiB files were written back during part 6's first seconds: the soak's first
    window had p99 161 ms and iowait 9.1%, against 14 ms and 1.9% with a sync first (30 s
    soaks after part 3, 2026-12-05 02:41 UTC)."""
    print(title, flush=True)
    started = time.monotonic()
    os.sync()
    print(f"  (earlier writes synced to disk in {time.monotonic() - started:.1f}s)", flush=True)


GOAL_DURABLE_RATIO = 0.5
"""Issue #18: POST /v2/posts at least half the bare app that parses and durably inserts."""
GOAL_ALL_SECONDS = 3.0
"""Issue #7: 10,000 posts due at one instant, all published within 3 s on one machine."""


def _within(run: dict[str, Any], seconds: float) -> bool:
    took = run["seconds_to_all_published"]
    return bool(run["valid"]) and took is not None and took <= seconds


def _print_dispatch(results: list[dict[str, Any]]) -> None:
    done = [r for r in results if "skipped" not in r and "error" not in r]
    if done:
        first = done[0]
        print(
            f"\nDispatch: {first['posts']:,} posts due at one instant T; null = an in-process"
            " platform answering at once (the engine alone), webhook = a receiver answering 200"
            f" at once over HTTP (engine: batch {first['engine']['batch_size']},"
            f" concurrency {first['engine']['concurrency']}; goal: all within 3 s)"
        )
        rows = [
            [
                "platform",
                "database",
                "T->all published s",
                "posts/s",
                "1st ms",
                "lag p50 ms",
                "lag p99 ms",
                "lag max ms",
                "CPU ms/post",
                "commits",
                "dupes",
            ]
        ]
        for r in done:
            rows.append(
                [
                    r["platform"].split()[0],
                    r["database"],
                    _fmt(r["seconds_to_all_published"], 3),
                    _fmt(r["published_per_s"], 0),
                    _fmt(r["lag_min_ms"], 0),
                    _fmt(r["lag"]["p50_ms"], 0),
                    _fmt(r["lag"]["p99_ms"], 0),
                    _fmt(r["lag"]["max_ms"], 0),
                    _fmt(r["engine"]["cpu_ms_per_post"]),
                    _fmt(r["engine"]["group_commits"]),
                    _fmt(r["duplicate_deliveries"]),
                ]
            )
        print(_table(rows))
        verdicts = ", ".join(
            f"{r['platform'].split()[0]} {r['database']} {_verdict(_within(r, GOAL_ALL_SECONDS))}"
            for r in done
        )
        print(f"  goal: all published within {GOAL_ALL_SECONDS:g} s of T: {verdicts}")
        for r in done:
            sql = r.get("sql_floor")
            if sql and r["seconds_to_all_published"]:
                print(
                    f"  baseline, {r['database']}: the claim, mark and outcome writes alone in"
                    f" plain SQL published {sql['published']:,} in {sql['seconds']:g} s"
                    f" ({sql['cpu_ms_per_post']:g} ms CPU per post, {sql['commits']} commits);"
                    f" Masthead took x{r['seconds_to_all_published'] / sql['seconds']:.2f} that"
                )
            floor = r.get("http_floor")
            if floor and r["seconds_to_all_published"]:
                print(
                    f"  baseline, {r['database']}: a plain aiohttp client sent"
                    f" {floor['requests']:,} requests to the same receiver in"
                    f" {floor['seconds']:g} s"
                    f" ({floor['cpu_ms_per_request']:g} ms CPU each, {floor['non_2xx']} non-2xx);"
                    f" Masthead took x{r['seconds_to_all_published'] / floor['seconds']:.2f} that"
                )
        for r in done:
            problems = []
            if not r["valid"]:
                problems.append(f"set-up overran T by {-r['headroom_before_due_s']:.2f}s")
            if not r["completed"]:
                problems.append(
                    f"only {r['published']:,} published when the bench gave up after"
                    f" {r['seconds_measured']:g}s (posts/s is over that time; lag covers the"
                    " delivered posts only)"
                )
            if r["failed"]:
                problems.append(f"{r['failed']} failed")
            if r["deliveries"] != r["posts"]:
                problems.append(f"{r['deliveries']} deliveries for {r['posts']} posts")
            if problems:
                print(f"  {r['platform'].split()[0]} {r['database']}: " + "; ".join(problems))
    for r in done:
        where = f"{r['platform'].split()[0]} on {r['database']}"
        _print_profile(f"the dispatch worker, {where}", r.get("profile"))
    for r in results:
        if "skipped" in r or "error" in r:
            print(f"\nDispatch on {r['database']}: {r.get('skipped') or 'FAILED: ' + r['error']}")


def _print_media(media: dict[str, Any]) -> None:
    if "runs" not in media:
        print(f"\nMedia ingest: {media.get('skipped') or 'FAILED: ' + media.get('error', '?')}")
        return
    print(
        f"\nMedia ingest: {media['size_bytes'] / 1024**3:g} GiB from a local HTTP server"
        " (curl -o file vs POST /v2/media: fetch, sha256, sniff, probe, store)"
    )
    print(_media_table(media["runs"], "curl MiB/s"))
    goals = media["goals"]
    print(
        f"  goals: ratio >= {goals['ratio_at_least']} (best {media['best_ratio']:.3f}),"
        f" RSS growth < {goals['rss_growth_under_mib']} MiB (max {media['max_rss_growth_mib']:g})"
    )
    print(
        "Presigned upload (curl -T to a bare aiohttp receiver vs curl -T to Masthead's URL;"
        " CPU: the receiver's)"
    )
    print(_media_table(media["uploads"], "bare MiB/s"))
    print(
        f"  goals: ratio >= {goals['ratio_at_least']} (best {media['best_upload_ratio']:.3f}),"
        f" RSS growth < {goals['rss_growth_under_mib']} MiB"
        f" (max {media['max_upload_rss_growth_mib']:g})"
    )


def _media_table(runs: list[dict[str, Any]], baseline: str) -> str:
    rows = [
        [
            "run",
            baseline,
            "masthead MiB/s",
            "ratio",
            "CPU s base/masthead",
            "RSS before MiB",
            "RSS growth MiB",
        ]
    ]
    for n, run in enumerate(runs, 1):
        rows.append(
            [
                str(n),
                _fmt(run["curl_mib_s"], 0),
                _fmt(run["masthead_mib_s"], 0),
                _fmt(run["ratio"], 3),
                f"{run['baseline_cpu_s']:.2f}/{run['masthead_cpu_s']:.2f}",
                _fmt(run["rss_before_mib"], 1),
                _fmt(run["rss_growth_mib"], 1),
            ]
        )
    return _table(rows)


def _print_web(web: dict[str, Any]) -> None:
    if "pages" not in web:
        print(f"\nWeb UI pages: {web.get('skipped') or 'FAILED: ' + web.get('error', '?')}")
        return
    print(
        f"\nWeb UI pages: server time with {web['posts']:,} posts in the database"
        f" ({web['requests_per_page']} requests each, in-process ASGI, SQLite)"
    )
    rows = [["page", "p50 ms", "p90 ms", "p99 ms", "max ms"]]
    for path, times in web["pages"].items():
        rows.append(
            [
                path,
                _fmt(times["p50_ms"]),
                _fmt(times["p90_ms"]),
                _fmt(times["p99_ms"]),
                _fmt(times["max_ms"]),
            ]
        )
    print(_table(rows))
    verdict = "met" if web["ok"] else "MISSED"
    print(
        f"  goal: every page p99 < {web['goal_ms']:g} ms: {verdict} (worst {web['worst_p99_ms']:g})"
    )


def _run_dispatch(
    results: list[dict[str, Any]],
    plan: DispatchPlan,
    workdir: Path,
    args: argparse.Namespace,
    server_cpu: int | None,
    client_cpu: int | None,
) -> bool:
    """Part 2 for one platform kind on SQLite, then PostgreSQL with 1 and 2 workers; appends
    to `results` and returns True when a run failed."""
    kind = "null" if plan.null_platform else "webhook"
    failed = False
    _part(f"Part 2: dispatch of {plan.posts:,} posts due at once, {kind}, SQLite")
    try:
        results.append(asyncio.run(run_sqlite(workdir / "sqlite", plan, server_cpu, client_cpu)))
    except BenchError as exc:
        results.append({"database": "sqlite", "error": str(exc)})
        failed = True
    if args.no_postgres:
        results.append({"database": "postgresql", "skipped": "--no-postgres"})
        return failed
    for count in (1, 2):
        label = "postgresql" if count == 1 else f"postgresql-{count}w"
        _part(f"Part 2: the same on PostgreSQL, {kind}, {count} worker(s)")
        try:
            results.append(
                asyncio.run(run_postgres(workdir / "pg", plan, server_cpu, client_cpu, count))
            )
        except BenchError as exc:
            results.append({"database": label, "error": str(exc)})
            failed = True
        except Exception as exc:  # no server, no rights, refused: optional, a skip
            reason = f"skipped, {PG_ADMIN} unusable ({type(exc).__name__}: {exc})"
            results.append({"database": label, "skipped": reason})
            break
    return failed


def _print_events(results: list[dict[str, Any]]) -> None:
    done = [r for r in results if "ratios" in r]
    if done:
        print(
            f"\nEvent webhooks: {done[0]['posts']:,} posts due at once to a webhook, without and"
            " with a post.published subscription on the same receiver (same run, in the order"
            " without, with, with, without)"
        )
        rows = [
            [
                "database",
                "subscription",
                "T->all published s",
                "lag p50 ms",
                "lag p99 ms",
                "events",
                "again",
                "publish->delivery p50 ms",
                "p99 ms",
            ]
        ]
        for r in done:
            for n, run in enumerate(r["runs"]):
                ev = run["events"]
                rows.append(
                    [
                        r["database"] if n == 0 else "",
                        "post.published" if ev else "none",
                        _fmt(run["seconds_to_all_published"], 3),
                        _fmt(run["lag"]["p50_ms"], 0),
                        _fmt(run["lag"]["p99_ms"], 0),
                        _fmt(ev["delivered"]) if ev else "-",
                        _fmt(ev["redelivered"]) if ev else "-",
                        _fmt(ev["publish_to_delivery"]["p50_ms"], 0) if ev else "-",
                        _fmt(ev["publish_to_delivery"]["p99_ms"], 0) if ev else "-",
                    ]
                )
        print(_table(rows))
        for r in done:
            ratios = ", ".join(f"{k} x{_fmt(v, 3)}" for k, v in r["ratios"].items())
            print(
                f"  {r['database']}: with/without (means of two runs each) {ratios};"
                f" within x{EVENTS_GOAL_RATIO}: {_verdict(r['ratios_ok'])};"
                f" every event delivered: {_verdict(r['all_events_delivered'])}"
            )
    for r in results:
        if "skipped" in r or "error" in r:
            why = r.get("skipped") or "FAILED: " + r["error"]
            print(f"\nEvent webhooks on {r['database']}: {why}")


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _print_scale(results: list[dict[str, Any]]) -> None:
    done = [r for r in results if "ratios" in r]
    if done:
        first = done[0]
        plan = first["empty"]
        print(
            f"\nScale: {first['posts']:,} future posts ({first['users']} users,"
            f" {first['accounts']} accounts) against the empty database, same processes;"
            f" open loop {plan['post']['rate']:g}/s, stream {plan['lag']['rate']:g}/s"
        )
        rows = [
            ["database", "measure", "empty p50", "p99", "loaded p50", "p99", "ratio p50", "p99"]
        ]
        for r in done:
            for name, metric, key in (
                ("POST /v2/posts ms", "post", "latency"),
                ("GET /v2/posts/{id} ms", "get", "latency"),
                ("dispatch lag ms", "lag", "lag"),
            ):
                empty, loaded = r["empty"][metric][key], r["loaded"][metric][key]
                rows.append(
                    [
                        r["database"] if metric == "post" else "",
                        name,
                        _fmt(empty["p50_ms"]),
                        _fmt(empty["p99_ms"]),
                        _fmt(loaded["p50_ms"]),
                        _fmt(loaded["p99_ms"]),
                        _fmt(r["ratios"][f"{metric}_p50"], 3),
                        _fmt(r["ratios"][f"{metric}_p99"], 3),
                    ]
                )
        print(_table(rows))
        for r in done:
            print(
                f"  {r['database']}: inserted in {r['insert_seconds']:g}s"
                f" ({r['insert_rows_per_s']:,} rows/s); ratios <= {GOAL_RATIO}:"
                f" {_verdict(r['ratios_ok'])}; lag p99 < {GOAL_LAG_P99_MS:g} ms:"
                f" {_verdict(r['lag_ok'])} ({r['lag_p99_ms']:g}); {r['rss_process']} RSS peak"
                f" {r['rss_peak_mib']:g} MiB < {GOAL_RSS_MIB:g}: {_verdict(r['rss_ok'])};"
                f" every request answered and post delivered once:"
                f" {_verdict(r['all_answered_and_delivered'])}"
            )
    for r in results:
        if "ratios" not in r:
            print(f"\nScale on {r['database']}: {r.get('skipped') or 'FAILED: ' + r['error']}")


def _print_soak(soak: dict[str, Any]) -> None:
    if "kinds" not in soak:
        print(f"\nSoak: {soak.get('skipped') or 'FAILED: ' + soak.get('error', '?')}")
        return
    peak = soak["peak_rps"]
    print(
        f"\nSoak: {soak['seconds']:g}s of mixed load at {soak['rate']:,.0f} req/s"
        + (
            f", half of {peak:,.0f} (the mix's peak, dispatch of its due posts included)"
            if peak
            else " (fixed)"
        )
        + f", {soak.get('preloaded_posts', 0):,} posts preloaded;"
        f" achieved {soak['achieved_rate']:,.0f}"
    )
    rows = [["request", "sent", "2xx", "other", "errors", "p50 ms", "p99 ms", "max ms"]]
    for kind, k in soak["kinds"].items():
        two = sum(n for code, n in k["statuses"].items() if code.startswith("2"))
        rows.append(
            [
                kind,
                _fmt(k["requests"]),
                _fmt(two),
                _fmt(sum(k["statuses"].values()) - two),
                _fmt(sum(k["errors"].values())),
                _fmt(k["latency"]["p50_ms"]),
                _fmt(k["latency"]["p99_ms"]),
                _fmt(k["latency"]["max_ms"]),
            ]
        )
    print(_table(rows))
    ok, rss, imm = soak["ok"], soak["rss"], soak["immediate_posts"]
    if soak["windows"]:
        worst = max(soak["windows"], key=lambda w: w["p99_ms"])
        best = min(soak["windows"], key=lambda w: w["p99_ms"])
        print(
            f"  p99 per 10 s window: best {_fmt(best['p99_ms'])} ms, worst {_fmt(worst['p99_ms'])}"
            f" ms (from {worst['from_s']:g}s)"
        )
        windows = [
            [
                "from s",
                "requests",
                "p50 ms",
                "p99 ms",
                "max ms",
                "WAL MiB",
                "client GC ms",
                "server CPU %",
                "steal %",
                "iowait %",
            ]
        ]
        for w in soak["windows"]:
            windows.append(
                [
                    f"{w['from_s']:g}",
                    _fmt(w["requests"]),
                    _fmt(w["p50_ms"]),
                    _fmt(w["p99_ms"]),
                    _fmt(w["max_ms"]),
                    _fmt(w.get("wal_max_mib")),
                    _fmt(w.get("client_gc_ms")),
                    _fmt(w.get("server_cpu_pct")),
                    _fmt(w.get("steal_pct")),
                    _fmt(w.get("iowait_pct")),
                ]
            )
        print(_table(windows))
        print(
            "  server CPU % is of one CPU; steal % (time the host gave this VM's CPUs to others)"
            "\n  and iowait % are the whole machine's, summed over its CPUs"
        )
        gc_pauses = soak.get("client_gc")
        if gc_pauses:
            print(
                f"  the load client's own collector: {gc_pauses['count']} pauses,"
                f" {_fmt(gc_pauses['total_ms'])} ms in all,"
                f" the longest {_fmt(gc_pauses['max_ms'])} ms (requests neither sent nor read"
                " meanwhile; 'client GC ms' per window)"
            )
    print(
        f"  no error or non-2xx answer: {_verdict(ok['no_errors'])}"
        f" ({soak['non_2xx']} non-2xx, {sum(soak['errors'].values())} connection errors)"
    )
    growth = "-" if rss["growth"] is None else f"{rss['growth'] * 100:+.1f}%"
    print(
        f"  RSS {rss['warmup_mib']} MiB after the {rss['warmup_s']:g}s warm-up, {rss['end_mib']}"
        f" MiB at the end ({growth}; max {rss.get('max_mib')}); growth <"
        f" {GOAL_RSS_GROWTH * 100:g}%: {_verdict(ok['rss'])}"
    )
    _print_profile("masthead serve over the soak", soak.get("profile"))
    print(
        f"  posts due at once: {imm['states']}, {imm['deliveries']:,} deliveries,"
        f" {imm['duplicates']} duplicates; all published once: {_verdict(ok['all_published_once'])}"
    )


def _print_mcp(mcp: dict[str, Any]) -> None:
    if "ratios" not in mcp:
        print(f"\nMCP: {mcp.get('skipped') or 'FAILED: ' + mcp.get('error', '?')}")
        return
    s = mcp["settings"]
    print(
        f"\nMCP blotato_create_post against POST /v2/posts, one server, {s['connections']}"
        f" connections, {s['rounds']} alternating rounds of {s['duration_s']:g}s"
    )
    rows = [["door", "req/s", "ok", "other", "errors", "p50 ms", "p99 ms"]]
    names = {"rest": "POST /v2/posts", "mcp_2025": "MCP 2025-06", "mcp_2026": "MCP 2026-07"}
    for key, r in mcp["doors"].items():
        rows.append(
            [
                names.get(key, key),
                _fmt(r["rps"], 1),
                _fmt(r["ok"]),
                _fmt(r["other"]),
                _fmt(r["errors"]),
                _fmt(r["p50_ms"]),
                _fmt(r["p99_ms"]),
            ]
        )
    print(_table(rows))
    ratios = ", ".join(f"{names.get(k, k)} {v:.3f}" for k, v in mcp["ratios"].items())
    print(f"  ratio mcp/rest: {ratios} (goal >= {mcp['goal']}): {_verdict(mcp['ok'])}")


def _print_analytics(part: dict[str, Any]) -> None:
    if "collection" not in part:
        print(f"\nAnalytics: {part.get('skipped', '?')}")
        return
    c = part["collection"]
    print(
        f"\nAnalytics: metrics of {c['posts']:,} published X posts due at once (in-memory X,"
        f" {ANALYTICS_NETWORK_SECONDS * 1000:g} ms a request): {c['requests']} requests"
        f" (goal {c['posts'] // X_BATCH_GOAL}: {_verdict(c['requests_ok'])}),"
        f" {_fmt(c['seconds'], 2)} s, {c['left_unread']} left unread"
    )
    fakes = part["platforms"]
    rows = [["platform", "posts", "ids/request", "requests", "goal", "snapshots", "seconds"]]
    for row in fakes["platforms"]:
        rows.append(
            [
                row["platform"],
                _fmt(row["posts"]),
                _fmt(row["per_request"]),
                _fmt(row["requests"]),
                _fmt(row["goal"]),
                _fmt(row["snapshots"]),
                _fmt(row["seconds"], 2),
            ]
        )
    print("  each platform's reader against its own fake (in-process, requests schema-checked):")
    print(_table(rows))
    scaled = ", ".join(f"{k} {v:,}" for k, v in fakes["scaled"].items())
    print(f"  posts scaled down where the fake is slow or takes one post a request: {scaled}")
    for name, why in fakes["not_run"].items():
        print(f"  {name} not run: {why}")
    print(f"  requests within the batch bound: {_verdict(fakes['ok'])}")
    print(f"  a burst of {part['burst_posts']:,} posts due at once, without and with collection:")
    for database, lag in part["lag"].items():
        if "bursts" not in lag:
            print(f"  {database}: {lag.get('skipped', '?')}")
            continue
        rows = [[database, "T->all published s", "lag p50 ms", "lag p99 ms", "X requests"]]
        for run in lag["bursts"]:
            rows.append(
                [
                    "reading" if run["collecting"] else "off",
                    _fmt(run["seconds_to_all_published"], 3),
                    _fmt(run["lag"]["p50_ms"], 0),
                    _fmt(run["lag"]["p99_ms"], 0),
                    _fmt(run["x_requests"]),
                ]
            )
        print(_table(rows))
        ratios = ", ".join(f"{k} x{_fmt(v, 3)}" for k, v in lag["ratios"].items())
        print(
            f"  {database} with/without (means of two runs each) {ratios};"
            f" within x{ANALYTICS_GOAL_RATIO}: {_verdict(lag['ratios_ok'])}"
        )


def _print_comments(comments: dict[str, Any]) -> None:
    if "ratios" not in comments:
        print(f"\nComments: {comments.get('skipped') or 'FAILED: ' + comments.get('error', '?')}")
        return
    c = comments
    print(
        f"\nComment polling, {c['polled_posts']:,} posts, {c['latency_per_request_s'] * 1000:g} ms"
        " per platform request"
    )
    print(
        f"  first poll: {c['requests_first_poll']:,} requests in {c['seconds_first_poll']:g}s;"
        f" second: {c['requests_second_poll']:,} in {c['seconds_second_poll']:g}s;"
        f" {c['comments_stored']:,} comments stored (expected {c['expected_comments']:,})"
    )
    rows = [["publishing", "posts", "lag p50 ms", "lag p99 ms", "all published s"]]
    for r in c["publishing"]:
        rows.append(
            [
                "with polling" if r["polling"] else "without",
                _fmt(r["published"]),
                _fmt(r["lag_p50_ms"]),
                _fmt(r["lag_p99_ms"]),
                _fmt(r["seconds_to_all_published"]),
            ]
        )
    print(_table(rows))
    ratios = ", ".join(f"{k} {v}" for k, v in c["ratios"].items())
    print(f"  ratio with/without: {ratios} (goal <= {c['goal']}): {_verdict(c['ok'])}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--posts", type=int, default=10_000, help="posts in the dispatch run")
    parser.add_argument("--profile", action="store_true", help="py-spy the server and the worker")
    for name in PARTS:
        parser.add_argument(f"--skip-{name}", action="store_true", help=f"leave out {name}")
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only this part (repeat for several); the others are skipped",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--dispatch-platform",
        choices=("both", "null", "webhook"),
        default="both",
        help="part 2's platform: the in-process null one, the webhook over HTTP, or both",
    )
    parser.add_argument(
        "--dispatch-lead",
        type=float,
        default=DispatchPlan.lead_seconds,
        help="seconds from the first insert to T in part 2 (more on a busy machine, where the"
        " inserts can overrun T and void the run)",
    )
    parser.add_argument(
        "--media-size", type=int, default=1024**3, help="bytes of the media ingest sample"
    )
    parser.add_argument(
        "--scale-posts", type=int, default=1_000_000, help="future posts in the scale part"
    )
    parser.add_argument(
        "--soak-seconds", type=float, default=600.0, help="length of the mixed-load soak"
    )
    parser.add_argument(
        "--soak-preload",
        type=int,
        default=0,
        help="posts scheduled ahead inserted before the soak (the table a long soak leaves)",
    )
    parser.add_argument(
        "--soak-preload-published",
        type=int,
        default=0,
        help="published posts (with their items) inserted before the soak",
    )
    parser.add_argument(
        "--soak-rate", type=float, help="soak at this rate instead of half the measured peak"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, DBs)")
    args = parser.parse_args(argv)
    if args.only:
        if any(getattr(args, f"skip_{name}") for name in PARTS):
            parser.error("--only and --skip-* do not mix")
        for name in PARTS:
            setattr(args, f"skip_{name}", name not in args.only)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C must unwind even when started from a shell that ignores SIGINT in background
    # jobs (Python then leaves it ignored and the servers would outlive an interrupt).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    server_cpu, client_cpu = cpus()
    if client_cpu is not None:
        # The orchestrator's own work (polling, parsing) stays off the server's CPU.
        os.sched_setaffinity(0, {client_cpu})
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "started_at": started.isoformat(),
        "machine": _machine(server_cpu, client_cpu),
        # The machine is shared: its load says how far the absolute figures can be trusted.
        "load_average_at_start": os.getloadavg(),
    }
    failed = False
    clock = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="masthead-bench-"))
    try:
        if args.skip_api:
            report["api"] = {"skipped": "--skip-api"}
        elif (wrk := ensure_wrk()) is None:
            report["api"] = {"skipped": "wrk is not installed (see above)"}
            failed = True
        else:
            _part("Part 1: POST /v2/posts")
            plan = ApiPlan(
                duration=args.duration,
                connections=args.connections,
                profile_to=RESULTS / "api-masthead.pyspy.txt" if args.profile else None,
            )
            try:
                report["api"] = run_api(wrk, workdir / "api", plan, server_cpu, client_cpu)
                failed |= not report["api"]["durability"]["ok"]
            except (BenchError, RuntimeError, subprocess.SubprocessError) as exc:
                report["api"] = {"error": str(exc)}
                failed = True

        dispatch: list[dict[str, Any]] = []
        if not args.skip_dispatch:
            kinds = (
                ("null", "webhook")
                if args.dispatch_platform == "both"
                else (args.dispatch_platform,)
            )
            for kind in kinds:
                null = kind == "null"
                dplan = DispatchPlan(
                    posts=args.posts,
                    lead_seconds=args.dispatch_lead,
                    profile_dir=RESULTS if args.profile else None,
                    null_platform=null,
                )
                failed |= _run_dispatch(
                    dispatch, dplan, workdir / kind, args, server_cpu, client_cpu
                )
        report["dispatch"] = dispatch

        if args.skip_media:
            report["media"] = {"skipped": "--skip-media"}
        else:
            _part("Part 3: POST /v2/media of a large file, beside curl")
            try:
                report["media"] = run_media(workdir / "media", MediaPlan(size=args.media_size))
            except (BenchError, subprocess.SubprocessError) as exc:
                report["media"] = {"error": str(exc)}
                failed = True

        if args.skip_web:
            report["web"] = {"skipped": "--skip-web"}
        else:
            _part("Part 4: web UI pages with 10,000 posts")
            try:
                report["web"] = run_web(workdir / "web", WebPlan())
                failed |= not report["web"]["ok"]
            except (BenchError, RuntimeError) as exc:
                report["web"] = {"error": str(exc)}
                failed = True

        scale: list[dict[str, Any]] = []
        if not args.skip_scale:
            splan = ScalePlan(posts=args.scale_posts)
            runs = [("sqlite", run_scale_sqlite)]
            if args.no_postgres:
                scale.append({"database": "postgresql", "skipped": "--no-postgres"})
            else:
                runs.insert(0, ("postgresql", run_scale_postgres))
            for label, run_scale in runs:
                _part(f"Part 5: {args.scale_posts:,} future posts vs none, {label}")
                try:
                    scale.append(
                        asyncio.run(
                            run_scale(workdir / f"scale-{label}", splan, server_cpu, client_cpu)
                        )
                    )
                    failed |= not (
                        scale[-1]["ratios_ok"]
                        and scale[-1]["lag_ok"]
                        and scale[-1]["rss_ok"]
                        and scale[-1]["all_answered_and_delivered"]
                    )
                except BenchError as exc:
                    scale.append({"database": label, "error": str(exc)})
                    failed = True
                except Exception as exc:
                    if label == "sqlite":
                        raise
                    reason = f"skipped, {PG_ADMIN} unusable ({type(exc).__name__}: {exc})"
                    scale.append({"database": label, "skipped": reason})
        report["scale"] = scale

        if args.skip_soak:
            report["soak"] = {"skipped": "--skip-soak"}
        else:
            _part(f"Part 6: {args.soak_seconds:g}s soak of mixed API load")
            try:
                report["soak"] = run_soak(
                    workdir / "soak",
                    SoakPlan(
                        seconds=args.soak_seconds,
                        profile_to=RESULTS / "soak-masthead.pyspy.txt" if args.profile else None,
                        preload=args.soak_preload,
                        preload_published=args.soak_preload_published,
                        rate=args.soak_rate,
                    ),
                    server_cpu,
                    client_cpu,
                )
                failed |= not all(report["soak"]["ok"].values())
            except BenchError as exc:
                report["soak"] = {"error": str(exc)}
                failed = True
        events: list[dict[str, Any]] = []
        if not args.skip_events:
            runs = [("sqlite", run_sqlite)]
            if not args.no_postgres:
                runs.append(("postgresql", run_postgres))
            for label, run_dispatch in runs:
                _part(f"Part 7: event webhooks, {args.posts:,} posts, {label}")
                try:
                    events.append(
                        asyncio.run(
                            run_events(
                                run_dispatch,
                                workdir / f"events-{label}",
                                EventsPlan(posts=args.posts),
                                server_cpu,
                                client_cpu,
                            )
                        )
                    )
                    failed |= not events[-1]["all_events_delivered"]
                except BenchError as exc:
                    events.append({"database": label, "error": str(exc)})
                    failed = True
                except Exception as exc:
                    if label == "sqlite":
                        raise
                    reason = f"skipped, {PG_ADMIN} unusable ({type(exc).__name__}: {exc})"
                    events.append({"database": label, "skipped": reason})
        report["events"] = events

        if args.skip_mcp:
            report["mcp"] = {"skipped": "--skip-mcp"}
        elif (wrk := ensure_wrk()) is None:
            report["mcp"] = {"skipped": "wrk is not installed (see above)"}
            failed = True
        else:
            _part("Part 8: blotato_create_post over MCP against POST /v2/posts")
            mplan = McpPlan(duration=args.duration, connections=args.connections)
            try:
                report["mcp"] = run_mcp(wrk, workdir / "mcp", mplan, server_cpu, client_cpu)
                failed |= not report["mcp"]["ok"]
            except (BenchError, RuntimeError, subprocess.SubprocessError) as exc:
                report["mcp"] = {"error": str(exc)}
                failed = True

        if args.skip_analytics:
            report["analytics"] = {"skipped": "--skip-analytics"}
        else:
            _part(f"Part 9: metrics of {args.posts:,} X posts due at once")
            report["analytics"] = asyncio.run(
                run_analytics(
                    workdir / "analytics", AnalyticsPlan(posts=args.posts), not args.no_postgres
                )
            )
            _part("Part 9: each platform's metrics reader against its fake")
            report["analytics"]["platforms"] = asyncio.run(
                run_metrics_fakes(FakesPlan(posts=args.posts), workdir / "bluesky-pds")
            )
            failed |= not (
                report["analytics"]["collection"]["requests_ok"]
                and report["analytics"]["platforms"]["ok"]
                and all(
                    lag.get("skipped") or (lag["ratios_ok"] and lag["all_published"])
                    for lag in report["analytics"]["lag"].values()
                )
            )
        if args.skip_comments:
            report["comments"] = {"skipped": "--skip-comments"}
        else:
            _part("Part 10: polling 1,000 posts for comments, publishing lag beside it")
            (workdir / "comments").mkdir()
            report["comments"] = asyncio.run(run_comments(workdir / "comments", CommentsPlan()))
            failed |= not report["comments"]["ok"]
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, nothing written", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    report["wall_seconds"] = round(time.monotonic() - clock, 1)
    report["load_average_at_end"] = os.getloadavg()
    _print_api(report["api"])
    _print_dispatch(report.get("dispatch", []))
    _print_media(report.get("media", {}))
    _print_web(report.get("web", {}))
    _print_scale(report.get("scale", []))
    _print_soak(report.get("soak", {}))
    _print_events(report.get("events", []))
    _print_mcp(report.get("mcp", {}))
    _print_analytics(report.get("analytics", {}))
    _print_comments(report.get("comments", {}))
    text = json.dumps(report, indent=2, default=str)
    (RESULTS / f"{stamp}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(f"\n{report['wall_seconds']:g}s; results: bench/results/{stamp}.json (and latest.json)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
