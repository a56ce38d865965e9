"""How the scale and soak parts of the bench judge their goals (pure functions)."""

from __future__ import annotations

import json
from typing import Any

from bench.openloop import parse_mix
from bench.scale import compare
from bench.soak import MIX_WEIGHTS, mix_requests, rss_growth


def _phase(post_p99: float, lag_p99: float, rss: float) -> dict[str, Any]:
    def latency(p99: float) -> dict[str, float]:
        return {"p50_ms": 2.0, "p90_ms": p99 / 2, "p99_ms": p99, "max_ms": p99}

    clean = {"other": 0, "errors": 0}
    return {
        "post": {**clean, "latency": latency(post_p99)},
        "get": {**clean, "latency": latency(4.0)},
        "lag": {
            "lag": latency(lag_p99),
            "posts": 10,
            "deliveries": 10,
            "duplicate_deliveries": 0,
            "non_201": 0,
        },
        "rss_peak_mib": {"worker": rss, "api": 900.0},
    }


def test_scale_goals_compare_each_figure_with_its_empty_baseline() -> None:
    verdict = compare(_phase(10.0, 20.0, 100.0), _phase(15.0, 40.0, 120.0), "worker")
    assert verdict["ratios"]["post_p99"] == 1.5 and verdict["ratios"]["lag_p99"] == 2.0
    assert not verdict["ratios_ok"]  # the lag doubled
    assert verdict["lag_ok"] and verdict["lag_p99_ms"] == 40.0
    # Only the named process counts (the API's RSS is reported, not judged).
    assert verdict["rss_ok"] and verdict["rss_peak_mib"] == 120.0
    assert verdict["all_answered_and_delivered"]


def test_scale_goals_fail_on_a_lost_delivery_or_a_slow_lag() -> None:
    loaded = _phase(10.0, 150.0, 100.0)
    loaded["lag"]["deliveries"] = 9
    verdict = compare(_phase(10.0, 120.0, 100.0), loaded, "worker")
    assert not verdict["lag_ok"] and not verdict["all_answered_and_delivered"]


def test_rss_growth_is_measured_from_the_end_of_the_warm_up() -> None:
    samples = [(0.0, 80.0), (30.0, 100.0), (60.0, 104.0), (90.0, 120.0), (600.0, 110.0)]
    growth = rss_growth(samples, 60.0)
    assert growth["warmup_mib"] == 104.0 and growth["end_mib"] == 110.0
    assert growth["max_mib"] == 120.0 and growth["growth"] == round(6 / 104, 4)
    assert rss_growth([], 60.0)["growth"] is None


def test_the_soak_mix_is_a_valid_mix_with_its_weights() -> None:
    body = json.dumps(
        {
            "post": {"accountId": "1", "target": {"targetType": "webhook"}},
            "scheduledTime": "2030-01-01T00:00:00.000Z",
        }
    )
    templates = parse_mix({"requests": mix_requests(body, ["a", "b"])})
    kinds = {t.kind: t for t in templates}
    assert {k: t.weight for k, t in kinds.items()} == MIX_WEIGHTS
    assert b"scheduledTime" not in kinds["post-now"].body  # due at once: the dispatcher works
    assert kinds["patch"].paths == ("/v2/schedules/a", "/v2/schedules/b")
    assert kinds["get-post"].method == "GET" and b'"patch"' in kinds["patch"].body
