"""Part 9, per platform: each platform's metrics reader against the project's own fake of it
(tests/fakes/, served in-process through `transport()`, checking every request against the
platform's schema as in the tests), measured by bench/metrics_read.py: requests made (goal: one
per `metrics_batch` posts where the platform takes many ids, else one per post, two for
Instagram) and the time to read them all. Bluesky's fake AppView stands in front of the
reference PDS, a Node process: bench/metrics_bluesky.py starts it for its row, which says why
when Node or the PDS is not there. No database here: the X row of part 9 above runs the
collector itself.

Some platforms run fewer posts (`SCALED`) to keep the part within a few minutes on a loaded
machine: those that take one post per request (their request count is linear in the posts),
and X, whose fake checks each 100-post answer against X's OpenAPI (over a second of CPU an
answer; part 9's collector row reads 10,000 X posts). Bluesky runs the full count: its 10,000
posts are written on the PDS 200 a call (35 s at load average 8)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.http import FakeServer
from tests.fakes.linkedin import ACTIVE_VERSIONS, FakeLinkedIn
from tests.fakes.meta import FakeMeta, Page
from tests.fakes.pinterest import FakePinterest
from tests.fakes.threads import FakeThreads
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.x import FakeX
from tests.fakes.youtube import FakeYouTube
from tests.support.credentials import Credentials
from tests.support.metrics import account, published, signed_in

from bench.metrics_bluesky import BlueskyUnavailable, measure_bluesky
from bench.metrics_read import Reading, read_metrics
from masthead.config import Settings
from masthead.platforms.base import AccountContext, AccountInfo, PublishedPost
from masthead.platforms.oauth import credentials_from_token_response
from masthead.platforms.registry import SPECS
from masthead.platforms.threads import long_lived_credentials
from masthead.timeutil import utcnow


@dataclass(frozen=True)
class FakesPlan:
    posts: int = 10_000
    """Posts of each platform, but for those in `SCALED`."""


SCALED = {"twitter": 1_000, "threads": 500, "instagram": 500, "facebook": 500, "pinterest": 100}
"""Posts of the platforms whose run would otherwise take minutes (Pinterest's fake checks
each request and answer with openapi-core, about 0.1 s of CPU each)."""


@dataclass
class Seeded:
    """One platform's fake with an account and its published posts, as its reader needs."""

    fake: FakeServer
    ctx: AccountContext
    posts: list[PublishedPost]
    requests_per_post: int = 1
    """For a platform without a many-ids call: its requests per post."""


def _x(count: int) -> Seeded:
    fake = FakeX()
    user = fake.add_user("bench")
    ids = [fake.add_tweet(user, f"post {n}").id for n in range(count)]
    ctx = signed_in("twitter", fake.issue_tokens(user), user.id, user.username)
    return Seeded(fake, ctx, [published(i) for i in ids])


def _youtube(count: int) -> Seeded:
    fake = FakeYouTube()
    channel = fake.add_channel("Bench")
    ids = [fake.add_video(channel, viewCount=str(n)).id for n in range(count)]
    ctx = signed_in("youtube", fake.issue_tokens(channel))
    return Seeded(fake, ctx, [published(i) for i in ids])


def _tiktok(count: int) -> Seeded:
    fake = FakeTikTok()
    user = fake.add_user("bench")
    ids = [fake.add_video(user, view_count=n) for n in range(count)]
    ctx = signed_in("tiktok", fake.issue_tokens(user))
    return Seeded(fake, ctx, [published(i) for i in ids])


def _linkedin(count: int) -> Seeded:
    fake = FakeLinkedIn()
    member = fake.add_member("Bench")
    page = fake.add_organization("Bench Bakery", {member.id: "ADMINISTRATOR"})
    author = f"urn:li:organization:{page.id}"
    urns = [fake.add_post(author, IMPRESSION=n).urn for n in range(count)]
    credentials = credentials_from_token_response(fake.issue_tokens(member))
    ctx = account("linkedin", credentials, external_id=member.id)
    return Seeded(fake, ctx, [published(urn, pageId=page.id) for urn in urns])


