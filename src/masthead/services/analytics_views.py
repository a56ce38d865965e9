"""What the /analytics page shows: top posts of a period, one post's history as a line, and
totals per platform per day as bars (domain/charts.py draws them), for one metric."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from masthead.domain.analytics import DEFAULT_SORT, SORT_KEYS, sort_value
from masthead.domain.charts import BarChart, LineChart, grouped_bars, line_chart
from masthead.platforms.registry import SOCIAL, SPECS
from masthead.store import accounts
from masthead.store import analytics as store
from masthead.store.database import Database
from masthead.timeutil import utcnow

PERIODS = (7, 30, 90)
TOP = 10


@dataclass(frozen=True, slots=True)
class TopPost:
    id: str
    platform: str
    label: str
    text: str
    url: str | None
    published: str
    value: int
    readings: int


@dataclass(frozen=True, slots=True)
class AccountChoice:
    id: int
    label: str


@dataclass(frozen=True, slots=True)
class AnalyticsPage:
    days: int
    metric: str
    top: list[TopPost]
    selected: TopPost | None
    history: LineChart | None
    daily: BarChart
    platforms: list[str]
    """The platforms in the daily chart, in series order."""
    accounts: list[AccountChoice]
    posts_count: int
    measured_count: int


def metric_name(metric: str) -> str:
    return metric.removesuffix("_count").replace("_", " ")


async def page(
    db: Database,
    user_id: str,
    zone: ZoneInfo,
    *,
    days: int,
    metric: str,
    platforms: Sequence[str],
    account_id: int | None,
    post_id: str | None,
) -> AnalyticsPage:
    days = days if days in PERIODS else PERIODS[1]
    metric = metric if metric in SORT_KEYS else DEFAULT_SORT
    chosen = [p for p in platforms if p in SOCIAL]
    until = utcnow()
    since = until - timedelta(days=days)

    def load(
        conn: Connection,
    ) -> tuple[
        list[store.PublishedRow], dict[str, list[store.Snapshot]], list[accounts.AccountRow]
    ]:
        rows = store.published_posts(
            conn, user_id, since=since, until=until, platforms=chosen, account_id=account_id
        )
        return (
            rows,
            store.history(conn, [r.id for r in rows]),
            accounts.list_accounts(conn, user_id),
        )

    rows, history, owned = await db.read(load)
    measured = [r for r in rows if r.id in history]
    ranked = sorted(
        measured,
        key=lambda r: (-sort_value(history[r.id][-1].metrics, metric), -r.published_at.timestamp()),
    )

    def card(row: store.PublishedRow) -> TopPost:
        text = str(row.draft.get("content", {}).get("text", ""))
        return TopPost(
            row.id,
            row.platform,
            SPECS[row.platform].label if row.platform in SPECS else row.platform,
            text if len(text) <= 120 else text[:119] + "…",
            row.public_url,
            row.published_at.astimezone(zone).strftime("%d %b %Y %H:%M"),
            sort_value(history[row.id][-1].metrics, metric),
            len(history[row.id]),
        )

    top = [card(r) for r in ranked[:TOP]]
    selected_row = next((r for r in measured if r.id == post_id), ranked[0] if ranked else None)
    chart = None
    if selected_row is not None:
        chart = line_chart(
            [
                (s.fetched_at.astimezone(zone).strftime("%d %b"), sort_value(s.metrics, metric))
                for s in history[selected_row.id]
            ]
        )
    day_labels = [
        (until - timedelta(days=offset)).astimezone(zone).strftime("%m-%d")
        for offset in range(min(days, 14) - 1, -1, -1)
    ]
    series = sorted({r.platform for r in measured})
    sums: dict[tuple[str, str], int] = {}
    for row in measured:
        key = (row.published_at.astimezone(zone).strftime("%m-%d"), row.platform)
        sums[key] = sums.get(key, 0) + sort_value(history[row.id][-1].metrics, metric)
    return AnalyticsPage(
        days=days,
        metric=metric,
        top=top,
        selected=card(selected_row) if selected_row else None,
        history=chart,
        daily=grouped_bars(day_labels, series, sums),
        platforms=series,
        accounts=[
            AccountChoice(
                a.id,
                f"{SPECS[a.platform].label if a.platform in SPECS else a.platform} · {a.username}",
            )
            for a in owned
            if a.platform in SOCIAL
        ],
        posts_count=len(rows),
        measured_count=len(measured),
    )
