"""Part 4: every web UI page's server time with 10,000 posts in the database (goal: under
50 ms at p99).

The app runs in this process on SQLite (the embedded default) with a signed-in user who owns
all the posts, spread over twenty weeks around now in every state, so the week calendar holds
~500 of them; requests go through httpx's ASGI transport, so what is timed is the app's own
work (routing, session check, queries, rendering) with no socket in between.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from bench.stats import summary_ms
from masthead.app import create_app
from masthead.config import Settings
from masthead.security import Secrets, hash_password
from masthead.store import accounts, slots, users
from masthead.store.migrate import upgrade
from masthead.store.models import Post, PostItem
from masthead.timeutil import utcnow

GOAL_MS = 50.0
PASSWORD = "bench-password"
STATES = ("scheduled", "published", "failed", "in-progress", "cancelled")


@dataclass(frozen=True)
class WebPlan:
    posts: int = 10_000
    requests: int = 200
    """per page, after a warm-up of 20"""


def _seed(conn: Connection, secrets: Secrets, posts: int) -> str:
    now = utcnow()
    user = users.create_user(
        conn,
        secrets,
        email="bench@example.com",
        name="Bench",
        now=now,
        password_hash=hash_password(PASSWORD),
    )
    key = secrets.new_api_key()
    users.add_api_key(
        conn, user_id=user.id, name="bench", prefix=key.prefix, digest=key.digest, now=now
    )
    account_ids = [
        accounts.add_account(
            conn,
            user_id=user.id,
            platform=platform,
            external_id=f"{platform}-{i}",
            username=f"{platform}{i}",
            fullname=f"{platform} {i}",
            now=now,
        )
        for i, platform in enumerate(("webhook", "bluesky", "twitter"))
    ]
    for day in ("monday", "wednesday", "friday"):
        slots.add_slot(
            conn,
            user_id=user.id,
            day=day,
            hour=9,
            minute=30,
            timezone="Europe/Paris",
            targets=[{"platform": "webhook", "accountId": str(account_ids[0])}],
            now=now,
        )
    span = timedelta(weeks=20)
    rows: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for n in range(posts):
        when = now - span / 2 + span * n / posts
        state = STATES[n % len(STATES)]
        account = account_ids[n % len(account_ids)]
        post_id = str(uuid.uuid4())
        rows.append(
            {
                "id": post_id,
                "user_id": user.id,
                "account_id": account,
                "platform": ("webhook", "bluesky", "twitter")[n % 3],
                "draft": {
                    "accountId": str(account),
                    "content": {
                        "text": f"Post number {n} with some words in it",
                        "mediaUrls": [f"https://example.com/m/{n}.jpg"] if n % 4 == 0 else [],
                        "platform": "other",
                    },
                    "target": {"targetType": "webhook", "url": "https://example.com/hook"},
                },
                "state": state,
                "error_message": "The platform said no" if state == "failed" else None,
                "public_url": f"https://example.com/p/{n}" if state == "published" else None,
                "scheduled_at": when,
                "post_time": when,
                "due_at": when if state == "scheduled" else None,
                "attempt": 0,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        if state == "published":
            items.append(
                {
                    "post_id": post_id,
                    "position": 0,
                    "state": "sent",
                    "remote_id": str(n),
                    "public_url": f"https://example.com/p/{n}",
                    "sending_at": now,
                    "sent_at": now,
                }
            )
    conn.execute(insert(Post), rows)
    conn.execute(insert(PostItem), items)
    return rows[1]["id"]


async def _measure(workdir: Path, plan: WebPlan) -> dict[str, Any]:
    settings = Settings(  # type: ignore[call-arg]
        data_dir=workdir,
        secret_key="bench-secret-key",
        api_rate_limits="off",
        public_url="http://bench.test",
        log_format="text",
    )
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    app = create_app(settings, run_worker=False)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        post_id = await ctx.db.write(lambda c: _seed(c, ctx.secrets, plan.posts))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=settings.public_url
        ) as client:
            login = await client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]*)"', login.text)
            assert token is not None
            signed = await client.post(
                "/login",
                data={
                    "email": "bench@example.com",
                    "password": PASSWORD,
                    "csrf_token": token.group(1),
                },
            )
            if signed.status_code != 303:
                raise RuntimeError(f"sign-in failed: {signed.status_code}")
            pages = [
                "/posts",
                "/posts?status=failed",
                "/posts?platform=bluesky&status=scheduled",
                f"/posts/{post_id}",
                "/settings/keys",
                "/settings/accounts",
                "/settings/slots",
                "/login",
            ]
            results: dict[str, Any] = {}
            for path in pages:
                for _ in range(20):
                    await client.get(path)
                times = []
                for _ in range(plan.requests):
                    started = time.perf_counter()
                    response = await client.get(path)
                    times.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path}: {response.status_code}")
                results[path] = summary_ms(times)
    worst = max(r["p99_ms"] for r in results.values())
    return {
        "posts": plan.posts,
        "requests_per_page": plan.requests,
        "pages": results,
        "worst_p99_ms": worst,
        "goal_ms": GOAL_MS,
        "ok": worst < GOAL_MS,
    }


def run_web(workdir: Path, plan: WebPlan) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_measure(workdir, plan))
