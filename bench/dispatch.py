"""Part 2: the cost of the dispatch engine: N posts all due at one instant T, delivered to a
webhook receiver that answers at once, so everything measured is Masthead's own work.

The posts are inserted straight into a fresh database through the store functions (the API
is part 1's subject), the engine then runs alone in its own process and CPU, and the receiver
in another. We report the time from T until the database says all N are `published`, and the
lag of each delivery (receipt time - T) as the receiver saw it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from bench import profile
from bench.http_floor import measure_floor
from bench.procs import (
    HOST,
    BenchError,
    child,
    clean_env,
    free_port,
    pinned,
    python_module,
    wait_for_port,
)
from bench.receiver import EVENT_PREFIX
from bench.stats import summary_ms
from masthead.config import Settings
from masthead.domain.states import State
from masthead.security import Secrets
from masthead.services import webhooks
from masthead.store import accounts, users
from masthead.store.database import Database
from masthead.store.migrate import upgrade
from masthead.store.models import Event, EventDelivery, Post
from masthead.store.posts import NewPost, insert_post
from masthead.timeutil import utcnow

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
INSERT_BATCH = 1000
POLL_SECONDS = 0.02
PROFILE_SECONDS = 10.0


@dataclass(frozen=True)
class DispatchPlan:
    posts: int = 10_000
    lead_seconds: float = 4.0
    """T is this far after the first insert: room for the inserts and the worker's start."""
    timeout: float = 45.0
    """Give up this long after T (a bounded run even if the engine stalls)."""
    profile_dir: Path | None = None
    """Where to write a py-spy profile of the worker's first seconds after T (None: none)."""
    null_platform: bool = False
    """Publish to the in-process zero-latency platform (bench/null_platform.py) instead of
    the webhook receiver: the engine's own cost, with no HTTP client in it."""
    subscribed: bool = False
    """Give the user an event webhook for `post.published` on the same receiver: every post
    then also makes an event delivery (bench/events.py compares with and without)."""


async def _seed(
    db: Database, settings: Settings, receiver_url: str, plan: DispatchPlan
) -> datetime:
    """One user, one webhook account, then `plan.posts` posts due at T; returns T."""
    secrets_ = Secrets(settings.secret_keys)
    now = utcnow()

    def owner(conn: Connection) -> tuple[str, int]:
        user = users.create_user(conn, secrets_, email="bench@localhost", name="Bench", now=now)
        account_id = accounts.add_account(
            conn,
            user_id=user.id,
            platform="webhook",
            external_id="webhook",
            username="webhook",
            fullname="Webhook",
            now=now,
        )
        return user.id, account_id

    user_id, account_id = await db.write(owner)
    if plan.subscribed:
        await webhooks.create(
            db,
            secrets_,
            settings.fetch_allow,
            user_id,
            url=receiver_url.rsplit("/", 1)[0] + "/events",
            events=["post.published"],
        )
    due = utcnow() + timedelta(seconds=plan.lead_seconds)
    draft = {
        "accountId": str(account_id),
        "content": {"text": "bench", "mediaUrls": [], "platform": "other"},
        "target": {"targetType": "webhook", "url": receiver_url},
    }
    posts = [
        NewPost(
            id=str(uuid.uuid4()),
            user_id=user_id,
            account_id=account_id,
            platform="webhook",
            subaccount_id=None,
            draft=draft,
            scheduled_at=due,
        )
        for _ in range(plan.posts)
    ]

    def insert_all(chunk: list[NewPost], stamp: datetime) -> Callable[[Connection], None]:
        def work(conn: Connection) -> None:
            for post in chunk:
                insert_post(conn, post, stamp)

        return work

    # Large batches, each one group-commit job: 10 fsyncs for 10,000 rows.
    for start in range(0, len(posts), INSERT_BATCH):
        await db.write(insert_all(posts[start : start + INSERT_BATCH], utcnow()))
    return due


def _counts_by_state(conn: Connection) -> dict[str, int]:
    """Every post by state, finished ones included (the engine's gauge counts only the
    posts still waiting or in flight)."""
    rows = conn.execute(select(Post.state, func.count()).group_by(Post.state))
    return {state: int(count) for state, count in rows}


def _pending_deliveries(conn: Connection) -> int:
    query = select(func.count()).where(EventDelivery.status == "pending")
    return int(conn.execute(query).scalar_one())


