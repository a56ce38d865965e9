"""Where part 8's MCP calls spend their time, measured in one process without sockets.

The app of `masthead serve` (no dispatch worker) on a fresh SQLite file takes the same post
as part 8 through `POST /v2/posts` and both MCP eras, straight through ASGI, from 32
concurrent callers. What is counted is the CPU time of the event loop's thread per request
(`time.thread_time`): the resource that runs out under wrk. The database writer thread, the
client and the rest of a loaded machine are not in it, so the ratios are far steadier than
part 8's requests per second, but they leave out what HTTP parsing adds to both doors alike.
`--profile` adds the inclusive share of a call of the hottest functions of each door
(cProfile on thread time; its per-call cost inflates call-heavy code, so compare shares
within a door).

Run as `python -m bench.mcp_cpu [--calls N] [--rounds R] [--profile]`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import tempfile
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from bench.mcp import LEGACY_HEADERS, MODERN_HEADERS, bodies
from masthead.app import create_app
from masthead.config import Settings
from masthead.security import Secrets
from masthead.store import accounts, users
from masthead.store.database import Database
from masthead.store.migrate import upgrade
from masthead.timeutil import utcnow

CALLERS = 32
Message = MutableMapping[str, Any]


async def _seed(db: Database, secrets: Secrets) -> tuple[str, str]:
    """A user with a key and an X account: (key, account id)."""
    key = secrets.new_api_key()

    def work(conn: Any) -> int:
        now = utcnow()
        user = users.create_user(conn, secrets, email="bench@localhost", name="bench", now=now)
        users.add_api_key(
            conn, user_id=user.id, name="bench", prefix=key.prefix, digest=key.digest, now=now
        )
        return accounts.add_account(
            conn,
            user_id=user.id,
            platform="twitter",
            external_id="1",
            username="bench",
            fullname="Bench",
            now=now,
        )

    return key.key, str(await db.write(work))


def _scope(path: str, key: str, extra: dict[str, str]) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"blotato-api-key", key.encode()),
        *((name.lower().encode(), value.encode()) for name, value in extra.items()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


async def _call(app: Any, scope: dict[str, Any], body: bytes) -> list[Message]:
    sent: list[Message] = []
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # never disconnects
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({**scope, "headers": list(scope["headers"])}, receive, send)
    return sent


def _answered(sent: list[Message], door: str) -> None:
    status = sent[0]["status"]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    if status not in (200, 201) or (door != "rest" and b'"isError":false' not in body):
        raise SystemExit(f"{door}: {status} {body.decode()}")


async def _load(app: Any, scope: dict[str, Any], body: bytes, calls: int) -> None:
    async def caller() -> None:
        for _ in range(calls // CALLERS):
            await _call(app, scope, body)

    await asyncio.gather(*(caller() for _ in range(CALLERS)))


def _hottest(profile: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


async def measure(calls: int, rounds: int, profile: bool) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            secret_key="bench-secret-key-0123456789",
            api_rate_limits="off",
            log_level="WARNING",
        )
        await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
        app = create_app(settings, run_worker=False)
        async with app.router.lifespan_context(app):
            key, account = await _seed(app.state.ctx.db, app.state.ctx.secrets)
            rest, legacy, modern = bodies(account)
            doors = {
                "rest": (_scope("/v2/posts", key, {}), rest.encode()),
                "mcp_2025": (_scope("/mcp", key, LEGACY_HEADERS), legacy.encode()),
                "mcp_2026": (_scope("/mcp", key, MODERN_HEADERS), modern.encode()),
            }
            for door, (scope, body) in doors.items():
                _answered(await _call(app, scope, body), door)
                await _load(app, scope, body, CALLERS * 2)  # warm caches
            spent = dict.fromkeys(doors, 0.0)
            for _ in range(rounds):
                for door, (scope, body) in doors.items():
                    started = time.thread_time()
                    await _load(app, scope, body, calls)
                    spent[door] += time.thread_time() - started
            print(f"event-loop CPU per request, {rounds} alternating rounds of {calls} calls")
            for door, seconds in spent.items():
                micros = seconds / (rounds * calls) * 1e6
                print(f"  {door:9s} {micros:7.0f} us   rest/this {spent['rest'] / seconds:.3f}")
            if profile:
                for door, (scope, body) in doors.items():
                    prof = cProfile.Profile(time.thread_time)
                    prof.enable()
                    await _load(app, scope, body, calls)
                    prof.disable()
                    print(f"\n{door}, cProfile on thread time:\n{_hottest(prof, 45)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=960, help="calls per door and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(measure(args.calls, args.rounds, args.profile))


if __name__ == "__main__":
    main()
