"""The open-loop load generator: reading a mix, spreading its kinds, windows, and a short run."""

from __future__ import annotations

import asyncio
import gc
from collections import Counter

import pytest
from bench.openloop import (
    SCHEDULED_MARK,
    Template,
    _Requests,
    parse_mix,
    pause_summary,
    run,
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


def test_windows_carry_the_clients_own_pauses() -> None:
    rows = windows([1.0, 12.0], [0.001, 0.002], 10.0, [(2.0, 0.030), (4.5, 0.012), (19.0, 0.2)])
    assert [w["client_gc_ms"] for w in rows] == [42.0, 200.0]
    assert pause_summary([(2.0, 0.030), (19.0, 0.2)]) == {
        "count": 2,
        "total_ms": 230.0,
        "max_ms": 200.0,
    }


async def test_a_run_keeps_only_requests_in_flight_and_reports_its_own_pauses() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tasks_before = len(asyncio.all_tasks())
    with_finished: list[int] = []

    def count_tasks() -> None:
        with_finished.append(sum(isinstance(o, asyncio.Task) for o in gc.get_objects()))

    loop = asyncio.get_running_loop()
    loop.call_later(0.9, count_tasks)
    try:
        report = await run(
            port=port,
            templates=[Template("read", 1.0, "GET", ("/",), b"")],
            headers=[],
            rate=400.0,
            duration=1.0,
            connections=4,
            timeout=5.0,
        )
    finally:
        server.close()
    assert report["completed"] == 400 and report["statuses"] == {"200": 400}
    # About 360 requests were answered by 0.9 s; only those in flight are still objects.
    assert with_finished and with_finished[0] < tasks_before + 50
    assert set(report["client_gc"]) == {"count", "total_ms", "max_ms"}
    assert all("client_gc_ms" in w for w in report["windows"])