def _event_times(conn: Connection) -> dict[str, float]:
    """When each event was written: the instant its post was stored as published."""
    return {
        event_id: at.timestamp()
        for event_id, at in conn.execute(select(Event.id, Event.created_at))
    }


def _event_latencies(
    received: list[tuple[float, str]], written: dict[str, float]
) -> dict[str, Any]:
    """Publish-to-delivery of each event: its first arrival minus the moment it was written."""
    first: dict[str, float] = {}
    for at, key in received:
        if key.startswith(EVENT_PREFIX):
            event_id = key[len(EVENT_PREFIX) :]
            first[event_id] = min(at, first.get(event_id, at))
    arrivals = sum(1 for _, key in received if key.startswith(EVENT_PREFIX))
    return {
        "written": len(written),
        "delivered": len(first),
        "redelivered": arrivals - len(first),
        "unknown_ids": len(set(first) - set(written)),
        "publish_to_delivery": summary_ms(
            [at - written[i] for i, at in first.items() if i in written]
        ),
    }


def _reap(spy: subprocess.Popen[bytes], wait: bool = False) -> None:
    """py-spy stops by itself after its duration; if the run ends first, stop it (SIGINT
    makes it write what it has) rather than leave it attached."""
    if wait:
        with contextlib.suppress(subprocess.TimeoutExpired):
            spy.wait(timeout=PROFILE_SECONDS + 5)
    if spy.poll() is None:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=10)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()


