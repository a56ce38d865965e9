"""The open-loop load generator's pure parts: reading a mix and spreading its kinds."""

from __future__ import annotations

from collections import Counter

import pytest
from bench.openloop import (
    SCHEDULED_MARK,
    Template,
    _Requests,
    parse_mix,
    weighted_schedule,
    windows,
)


def test_schedule_keeps_the_shares_in_every_stretch() -> None:
    order = weighted_schedule([40, 15, 30, 10, 5], 1000)
    assert Counter(order) == {0: 400, 1: 150, 2: 300, 3: 100, 4: 50}
    # Any 20 consecutive requests hold each kind within one of its share: no bursts of one
    # kind that would make a short run or its first seconds unrepresentative.
    for start in range(0, 980, 20):
        window = Counter(order[start : start + 20])
        assert abs(window[0] - 8) <= 1 and abs(window[2] - 6) <= 1


def test_schedule_is_deterministic_and_handles_one_kind() -> None:
    assert weighted_schedule([1.0], 3) == [0, 0, 0]
    assert weighted_schedule([3, 1], 8) == weighted_schedule([3, 1], 8)


def test_parse_mix_reads_templates() -> None:
    templates = parse_mix(
        {
            "requests": [
                {"kind": "create", "weight": 2, "path": "/v2/posts", "body": {"a": 1}},
                {"kind": "read", "method": "get", "paths": ["/v2/posts/1", "/v2/posts/2"]},
                {
                    "kind": "soon",
                    "path": "/v2/posts",
                    "body": {"scheduledTime": SCHEDULED_MARK.decode()},
                    "scheduledIn": 2,
                },
            ]
        }
    )
    assert templates[0] == Template("create", 2.0, "POST", ("/v2/posts",), b'{"a":1}')
    assert templates[1].method == "GET" and templates[1].body == b""
    assert templates[1].weight == 1.0 and len(templates[1].paths) == 2
    assert templates[2].scheduled_in == 2.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "requests"),
        ({"requests": []}, "at least one"),
        ({"requests": [{"kind": "x"}]}, "path"),
        ({"requests": [{"path": "/a", "weight": 0}]}, "weight"),
        ({"requests": [{"path": "/a", "scheduledIn": 1, "body": {}}]}, "scheduledIn"),
        ({"requests": [{"kind": "a", "path": "/a"}, {"kind": "a", "path": "/b"}]}, "distinct"),
    ],
)
def test_parse_mix_refuses_what_a_run_would_trip_over(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_mix(spec)


def test_requests_take_paths_in_turn_and_fill_the_scheduled_time() -> None:
    templates = [
        Template("read", 1.0, "GET", ("/a", "/b"), b""),
        Template("soon", 1.0, "POST", ("/p",), b'{"t":"' + SCHEDULED_MARK + b'"}', 2.0),
    ]
    requests = _Requests(templates, ["X-Key: k"])
    first, second, third = (requests.next(0, 0.0) for _ in range(3))
    assert first.startswith(b"GET /a HTTP/1.1\r\n") and b"Content-Length" not in first
    assert second.startswith(b"GET /b ") and third.startswith(b"GET /a ")
    post = requests.next(1, 1_700_000_000.0)
    assert post.endswith(b'\r\n\r\n{"t":"2023-11-14T22:13:22.000Z"}')
    assert b"Content-Length: 32\r\n" in post and b"X-Key: k\r\n" in post


def test_windows_split_latency_by_due_time() -> None:
    offsets = [0.5, 3.0, 9.9, 10.0, 25.0]
    latencies = [0.001, 0.002, 0.003, 0.100, 0.004]
    rows = windows(offsets, latencies, 10.0)
    assert [(w["from_s"], w["requests"]) for w in rows] == [(0.0, 3), (10.0, 1), (20.0, 1)]
    assert rows[0]["max_ms"] == 3.0 and rows[1]["p99_ms"] == 100.0
