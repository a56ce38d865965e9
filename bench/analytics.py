"""Part 9: analytics collection, in one process.

1. Metrics for 10,000 published X posts due at once: the collector against an in-memory X
   (`httpx.MockTransport` answering `GET /2/tweets` after a simulated network delay), counting
   the requests it makes (goal: 100, X's 100 ids per request) and the time to read them all,
   on SQLite. Each platform's reader against its own fake: bench/metrics_fakes.py.
2. The dispatch lag of a burst of posts due at one instant (the zero-latency platform of
   bench/null_platform.py), without and with the collector reading 10,000 due X posts at the
   same time, in the order without, with, with, without (goal: with within 1.2x of without,
   comparing means), on SQLite and on PostgreSQL (a temporary database per run, dropped
   afterwards)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from statistics import fmean
from typing import Any

import asyncpg
import httpx
import orjson
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from bench.dispatch import PG_ADMIN, _pg_admin
from bench.null_platform import NullPublisher
from bench.stats import summary_ms
from masthead.config import Settings
from masthead.dispatch.analytics import Collector
from masthead.dispatch.engine import Dispatcher
from masthead.domain.states import State
from masthead.platforms.base import Publisher
from masthead.platforms.registry import analytics_checkpoints
from masthead.platforms.twitter import TwitterPublisher
from masthead.security import Secrets
from masthead.store import accounts, analytics, users
from masthead.store.database import Database
from masthead.store.migrate import upgrade
from masthead.store.models import AnalyticsCheck, Post, PostItem
from masthead.store.posts import NewPost, insert_post
from masthead.timeutil import utcnow

GOAL_RATIO = 1.2
X_BATCH_GOAL = 100
NETWORK_SECONDS = 0.05
"""Simulated round trip of one X request."""


@dataclass(frozen=True)
class AnalyticsPlan:
    posts: int = 10_000
    burst: int = 2_000
    """Posts due at one instant in the dispatch-lag runs."""
    lead_seconds: float = 2.0
    timeout: float = 120.0


class FakeXMetrics:
    """Answers GET /2/tweets with public metrics for every id asked, counting requests."""

    def __init__(self) -> None:
        self.requests = 0
        self.ids = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        await asyncio.sleep(NETWORK_SECONDS)
        ids = request.url.params["ids"].split(",")
        self.ids += len(ids)
        metrics = {
            "repost_count": 1,
            "reply_count": 2,
            "like_count": 3,
            "quote_count": 0,
            "bookmark_count": 1,
            "impression_count": 40,
        }
        data = [{"id": i, "text": "x", "public_metrics": metrics} for i in ids]
        return httpx.Response(200, json={"data": data})


def _settings(workdir: Path, database_url: str | None = None) -> Settings:
    return Settings(
        data_dir=workdir,
        database_url=database_url,
        secret_key="bench-analytics-key",
        dispatch_batch_size=500,
    )


@asynccontextmanager
async def _database(postgres: bool) -> AsyncIterator[str | None]:
    """A temporary PostgreSQL database, always dropped afterwards (None: SQLite in the run's
    own folder). Raises OSError or asyncpg's errors when no server is there."""
    if not postgres:
        yield None
        return
    name = f"masthead_analytics_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _open_db(workdir: Path, settings: Settings) -> Database:
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    db = Database(settings.sqlalchemy_url)
    await db.start()
    return db


async def _owner(
    db: Database, secrets: Secrets, platform: str, sealed: str | None = None
) -> tuple[str, int]:
    """A user of their own with one `platform` account (credentials sealed, if any)."""
    now = utcnow()

    def work(conn: Connection) -> tuple[str, int]:
        user = users.create_user(conn, secrets, email=f"{platform}@localhost", name="B", now=now)
        account_id = accounts.add_account(
            conn,
            user_id=user.id,
            platform=platform,
            external_id=platform,
            username=platform,
            fullname=platform.title(),
            now=now,
            credentials=sealed,
        )
        return user.id, account_id

    return await db.write(work)