async def _wait_started(
    started: Callable[[], bool], worker_alive: Callable[[], bool], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not started():
        if not worker_alive():
            raise BenchError("the dispatch worker exited before it started")
        if time.monotonic() > deadline:
            raise BenchError("the dispatch worker did not start")
        await asyncio.sleep(0.01)


async def _measure(
    label: str,
    settings: Settings,
    child_env: dict[str, str],
    workdir: Path,
    plan: DispatchPlan,
    server_cpu: int | None,
    client_cpu: int | None,
    workers_count: int = 1,
) -> dict[str, Any]:
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    rx_port = free_port()
    settings = settings.model_copy(update={"fetch_allow": frozenset({(HOST, rx_port)})})
    rx_out = workdir / f"rx-{label}.json"
    flags = [workdir / f"worker-{label}-{n + 1}.started" for n in range(workers_count)]
    stats_files = [workdir / f"worker-{label}-{n + 1}.stats.json" for n in range(workers_count)]
    null_outs = [workdir / f"null-{label}-{n + 1}.json" for n in range(workers_count)]
    env = clean_env(
        {
            **child_env,
            "MASTHEAD_SECRET_KEY": settings.secret_keys[0],
            "MASTHEAD_FETCH_ALLOW": f"{HOST}:{rx_port}",
            "MASTHEAD_LOG_LEVEL": "WARNING",
        }
    )
    db = Database(settings.sqlalchemy_url)
    await db.start()
    try:
        with ExitStack() as stack:
            receiver = stack.enter_context(
                child(
                    "webhook receiver",
                    python_module("bench.receiver", "--port", str(rx_port), "--out", str(rx_out)),
                    env=clean_env({}),
                    log=workdir / f"receiver-{label}.log",
                    cpu=client_cpu,
                )
            )
            workers = [
                stack.enter_context(
                    child(
                        f"dispatch worker {n + 1}",
                        python_module(
                            "bench.dispatch_worker",
                            "--started",
                            str(flags[n]),
                            "--stats",
                            str(stats_files[n]),
                            *(["--null-platform", str(null_outs[n])] if plan.null_platform else []),
                        ),
                        env=env,
                        log=workdir / f"worker-{label}-{n + 1}.log",
                        # One worker per CPU: the second shares its CPU with the receiver.
                        cpu=server_cpu if n == 0 else client_cpu,
                        stdin=subprocess.PIPE,
                    )
                )
                for n in range(workers_count)
            ]
            worker = workers[0]
            wait_for_port(receiver, rx_port)
            t0 = time.monotonic()
            due = await _seed(db, settings, f"http://{HOST}:{rx_port}/hook", plan)
            insert_seconds = time.monotonic() - t0
            for each in workers:
                assert each.process.stdin is not None
                try:
                    each.process.stdin.write(b"go\n")
                    each.process.stdin.flush()
                except BrokenPipeError:
                    raise BenchError(f"{each.name} exited:\n{each.log_tail()}") from None
            for each, started in zip(workers, flags, strict=True):
                await _wait_started(started.exists, each.alive, timeout=30)
            headroom = (due - utcnow()).total_seconds()
            t_due = due.timestamp()
            spy, spy_out = None, None
            if plan.profile_dir is not None:
                # Idle samples are not recorded, so starting before T only costs the wait.
                kind = "null" if plan.null_platform else "webhook"
                spy_out = plan.profile_dir / f"dispatch-{kind}-{label}.pyspy.txt"
                spy = profile.record(worker.pid, max(0.0, headroom) + PROFILE_SECONDS, spy_out)
                if spy is not None:
                    stack.callback(_reap, spy)

            done_at = None
            counts: dict[str, int] = {}
            while time.time() < t_due + plan.timeout:
                counts = await db.read(_counts_by_state)
                if counts.get(State.PUBLISHED, 0) + counts.get(State.FAILED, 0) >= plan.posts:
                    done_at = time.time()
                    break
                for each in workers:
                    if not each.alive():
                        raise BenchError(f"{each.name} died:\n{each.log_tail()}")
                await asyncio.sleep(POLL_SECONDS)
            while plan.subscribed and time.time() < t_due + plan.timeout:
                if not await db.read(_pending_deliveries):
                    break
                for each in workers:
                    if not each.alive():
                        raise BenchError(f"{each.name} died:\n{each.log_tail()}")
                await asyncio.sleep(POLL_SECONDS)
            stopped_at = time.time()
            if spy is not None:
                _reap(spy, wait=True)
            for each in workers:
                each.stop()
            receiver.stop()
        sources = null_outs if plan.null_platform else [rx_out]
        records = [json.loads(path.read_text()) for path in sources if path.exists()]
        received: list[tuple[float, str]] = [d for r in records for d in r["deliveries"]]
        deliveries = [d for d in received if not d[1].startswith(EVENT_PREFIX)]
        events = (
            _event_latencies(received, await db.read(_event_times)) if plan.subscribed else None
        )
        connections = sum(r["connections"] for r in records)
        per_worker = [json.loads(f.read_text()) for f in stats_files if f.exists()]
        engine_stats: dict[str, Any] = {
            "cpu_seconds": sum(w.get("cpu_seconds", 0.0) for w in per_worker),
            "gc_seconds": sum(w.get("gc_seconds", 0.0) for w in per_worker),
            "gc_collections": sum(w.get("gc_collections", 0) for w in per_worker),
            "batches": sum(w.get("batches", 0) for w in per_worker),
            "writes": sum(w.get("writes", 0) for w in per_worker),
            "largest_batch": max((w.get("largest_batch", 0) for w in per_worker), default=0),
        }
    finally:
        await db.close()
    floor = None
    if not plan.null_platform:
        floor = await asyncio.to_thread(
            measure_floor,
            workdir,
            plan.posts,
            settings.dispatch_send_concurrency,
            server_cpu,
            client_cpu,
        )

    published = counts.get(State.PUBLISHED, 0)
    lags = [at - t_due for at, _ in deliveries]
    ids = [delivery for _, delivery in deliveries]
    # On a timeout the rate is what got published by the deadline; the lag percentiles then
    # cover the delivered posts only (flagged by "completed": false).
    elapsed = (done_at if done_at is not None else stopped_at) - t_due
    prof: dict[str, Any] | None = None
    if plan.profile_dir is not None:
        prof = (
            {"file": str(spy_out), **profile.summarize(spy_out)}
            if spy_out is not None and spy_out.exists()
            else {"skipped": "no profile (py-spy missing? `.venv/bin/pip install py-spy`)"}
        )
    return {
        "database": label,
        "platform": "null (in-process)" if plan.null_platform else "webhook (HTTP)",
        "workers": workers_count,
        "posts": plan.posts,
        "insert_seconds": round(insert_seconds, 3),
        "headroom_before_due_s": round(headroom, 3),
        "valid": headroom > 0,
        "completed": done_at is not None,
        "published": published,
        "failed": counts.get(State.FAILED, 0),
        "seconds_to_all_published": round(elapsed, 3) if done_at is not None else None,
        "seconds_measured": round(elapsed, 3),
        "published_per_s": round(published / elapsed, 1) if elapsed > 0 else None,
        "deliveries": len(deliveries),
        "duplicate_deliveries": len(ids) - len(set(ids)),
        "receiver_connections": connections,
        "delivery_span_s": round(max(lags) - min(lags), 3) if lags else None,
        "lag": summary_ms(lags),
        "lag_min_ms": round(min(lags) * 1000, 3) if lags else None,
        "poll_interval_s": POLL_SECONDS,
        "events": events,
        "http_floor": floor,
        "profile": prof,
        "engine": {
            "batch_size": settings.dispatch_batch_size,
            "concurrency": settings.dispatch_concurrency,
            "cpu_seconds": round(engine_stats.get("cpu_seconds", 0.0), 3),
            "cpu_ms_per_post": round(engine_stats.get("cpu_seconds", 0.0) * 1000 / plan.posts, 3),
            "gc_seconds": round(engine_stats.get("gc_seconds", 0.0), 3),
            "gc_collections": engine_stats.get("gc_collections"),
            "group_commits": engine_stats.get("batches"),
            "writes": engine_stats.get("writes"),
            "largest_commit": engine_stats.get("largest_batch"),
        },
    }


async def run_sqlite(
    workdir: Path, plan: DispatchPlan, server_cpu: int | None, client_cpu: int | None
) -> dict[str, Any]:
    data_dir = workdir / "dispatch-sqlite"
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir, secret_key=secrets.token_urlsafe(32))
    env = {"MASTHEAD_DATA_DIR": str(data_dir)}
    result = await _measure("sqlite", settings, env, workdir, plan, server_cpu, client_cpu)
    result["sql_floor"] = await sql_floor_sqlite(workdir, plan, server_cpu)
    return result


