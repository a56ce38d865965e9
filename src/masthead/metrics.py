"""Prometheus metrics, defined once and shared by the API and the dispatch engine."""

from __future__ import annotations

from prometheus_client import Counter, Enum, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "masthead_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "masthead_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
POSTS_BY_STATE = Gauge("masthead_posts", "Posts in the database by state", ["state"])
DISPATCH_LAG = Histogram(
    "masthead_dispatch_lag_seconds",
    "From a post's due time to the moment a worker started it",
    ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
PUBLISH_OUTCOMES = Counter(
    "masthead_publish_outcomes_total",
    "Finished publish attempts by result",
    ["platform", "outcome"],
)
BUDGET_WAITS = Counter(
    "masthead_budget_waits_total",
    "Posts put back because a platform budget (domain/budgets.py) was spent",
    ["platform"],
)
WRITER_BATCH = Histogram(
    "masthead_group_commit_batch_size",
    "Writes committed together by the group-commit writer",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
DISPATCH_STATE = Enum(
    "masthead_dispatch_state",
    "This process's dispatch engine: running, backing off from a database outage, or stopped",
    states=["running", "backing-off", "stopped"],
)
DISPATCH_FAILURES = Gauge(
    "masthead_dispatch_consecutive_failures",
    "Database calls of the dispatch engine that failed in a row (0 while the database answers)",
)
DISPATCH_LAST_CLAIM = Gauge(
    "masthead_dispatch_last_claim_timestamp_seconds",
    "Unix time of the dispatch engine's last successful claim of due posts",
)
EVENT_DELIVERIES = Counter(
    "masthead_event_deliveries_total",
    "Event webhook delivery attempts by result (delivered, retry, failed)",
    ["result"],
)