async def _seed_measured(db: Database, settings: Settings, count: int) -> None:
    """One X account and `count` posts published a day ago, their 24 h checks due now."""
    secrets = Secrets(settings.secret_keys)
    now = utcnow()
    published = now - timedelta(hours=25)
    creds = {"access_token": "bench", "expires_at": (now + timedelta(days=1)).isoformat()}
    sealed = secrets.encrypt(orjson.dumps(creds).decode())
    user_id, account_id = await _owner(db, secrets, "twitter", sealed)
    schedules = {"twitter": analytics_checkpoints(settings)["twitter"]}
    draft = {
        "accountId": str(account_id),
        "content": {"text": "measured", "mediaUrls": [], "platform": "twitter"},
        "target": {"targetType": "twitter"},
    }
    for start in range(0, count, 1000):

        def work(conn: Connection, start: int = start) -> None:
            ids = [str(uuid.uuid4()) for _ in range(min(1000, count - start))]
            for n, post_id in enumerate(ids):
                insert_post(
                    conn,
                    NewPost(post_id, user_id, account_id, "twitter", None, draft, None),
                    published,
                )
                conn.execute(
                    insert(PostItem).values(
                        post_id=post_id,
                        position=0,
                        state="sent",
                        remote_id=str(10**18 + start + n),
                        public_url=None,
                        sending_at=published,
                        sent_at=published,
                    )
                )
            conn.execute(
                update(Post)
                .where(Post.id.in_(ids))
                .values(state=State.PUBLISHED, due_at=None, finished_at=published)
            )
            analytics.schedule(conn, dict.fromkeys(ids, published), schedules)
            # Only the 24 h check is due; the later ones stay in the future.
            conn.execute(
                update(AnalyticsCheck)
                .where(AnalyticsCheck.post_id.in_(ids), AnalyticsCheck.checkpoint == 0)
                .values(due_at=now)
            )

        await db.write(work)


async def _open_checks(db: Database, before: datetime) -> int:
    def count(conn: Connection) -> int:
        query = select(func.count()).select_from(AnalyticsCheck)
        return int(conn.execute(query.where(AnalyticsCheck.due_at <= before)).scalar_one())

    return await db.read(count)


def _x(fake: FakeXMetrics) -> TwitterPublisher:
    return TwitterPublisher(
        api_url="https://api.x.com", app=None, transport=httpx.MockTransport(fake)
    )


async def collect(workdir: Path, plan: AnalyticsPlan) -> dict[str, Any]:
    """Sub-part 1: 10,000 X posts due at once."""
    settings = _settings(workdir)
    db = await _open_db(workdir, settings)
    fake = FakeXMetrics()
    x = _x(fake)
    try:
        await _seed_measured(db, settings, plan.posts)
        collector = Collector(db, {"twitter": x}, settings, Secrets(settings.secret_keys))
        cutoff = utcnow() + timedelta(seconds=1)
        started = time.monotonic()
        while await collector.run_once():
            pass
        seconds = time.monotonic() - started
        left = await _open_checks(db, cutoff)
    finally:
        await x.aclose()
        await db.close()
    return {
        "posts": plan.posts,
        "requests": fake.requests,
        "ids_read": fake.ids,
        "seconds": round(seconds, 3),
        "left_unread": left,
        "requests_ok": fake.requests <= plan.posts // X_BATCH_GOAL and left == 0,
    }