async def sql_floor_sqlite(workdir: Path, plan: DispatchPlan, cpu: int | None) -> dict[str, Any]:
    """`bench/sql_floor.py` on a fresh database seeded as part 2 seeds, on the worker's CPU."""
    data_dir = workdir / "sql-floor"
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir, secret_key=secrets.token_urlsafe(32))
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    db = Database(settings.sqlalchemy_url)
    await db.start()
    try:
        await _seed_floor(db, settings, plan)
    finally:
        await db.close()
    return await _run_floor(
        python_module(
            "bench.sql_floor",
            "--db",
            str(data_dir / "masthead.db"),
            "--batch",
            str(settings.dispatch_batch_size),
        ),
        cpu,
    )


async def sql_floor_postgres(
    workdir: Path, plan: DispatchPlan, cpu: int | None, settings: Settings, url: str
) -> dict[str, Any]:
    """`bench/sql_floor_pg.py` on the burst's database emptied and seeded again, on the
    worker's CPU."""
    db = Database(url)
    await db.start()
    try:
        await db.write(lambda c: c.execute(text("TRUNCATE users, posts CASCADE")))
        await _seed_floor(db, settings, plan)
    finally:
        await db.close()
    return await _run_floor(
        python_module(
            "bench.sql_floor_pg", "--url", url, "--batch", str(settings.dispatch_batch_size)
        ),
        cpu,
    )


async def _seed_floor(db: Database, settings: Settings, plan: DispatchPlan) -> None:
    """The burst's posts for a plain-SQL floor, which writes the claim, mark and outcome and
    nothing else: never an event subscription (whose URL the floor's settings would refuse)."""
    await _seed(db, settings, f"http://{HOST}:9/hook", dataclasses.replace(plan, subscribed=False))


async def _run_floor(cmd: list[str], cpu: int | None) -> dict[str, Any]:
    done = await asyncio.to_thread(
        subprocess.run, pinned(cmd, cpu), capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"plain-SQL baseline failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def run_postgres(
    workdir: Path,
    plan: DispatchPlan,
    server_cpu: int | None,
    client_cpu: int | None,
    workers: int = 1,
) -> dict[str, Any]:
    """The same on PostgreSQL, in a temporary database that is always dropped afterwards.
    Raises OSError (and friends) when no server is there; the caller reports a skip."""
    name = f"masthead_bench_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    try:
        settings = Settings(
            data_dir=workdir / "dispatch-pg", database_url=url, secret_key=secrets.token_urlsafe(32)
        )
        env = {"MASTHEAD_DATABASE_URL": url}
        # Inserts through asyncpg are slower: give them more room before T.
        plan = dataclasses.replace(plan, lead_seconds=plan.lead_seconds + 3.0)
        label = "postgresql" if workers == 1 else f"postgresql-{workers}w"
        result = await _measure(
            label, settings, env, workdir / label, plan, server_cpu, client_cpu, workers
        )
        result["sql_floor"] = await sql_floor_postgres(workdir, plan, server_cpu, settings, url)
        return result
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
