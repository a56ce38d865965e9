"""Event-loop stalls: how long `/healthz` takes while the app does CPU-heavy work, beside the
same work done the old way, on the loop, in the same run; and whether a sign-in's timing
tells that an email exists. The ideal gap between two ping answers is PING_EVERY (20 ms) plus
the ping itself; a longer one is the loop being held.

    python -m bench.loop [--logins 30] [--bomb-mib 1100] [--cap-mib 256]

The app runs in this process (SQLite in a temporary folder) and is asked through httpx's ASGI
transport, so a ping waits exactly as long as the event loop is busy. A loopback server sends
the gzip bomb (`--bomb-mib` of zeros, about a thousandth of that on the wire). Nothing leaves
127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import tempfile
import threading
import time
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy.engine import Connection
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.procs import free_port
from bench.stats import summary_ms
from masthead.app import create_app
from masthead.config import Settings
from masthead.media.fetch import FetchError, FetchLimits, download
from masthead.net.client import safe_async_client
from masthead.security import DUMMY_PASSWORD_HASH, hash_password, password_matches
from masthead.services import web_auth
from masthead.store import users
from masthead.store.migrate import upgrade
from masthead.timeutil import utcnow

PING_EVERY = 0.02
MiB = 1024 * 1024


def _gzip_zeros(size: int) -> bytes:
    squeeze = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * MiB
    parts = [squeeze.compress(block) for _ in range(size // MiB)]
    return b"".join(parts) + squeeze.flush()


class BombServer:
    def __init__(self, body: bytes) -> None:
        self.port = free_port()

        async def bomb(_: Request) -> Response:
            headers = {"Content-Encoding": "gzip"}
            return Response(body, media_type="image/jpeg", headers=headers)

        app = Starlette(routes=[Route("/bomb", bomb)])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bomb"

    def __enter__(self) -> BombServer:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


async def _pings(client: httpx.AsyncClient, stop: asyncio.Event) -> list[tuple[float, float]]:
    """(when it was answered, how long it took) for a ping every PING_EVERY seconds. A ping
    cannot even start while the loop is busy, so the gaps between answers show a stall that
    the pings' own times do not."""
    answered: list[tuple[float, float]] = []
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get("/healthz")
        response.raise_for_status()
        answered.append((time.perf_counter(), time.perf_counter() - started))
        await asyncio.sleep(PING_EVERY)
    return answered


async def _during(client: httpx.AsyncClient, work: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    stop = asyncio.Event()
    pinger = asyncio.create_task(_pings(client, stop))
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    await work()
    seconds = time.perf_counter() - started
    stop.set()
    answered = await pinger
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(answered)]
    return {
        "work_s": round(seconds, 2),
        "pings": len(answered),
        "healthz": summary_ms([took for _, took in answered]),
        "gap_between_answers": summary_ms(gaps),
    }


async def run(logins: int, bomb_mib: int, cap_mib: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="masthead-bench-loop-") as tmp:
        settings = Settings(data_dir=Path(tmp), secret_key="bench", api_rate_limits="off")
        upgrade(settings.sqlalchemy_url)
        app = create_app(settings, run_worker=False)
        async with app.router.lifespan_context(app):
            ctx = app.state.ctx
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                return await _scenarios(ctx, client, Path(tmp), logins, bomb_mib, cap_mib)


async def _scenarios(
    ctx: Any, client: httpx.AsyncClient, tmp: Path, logins: int, bomb_mib: int, cap_mib: int
) -> dict[str, Any]:
    results: dict[str, Any] = {"idle": await _during(client, lambda: asyncio.sleep(2))}

    def attempt(n: int, email: str, password: str) -> web_auth.Attempt:
        return web_auth.Attempt(email, password, f"198.51.100.{n % 250}", None, None)

    async def sign_ins() -> None:
        tries = (attempt(n, f"nobody{n}@example.com", "guess") for n in range(logins))
        await asyncio.gather(
            *(web_auth.sign_in(ctx.db, ctx.secrets, a) for a in tries), return_exceptions=True
        )

    async def checks_on_the_loop() -> None:
        for _ in range(logins):
            password_matches(DUMMY_PASSWORD_HASH, "guess")
            await asyncio.sleep(0)

    results["logins_in_the_pool"] = await _during(client, sign_ins)
    results["logins_on_the_loop_baseline"] = await _during(client, checks_on_the_loop)

    with BombServer(_gzip_zeros(bomb_mib * MiB)) as bomb:
        limits = FetchLimits(max_bytes=cap_mib * MiB)
        allow = frozenset({("127.0.0.1", bomb.port)})
        guarded = safe_async_client(allow=allow, timeout=httpx.Timeout(30.0))
        plain = httpx.AsyncClient(timeout=30.0)

        async def fetch_bomb() -> None:
            try:
                await download(guarded, bomb.url, tmp / "ingest", limits, allow)
            except FetchError as exc:
                results["bomb_refusal"] = exc.message

        async def decode_on_the_loop() -> None:
            decoded = 0
            async with plain.stream("GET", bomb.url) as response:
                async for chunk in response.aiter_bytes():  # httpx decodes on the loop
                    decoded += len(chunk)
                    if decoded > limits.max_bytes:
                        break

        results["bomb_off_the_loop"] = await _during(client, fetch_bomb)
        results["bomb_on_the_loop_baseline"] = await _during(client, decode_on_the_loop)
        await guarded.aclose()
        await plain.aclose()

    results["sign_in_timing"] = await _timing(ctx)
    return results


async def _timing(ctx: Any, each: int = 6) -> dict[str, Any]:
    """Wrong password for real emails against unknown emails, one at a time."""
    hashed = hash_password("the right one")
    now = utcnow()

    def seed(conn: Connection) -> None:
        for n in range(each):
            users.create_user(
                conn,
                ctx.secrets,
                email=f"real{n}@example.com",
                name="R",
                now=now,
                password_hash=hashed,
            )

    await ctx.db.write(seed)

    async def timed(email: str, n: int) -> float:
        started = time.perf_counter()
        try:
            attempt = web_auth.Attempt(email, "guess", f"203.0.113.{n}", None, None)
            await web_auth.sign_in(ctx.db, ctx.secrets, attempt)
        except web_auth.SignInRefused:
            pass
        return time.perf_counter() - started

    real = [await timed(f"real{n}@example.com", n) for n in range(each)]
    unknown = [await timed(f"ghost{n}@example.com", 100 + n) for n in range(each)]
    return {"wrong_password": summary_ms(real), "unknown_email": summary_ms(unknown)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=30)
    parser.add_argument("--bomb-mib", type=int, default=1100)
    parser.add_argument("--cap-mib", type=int, default=256)
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.logins, args.bomb_mib, args.cap_mib))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
