"""Part 5: does Masthead stay as fast with a million posts waiting as with none?

The same processes measure three things twice, first on a database holding only the seeded
users and accounts, then after N future posts were bulk-inserted straight into it: POST
/v2/posts and GET /v2/posts/{id} latency under a fixed-rate open-loop load, and the dispatch
lag of a steady stream of posts due a couple of seconds after they were created (webhook
arrival at the receiver - the post's scheduled time). Each loaded figure is reported as a
ratio to its empty baseline from the same run (goal <= 1.5), the lag p99 against 100 ms, and
the dispatch worker's peak RSS against 300 MiB.

On PostgreSQL the API (`masthead serve --no-worker`) and the worker (`masthead worker`) are
separate processes, as in a scale-out deployment, so the worker's RSS is its own; on SQLite
one `masthead serve` does both and its RSS is reported instead.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import Connection

from bench import openloop
from bench.api import _first_start_credentials
from bench.dispatch import PG_ADMIN, _pg_admin
from bench.procs import (
    HOST,
    BenchError,
    RssSampler,
    child,
    clean_env,
    free_port,
    python_module,
    wait_for_http,
    wait_for_port,
)
from bench.stats import summary_ms
from masthead.config import Settings
from masthead.security import Secrets
from masthead.store import accounts, users
from masthead.store.database import Database
from masthead.store.models import Account, Post
from masthead.store.posts import NewPost, new_post_values
from masthead.timeutil import iso, utcnow

GOAL_RATIO = 1.5
GOAL_RSS_MIB = 300.0
GOAL_LAG_P99_MS = 100.0
SQLITE_BATCH = 50_000
PG_BATCH = 250_000
RSS_EVERY = 0.5
"""Seconds between RSS samples of the server or worker during a phase."""


@dataclass(frozen=True)
class ScalePlan:
    posts: int = 1_000_000
    users: int = 100
    """The posts are spread over this many users (the first-start admin is one of them)..."""
    accounts_per_user: int = 3
    """...and this many webhook accounts each, so per-user indexes hold realistic shares."""
    rate: float = 100.0
    """Requests per second of the POST and of the GET measurement."""
    seconds: float = 10.0
    warmup: float = 2.0
    stream_rate: float = 30.0
    """Posts per second of the dispatch-lag stream."""
    stream_seconds: float = 12.0
    lead: float = 2.0
    """Each stream post is scheduled this long after its request is due."""
    get_ids: int = 500
    """Distinct existing posts the GET load cycles through."""


@dataclass
class _Stack:
    """The running Masthead under test and what the bench needs to drive it."""

    database: str
    port: int
    key: str
    account_id: int
    user_id: str
    rx_port: int
    db: Database
    rss_pids: dict[str, int]
    """RSS is sampled for these processes: `worker` (and `api`), or `server` on SQLite."""


def _webhook_post(account_id: int, rx_port: int, scheduled: str) -> dict[str, Any]:
    return {
        "post": {
            "accountId": str(account_id),
            "content": {"text": "bench", "mediaUrls": [], "platform": "other"},
            "target": {"targetType": "webhook", "url": f"http://{HOST}:{rx_port}/hook"},
        },
        "scheduledTime": scheduled,
    }


def _write_mix(path: Path, requests: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"requests": requests}))
    return path


async def _seed_owners(
    db: Database, secret_key: str, stack: _Stack, plan: ScalePlan
) -> list[tuple[str, int]]:
    """Users and webhook accounts beside the first-start admin; returns every (user id,
    account id) that the bulk posts are spread over, the admin's own account first."""
    box = Secrets([secret_key])
    now = utcnow()

    def work(conn: Connection) -> list[tuple[str, int]]:
        owners = [(stack.user_id, stack.account_id)]
        for n in range(1, plan.accounts_per_user):
            owners.append((stack.user_id, _webhook_account(conn, stack.user_id, n, now)))
        for u in range(1, plan.users):
            user = users.create_user(
                conn, box, email=f"scale{u}@localhost", name=f"Scale {u}", now=now
            )
            for n in range(plan.accounts_per_user):
                owners.append((user.id, _webhook_account(conn, user.id, n, now)))
        return owners

    return await db.write(work)


def _webhook_account(conn: Connection, user_id: str, n: int, now: datetime) -> int:
    return accounts.add_account(
        conn,
        user_id=user_id,
        platform="webhook",
        external_id=f"webhook-{n}",
        username=f"webhook{n}",
        fullname=f"Webhook {n}",
        now=now,
    )


