"""Part 2's HTTP baseline: a plain aiohttp client sending N webhook-shaped POSTs to the
receiver, as many at once as the engine's send limit allows, with no database, lease or
outcome around them. Masthead's webhook burst against this, in the same run, separates the
engine's own cost from the HTTP client's.

Run as `python -m bench.http_floor --url URL --requests N --concurrency C`; prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import uvloop

from bench.procs import (
    HOST,
    ROOT,
    BenchError,
    child,
    clean_env,
    free_port,
    pinned,
    python_module,
    wait_for_port,
)


async def send_all(url: str, requests: int, concurrency: int) -> dict[str, float | int]:
    """Every request through one pooled session; returns wall and CPU seconds, and non-2xx."""
    ids = [str(uuid.uuid4()) for _ in range(requests)]
    failed = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        gate = asyncio.Semaphore(concurrency)

        async def one(post_id: str) -> None:
            nonlocal failed
            body = orjson.dumps({"postSubmissionId": post_id, "text": "bench", "mediaUrls": []})
            headers = {"Content-Type": "application/json", "X-Masthead-Delivery": post_id}
            async with gate, session.post(url, data=body, headers=headers) as response:
                await response.read()
                failed += not 200 <= response.status < 300

        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(post_id) for post_id in ids))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "requests": requests,
        "seconds": round(wall, 3),
        "per_second": round(requests / wall, 1),
        "cpu_ms_per_request": round(1000 * cpu / requests, 4),
        "non_2xx": failed,
    }


def measure_floor(
    workdir: Path, requests: int, concurrency: int, client_cpu: int | None, rx_cpu: int | None
) -> dict[str, Any]:
    """Run the client (on `client_cpu`, where the worker ran) against a fresh receiver (on
    `rx_cpu`, where the burst's receiver ran); its own receiver keeps the burst's records
    free of these requests."""
    port = free_port()
    with child(
        "floor receiver",
        python_module(
            "bench.receiver", "--port", str(port), "--out", str(workdir / "rx-floor.json")
        ),
        env=clean_env({}),
        log=workdir / "receiver-floor.log",
        cpu=rx_cpu,
    ) as receiver:
        wait_for_port(receiver, port)
        cmd = python_module(
            "bench.http_floor",
            "--url",
            f"http://{HOST}:{port}/hook",
            "--requests",
            str(requests),
            "--concurrency",
            str(concurrency),
        )
        done = subprocess.run(
            pinned(cmd, client_cpu),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=ROOT,
        )
    if done.returncode != 0:
        raise BenchError(f"aiohttp floor client failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=256)
    args = parser.parse_args()
    print(json.dumps(uvloop.run(send_all(args.url, args.requests, args.concurrency))))


if __name__ == "__main__":
    main()