async def _burst(
    workdir: Path, plan: AnalyticsPlan, collecting: bool, database_url: str | None
) -> dict[str, Any]:
    """A burst of `plan.burst` webhook posts due at T (zero-latency platform); with
    `collecting`, the collector has 10,000 X posts due at the same time."""
    settings = _settings(workdir, database_url)
    db = await _open_db(workdir, settings)
    secrets = Secrets(settings.secret_keys)
    null_out = workdir / "null.json"
    publishers: dict[str, Publisher] = {"webhook": NullPublisher(null_out)}
    fake = FakeXMetrics()
    x = _x(fake)
    if collecting:
        await _seed_measured(db, settings, plan.posts)
        publishers["twitter"] = x
    user_id, account_id = await _owner(db, secrets, "webhook")
    due = utcnow() + timedelta(seconds=plan.lead_seconds)
    draft = {
        "accountId": str(account_id),
        "content": {"text": "burst", "mediaUrls": [], "platform": "other"},
        "target": {"targetType": "webhook", "url": "https://example.invalid/hook"},
    }

    def insert_burst(conn: Connection) -> None:
        for _ in range(plan.burst):
            post = NewPost(str(uuid.uuid4()), user_id, account_id, "webhook", None, draft, due)
            insert_post(conn, post, utcnow())

    await db.write(insert_burst)
    dispatcher = Dispatcher(db, publishers, settings, secrets)
    collector = Collector(db, publishers, settings, secrets, publishing=dispatcher.in_flight)
    await dispatcher.start()
    if collecting:
        await collector.start()
    try:
        deadline = due.timestamp() + plan.timeout
        while time.time() < deadline:
            if await db.read(_published) >= plan.burst:
                break
            await asyncio.sleep(0.05)
    finally:
        await dispatcher.stop()
        if collecting:
            await collector.stop()
        for publisher in publishers.values():
            await publisher.aclose()
        await db.close()
    deliveries = orjson.loads(null_out.read_bytes())["deliveries"]
    lags = [max(0.0, at - due.timestamp()) for at, _ in deliveries]
    return {
        "collecting": collecting,
        "published": len(deliveries),
        "seconds_to_all_published": round(max(lags), 3) if lags else None,
        "lag": summary_ms(lags),
        "x_requests": fake.requests,
    }


def _published(conn: Connection) -> int:
    query = select(func.count()).select_from(Post).where(Post.state == State.PUBLISHED)
    return int(conn.execute(query.where(Post.platform == "webhook")).scalar_one())


async def _lag(workdir: Path, plan: AnalyticsPlan, postgres: bool) -> dict[str, Any]:
    """Sub-part 2 on one database: off, on, on, off, each run in a database of its own."""
    if postgres:  # inserts through asyncpg are slower: more room before T (as bench/dispatch)
        plan = dataclasses.replace(plan, lead_seconds=plan.lead_seconds + 3.0)
    runs = []
    for n, collecting in enumerate((False, True, True, False)):
        async with _database(postgres) as url:
            runs.append(await _burst(workdir / f"burst{n}", plan, collecting, url))
    without, with_collection = [runs[0], runs[3]], [runs[1], runs[2]]
    ratios: dict[str, float | None] = {}
    for key in ("p50_ms", "p99_ms"):
        base = fmean(r["lag"][key] for r in without)
        ratios[key] = (
            round(fmean(r["lag"][key] for r in with_collection) / base, 3) if base else None
        )
    return {
        "bursts": runs,
        "ratios": ratios,
        "ratios_ok": all(v is not None and v <= GOAL_RATIO for v in ratios.values()),
        "all_published": all(r["published"] == plan.burst for r in runs),
    }


async def run_analytics(workdir: Path, plan: AnalyticsPlan, postgres: bool) -> dict[str, Any]:
    """Sub-part 1, then sub-part 2 on SQLite and (with `postgres`) on PostgreSQL; a server
    that cannot be reached is reported as a skip of that database."""
    collection = await collect(workdir / "collect", plan)
    lag: dict[str, dict[str, Any]] = {"sqlite": await _lag(workdir / "sqlite", plan, False)}
    if not postgres:
        lag["postgresql"] = {"skipped": "--no-postgres"}
    else:
        try:
            lag["postgresql"] = await _lag(workdir / "postgresql", plan, True)
        except (OSError, asyncpg.PostgresError) as exc:
            lag["postgresql"] = {"skipped": f"{PG_ADMIN} unusable ({type(exc).__name__}: {exc})"}
    return {"collection": collection, "burst_posts": plan.burst, "lag": lag}