def _threads(count: int) -> Seeded:
    fake = FakeThreads()
    user = fake.add_user("bench")
    ids = [fake.add_post(user, views=n).id for n in range(count)]
    credentials = long_lived_credentials(fake.issue_token(user), now=utcnow())
    ctx = account("threads", credentials, external_id=user.id)
    return Seeded(fake, ctx, [published(i) for i in ids])


def _meta_page(fake: FakeMeta) -> Page:
    return fake.add_page(fake.add_user("Bench"), "Bench Bakery", instagram="benchbakery")


def _instagram(count: int) -> Seeded:
    fake = FakeMeta()
    page = _meta_page(fake)
    assert page.ig is not None
    ids = [fake.add_media(page.ig, "IMAGE", likes=n).id for n in range(count)]
    ctx = account("instagram", {}, external_id=page.ig.id, access_token=page.token)
    return Seeded(fake, ctx, [published(i) for i in ids], requests_per_post=2)


def _facebook(count: int) -> Seeded:
    fake = FakeMeta()
    page = _meta_page(fake)
    ids = [fake.add_post(page, post_clicks=n).id for n in range(count)]
    info = AccountInfo(id=1, platform="facebook", external_id="1", username="Bench")
    store = Credentials({}, {("page", page.id): {"access_token": page.token}})
    return Seeded(fake, AccountContext(info, store), [published(i, pageId=page.id) for i in ids])


def _pinterest(count: int) -> Seeded:
    fake = FakePinterest()
    user = fake.add_user("bench")
    ids = [fake.add_pin(user, SAVE=n).id for n in range(count)]
    ctx = signed_in("pinterest", fake.issue_tokens(user))
    return Seeded(fake, ctx, [published(i) for i in ids])


SEEDERS: dict[str, Callable[[int], Seeded]] = {
    "twitter": _x,
    "youtube": _youtube,
    "tiktok": _tiktok,
    "linkedin": _linkedin,
    "threads": _threads,
    "instagram": _instagram,
    "facebook": _facebook,
    "pinterest": _pinterest,
}
"""The platforms measured, those with a many-ids call first (LinkedIn: a page's posts)."""
ONE_PER_REQUEST = frozenset({"threads", "instagram", "facebook", "pinterest"})


def _settings(platform: str, url: str) -> Settings:
    origins: dict[str, Any] = {f"{SPECS[platform].prefix}_api_url": url}
    if platform == "linkedin":
        origins["linkedin_version"] = max(ACTIVE_VERSIONS)
    return Settings(secret_key="bench-metrics-fakes", **origins)


async def measure(platform: str, count: int) -> dict[str, Any]:
    """`count` published posts of one account read through the platform's reader."""
    started = time.monotonic()
    seeded = SEEDERS[platform](count)
    reading = Reading(
        _settings(platform, seeded.fake.url),
        seeded.fake.transport(),
        seeded.ctx,
        seeded.posts,
        seeded.fake.invalid,
        seeded.requests_per_post,
        seed_seconds=time.monotonic() - started,
    )
    return await read_metrics(platform, reading, platform in ONE_PER_REQUEST)


async def run_metrics_fakes(plan: FakesPlan, workdir: Path) -> dict[str, Any]:
    """Every platform's row; Bluesky's PDS runs in `workdir`."""
    counts = {
        platform: min(plan.posts, SCALED.get(platform, plan.posts))
        for platform in (*SEEDERS, "bluesky")
    }
    rows = [await measure(platform, counts[platform]) for platform in SEEDERS]
    not_run: dict[str, str] = {}
    try:
        rows.append(await measure_bluesky(workdir, counts["bluesky"]))
    except BlueskyUnavailable as exc:
        not_run["bluesky"] = str(exc)
    return {
        "platforms": rows,
        "scaled": {p: n for p, n in counts.items() if n < plan.posts and p not in not_run},
        "ok": all(row["ok"] for row in rows),
        "not_run": not_run,
    }