def _bulk_sqlite(
    url: str, owners: list[tuple[str, int]], draft: dict[str, Any], plan: ScalePlan
) -> None:
    """Rows built by the store's own `new_post_values`, as the API builds them, written with
    executemany in large transactions (one fsync per batch)."""
    engine = create_engine(url, connect_args={"timeout": 60})
    rng = secrets.SystemRandom()
    now = utcnow()
    span = timedelta(days=335).total_seconds()
    try:
        for start in range(0, plan.posts, SQLITE_BATCH):
            rows = []
            for i in range(start, min(start + SQLITE_BATCH, plan.posts)):
                user_id, account_id = owners[i % len(owners)]
                when = now + timedelta(days=30, seconds=rng.random() * span)
                when = when.replace(microsecond=when.microsecond // 1000 * 1000)
                post = NewPost(
                    id=str(uuid.uuid4()),
                    user_id=user_id,
                    account_id=account_id,
                    platform="webhook",
                    subaccount_id=None,
                    draft={**draft, "accountId": str(account_id)},
                    scheduled_at=when,
                )
                rows.append(new_post_values(post, now))
            with engine.begin() as conn:
                conn.execute(insert(Post), rows)
        # Fresh statistics, and the WAL folded into the database file: the loaded phase then
        # measures a database holding the posts, not the aftermath of loading them.
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()


_PG_BULK = """
INSERT INTO posts (id, user_id, account_id, platform, subaccount_id, draft, state,
                   scheduled_at, post_time, due_at, attempt, version, created_at, updated_at)
SELECT gen_random_uuid()::text, o.user_id, o.id, 'webhook', NULL,
       jsonb_set($1::jsonb, '{accountId}', to_jsonb(o.id::text)), 'scheduled',
       g.t, g.t, g.t, 0, 1, now(), now()
FROM (SELECT i, date_trunc('milliseconds',
                           now() + interval '30 days' + random() * interval '335 days') AS t
      FROM generate_series($2::bigint, $3::bigint - 1) AS i) AS g
JOIN (SELECT id, user_id, row_number() OVER (ORDER BY id) - 1 AS n
      FROM accounts WHERE id = ANY($4::bigint[])) AS o
  ON o.n = g.i % $5
"""
"""Generated in the server: the same columns and values `new_post_values` gives an API post
(state `scheduled`, due_at = post_time = scheduled_at, ms precision, the API's own draft with
its account id), without shipping a million rows through the client."""


async def _bulk_postgres(
    url: str, owners: list[tuple[str, int]], draft: dict[str, Any], plan: ScalePlan
) -> None:
    ids = [account_id for _, account_id in owners]
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for start in range(0, plan.posts, PG_BATCH):
            end = min(start + PG_BATCH, plan.posts)
            await conn.execute(_PG_BULK, json.dumps(draft), start, end, ids, len(ids))
        # What autovacuum would have done to rows this old (statistics, visibility map),
        # and the bulk load's dirty pages written out: the loaded phase then measures a
        # database holding the posts, not the aftermath of loading them.
        await conn.execute("VACUUM (ANALYZE) posts")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def _admin_post_ids(db: Database, user_id: str, limit: int) -> list[str]:
    """Existing posts of the caller for the GET load, picked across the whole id range."""

    def pick(conn: Connection) -> list[str]:
        ids = conn.execute(select(Post.id).where(Post.user_id == user_id)).scalars().all()
        step = max(1, len(ids) // limit)
        return list(ids[::step][:limit])

    return await db.read(pick)


def _window(account_id: int, since: datetime, until: datetime) -> tuple[Any, ...]:
    """The stream's posts: by account and scheduled time, read off an index (a poll that
    scanned the million posts would load the database it measures)."""
    return (Post.account_id == account_id, Post.scheduled_at >= since, Post.scheduled_at <= until)


async def _wait_finished(
    db: Database, account_id: int, since: datetime, until: datetime, timeout: float
) -> int:
    """Until no post of the stream is still waiting or in flight; returns how many it has."""

    def unfinished(conn: Connection) -> tuple[int, int]:
        window = _window(account_id, since, until)
        waiting = conn.execute(
            select(text("count(*)")).select_from(Post).where(*window, Post.due_at.is_not(None))
        ).scalar_one()
        total = conn.execute(select(text("count(*)")).select_from(Post).where(*window)).scalar_one()
        return int(waiting), int(total)

    deadline = time.monotonic() + timeout
    while True:
        waiting, total = await db.read(unfinished)
        if waiting == 0:
            return total
        if time.monotonic() > deadline:
            raise BenchError(f"{waiting} of {total} stream posts still unfinished after {timeout}s")
        await asyncio.sleep(0.2)


async def _stream_lag(
    stack: _Stack, workdir: Path, label: str, plan: ScalePlan, cpu: int | None
) -> dict[str, Any]:
    """A steady stream of posts due `plan.lead` after their request, created through the
    API; lag = arrival at a fresh receiver - the post's scheduled time."""
    rx_out = workdir / f"rx-{label}.json"
    mix = _write_mix(
        workdir / f"stream-{label}.json",
        [
            {
                "kind": "stream",
                "path": "/v2/posts",
                "body": _webhook_post(
                    stack.account_id, stack.rx_port, openloop.SCHEDULED_MARK.decode()
                ),
                "scheduledIn": plan.lead,
            }
        ],
    )
    with child(
        "webhook receiver",
        python_module("bench.receiver", "--port", str(stack.rx_port), "--out", str(rx_out)),
        env=clean_env({}),
        log=workdir / f"receiver-{label}.log",
        cpu=cpu,
    ) as receiver:
        wait_for_port(receiver, stack.rx_port)
        since = utcnow()
        load = await asyncio.to_thread(
            openloop.measure,
            stack.port,
            api_key=stack.key,
            rate=plan.stream_rate,
            seconds=plan.stream_seconds,
            cpu=cpu,
            mix_file=mix,
            connections=16,
        )
        until = utcnow() + timedelta(seconds=plan.lead + 1)
        posts = await _wait_finished(
            stack.db, stack.account_id, since, until, timeout=plan.lead + 30
        )
        receiver.stop()
    deliveries: list[tuple[float, str]] = json.loads(rx_out.read_text())["deliveries"]
    ids = [post_id for _, post_id in deliveries]

    def scheduled(conn: Connection) -> dict[str, datetime]:
        rows = conn.execute(select(Post.id, Post.scheduled_at).where(Post.id.in_(set(ids))))
        return {post_id: at for post_id, at in rows if at is not None}

    times = await stack.db.read(scheduled)
    lags = [at - times[post_id].timestamp() for at, post_id in deliveries if post_id in times]

    def states(conn: Connection) -> dict[str, int]:
        rows = conn.execute(
            select(Post.state, text("count(*)"))
            .where(*_window(stack.account_id, since, until))
            .group_by(Post.state)
        )
        return {state: int(n) for state, n in rows}

    return {
        "rate": plan.stream_rate,
        "created_201": load["statuses"].get("201", 0),
        "non_201": sum(n for code, n in load["statuses"].items() if code != "201"),
        "posts": posts,
        "states": await stack.db.read(states),
        "deliveries": len(deliveries),
        "duplicate_deliveries": len(ids) - len(set(ids)),
        "lag": summary_ms(lags),
        "lag_min_ms": round(min(lags) * 1000, 3) if lags else None,
    }


async def _phase(
    stack: _Stack, workdir: Path, label: str, plan: ScalePlan, cpu: int | None
) -> dict[str, Any]:
    """POST latency, GET latency and stream lag, with the processes' RSS sampled throughout."""

    async def load(mix: Path) -> dict[str, Any]:
        """A short unrecorded warm-up (the empty phase is the servers' first traffic, which
        would otherwise pay for cold caches and flatter the ratio), then the measurement."""
        result: dict[str, Any] = {}
        for seconds in (plan.warmup, plan.seconds):
            result = await asyncio.to_thread(
                openloop.measure,
                stack.port,
                api_key=stack.key,
                rate=plan.rate,
                seconds=seconds,
                cpu=cpu,
                mix_file=mix,
                connections=32,
            )
        return result

    with RssSampler(stack.rss_pids, RSS_EVERY) as rss:
        far = iso(utcnow() + timedelta(days=20))
        post_mix = _write_mix(
            workdir / f"post-{label}.json",
            [
                {
                    "kind": "post",
                    "path": "/v2/posts",
                    "body": _webhook_post(stack.account_id, stack.rx_port, far),
                }
            ],
        )
        print(f"  {stack.database}, {label}: POST /v2/posts at {plan.rate:g}/s ...", flush=True)
        post = await load(post_mix)
        ids = await _admin_post_ids(stack.db, stack.user_id, plan.get_ids)
        get_mix = _write_mix(
            workdir / f"get-{label}.json",
            [{"kind": "get", "method": "GET", "paths": [f"/v2/posts/{i}" for i in ids]}],
        )
        print(f"  {stack.database}, {label}: GET /v2/posts/{{id}} ...", flush=True)
        get = await load(get_mix)
        print(f"  {stack.database}, {label}: dispatch lag stream ...", flush=True)
        lag = await _stream_lag(stack, workdir, label, plan, cpu)
    return {
        "post": _latency(post, "201"),
        "get": _latency(get, "200"),
        "lag": lag,
        "rss_peak_mib": rss.peak_mib(),
    }


def _latency(result: dict[str, Any], ok: str) -> dict[str, Any]:
    statuses: dict[str, int] = result["statuses"]
    return {
        "rate": result["target_rate"],
        "achieved_rate": result["achieved_rate"],
        "requests": result["requests"],
        "ok": statuses.get(ok, 0),
        "other": sum(n for code, n in statuses.items() if code != ok),
        "errors": sum(result["errors"].values()),
        "latency": result["latency"],
        "send_lag_p99_ms": result["send_lag"]["p99_ms"],
    }


def _ratio(loaded: float, empty: float) -> float | None:
    return round(loaded / empty, 3) if empty else None


def compare(empty: dict[str, Any], loaded: dict[str, Any], rss_name: str) -> dict[str, Any]:
    """Loaded/empty ratios of each latency figure and the verdict on every goal."""
    ratios = {
        f"{metric}_{pct}": _ratio(loaded[metric][key][f"{pct}_ms"], empty[metric][key][f"{pct}_ms"])
        for metric, key in (("post", "latency"), ("get", "latency"), ("lag", "lag"))
        for pct in ("p50", "p99")
    }
    rss = loaded["rss_peak_mib"].get(rss_name, 0.0)
    lag_p99 = max(empty["lag"]["lag"]["p99_ms"], loaded["lag"]["lag"]["p99_ms"])
    clean = all(
        phase[m]["other"] == 0 and phase[m]["errors"] == 0
        for phase in (empty, loaded)
        for m in ("post", "get")
    ) and all(
        phase["lag"]["deliveries"] == phase["lag"]["posts"]
        and phase["lag"]["duplicate_deliveries"] == 0
        and phase["lag"]["non_201"] == 0
        for phase in (empty, loaded)
    )
    return {
        "ratios": ratios,
        "ratios_ok": all(r is not None and r <= GOAL_RATIO for r in ratios.values()),
        "rss_process": rss_name,
        "rss_peak_mib": rss,
        "rss_ok": rss < GOAL_RSS_MIB,
        "lag_p99_ms": lag_p99,
        "lag_ok": lag_p99 < GOAL_LAG_P99_MS,
        "all_answered_and_delivered": clean,
    }


async def _run(
    stack: _Stack,
    workdir: Path,
    secret_key: str,
    plan: ScalePlan,
    bulk: Callable[[list[tuple[str, int]], dict[str, Any]], Any],
    client_cpu: int | None,
) -> dict[str, Any]:
    owners = await _seed_owners(stack.db, secret_key, stack, plan)
    # One real API post: its stored draft is the template of every bulk row.
    async with httpx.AsyncClient() as client:
        probe = await client.post(
            f"http://{HOST}:{stack.port}/v2/posts",
            json=_webhook_post(stack.account_id, stack.rx_port, iso(utcnow() + timedelta(days=40))),
            headers={"blotato-api-key": stack.key},
            timeout=10,
        )
    if probe.status_code != 201:
        raise BenchError(f"a single POST got {probe.status_code}: {probe.text}")
    probe_id = probe.json()["postSubmissionId"]
    draft = await stack.db.read(
        lambda conn: conn.execute(select(Post.draft).where(Post.id == probe_id)).scalar_one()
    )
    empty = await _phase(stack, workdir, "empty", plan, client_cpu)
    print(f"  {stack.database}: inserting {plan.posts:,} future posts ...", flush=True)
    t0 = time.monotonic()
    await bulk(owners, draft)
    insert_seconds = time.monotonic() - t0
    print(f"  {stack.database}: inserted in {insert_seconds:.1f}s", flush=True)
    loaded = await _phase(stack, workdir, "loaded", plan, client_cpu)
    rss_name = "worker" if "worker" in stack.rss_pids else "server"
    return {
        "database": stack.database,
        "posts": plan.posts,
        "users": plan.users,
        "accounts": len(owners),
        "insert_seconds": round(insert_seconds, 1),
        "insert_rows_per_s": round(plan.posts / insert_seconds) if insert_seconds else None,
        "empty": empty,
        "loaded": loaded,
        **compare(empty, loaded, rss_name),
    }


def _base_env(rx_port: int, secret_key: str, data_dir: Path) -> dict[str, str]:
    return {
        "MASTHEAD_DATA_DIR": str(data_dir),
        "MASTHEAD_SECRET_KEY": secret_key,
        "MASTHEAD_API_RATE_LIMITS": "off",
        "MASTHEAD_LOG_LEVEL": "WARNING",
        "MASTHEAD_FETCH_ALLOW": f"{HOST}:{rx_port}",
    }


async def _owner_of(db: Database, account_id: int) -> str:
    """The first-start admin's user id (the first start prints only its key and account)."""
    return str(
        await db.read(
            lambda conn: conn.execute(
                select(Account.user_id).where(Account.id == account_id)
            ).scalar_one()
        )
    )


async def run_scale_postgres(
    workdir: Path, plan: ScalePlan, server_cpu: int | None, client_cpu: int | None
) -> dict[str, Any]:
    """Scale-out mode in a temporary database, always dropped afterwards. Raises OSError
    (and friends) when no server is there; the caller reports a skip."""
    name = f"masthead_scale_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    sa_url = Settings(database_url=url).sqlalchemy_url
    try:
        await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
        rx_port, port = free_port(), free_port()
        secret_key = secrets.token_urlsafe(32)
        env = {
            **_base_env(rx_port, secret_key, workdir / "data"),
            "MASTHEAD_DATABASE_URL": url,
        }
        with ExitStack() as procs:
            api_log = workdir / "api.log"
            api = procs.enter_context(
                child(
                    "masthead serve --no-worker",
                    python_module("masthead", "serve", "--no-worker", "--port", str(port)),
                    env=clean_env(env),
                    log=api_log,
                    cpu=server_cpu,
                )
            )
            wait_for_port(api, port, timeout=60)
            worker = procs.enter_context(
                child(
                    "masthead worker",
                    python_module("masthead", "worker"),
                    env=clean_env(env),
                    log=workdir / "worker.log",
                    cpu=server_cpu,
                )
            )
            wait_for_http(api, f"http://{HOST}:{port}/readyz", timeout=60)
            if not worker.alive():
                raise BenchError(f"masthead worker exited:\n{worker.log_tail()}")
            key, account = _first_start_credentials(api_log)
            db = Database(sa_url)
            await db.start()
            try:
                user_id = await _owner_of(db, int(account))
                stack = _Stack(
                    "postgresql",
                    port,
                    key,
                    int(account),
                    user_id,
                    rx_port,
                    db,
                    {"worker": worker.pid, "api": api.pid},
                )

                async def bulk(owners: list[tuple[str, int]], draft: dict[str, Any]) -> None:
                    await _bulk_postgres(url, owners, draft, plan)

                return await _run(stack, workdir, secret_key, plan, bulk, client_cpu)
            finally:
                await db.close()
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run_scale_sqlite(
    workdir: Path, plan: ScalePlan, server_cpu: int | None, client_cpu: int | None
) -> dict[str, Any]:
    """The embedded default: one `masthead serve` (API and worker), its RSS reported."""
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    data_dir = workdir / "data"
    rx_port, port = free_port(), free_port()
    secret_key = secrets.token_urlsafe(32)
    env = _base_env(rx_port, secret_key, data_dir)
    log = workdir / "serve.log"
    with child(
        "masthead serve",
        python_module("masthead", "serve", "--port", str(port)),
        env=clean_env(env),
        log=log,
        cpu=server_cpu,
    ) as server:
        wait_for_http(server, f"http://{HOST}:{port}/readyz", timeout=60)
        key, account = _first_start_credentials(log)
        sa_url = Settings(data_dir=data_dir).sqlalchemy_url
        db = Database(sa_url)
        await db.start()
        try:
            user_id = await _owner_of(db, int(account))
            stack = _Stack(
                "sqlite", port, key, int(account), user_id, rx_port, db, {"server": server.pid}
            )

            async def bulk(owners: list[tuple[str, int]], draft: dict[str, Any]) -> None:
                await asyncio.to_thread(_bulk_sqlite, sa_url, owners, draft, plan)

            return await _run(stack, workdir, secret_key, plan, bulk, client_cpu)
        finally:
            await db.close()
