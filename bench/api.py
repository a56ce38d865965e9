"""Part 1: POST /v2/posts on `masthead serve` (embedded SQLite) against a bare ASGI app.

Both servers run alone on the same CPU with the same uvicorn settings, and wrk runs on another
CPU, so `masthead / bare` is the share of one core's request capacity that Masthead keeps after
its framework, validation, auth and durable group commit. Then Masthead is loaded at half its
measured peak by an open-loop client, since a saturated server's p99 mostly measures its own
queue and says little about the latency callers see in normal operation.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import openloop, profile
from bench.procs import (
    HOST,
    BenchError,
    Child,
    child,
    clean_env,
    free_port,
    python_module,
    wait_for_http,
    wait_for_port,
)
from bench.wrk import WrkResult, run_wrk
from masthead.timeutil import iso, utcnow

PATH = "/v2/posts"


@dataclass(frozen=True)
class ApiPlan:
    duration: float = 10.0
    warmup: float = 3.0
    connections: int = 64
    half_duration: float = 10.0
    profile_to: Path | None = None
    """Where to write a py-spy profile of masthead under an extra wrk run (None: no profile)."""


def _post_body(account_id: str, receiver_port: int) -> str:
    """A webhook post 30 days ahead: the request does all of its work (validation, account
    check, durable insert, dispatch wake-up) but the dispatcher stays idle during the load."""
    return json.dumps(
        {
            "post": {
                "accountId": account_id,
                "content": {"text": "bench", "mediaUrls": [], "platform": "other"},
                "target": {"targetType": "webhook", "url": f"http://{HOST}:{receiver_port}/hook"},
            },
            "scheduledTime": iso(utcnow() + timedelta(days=30)),
        },
        separators=(",", ":"),
    )


def _first_start_credentials(log: Path) -> tuple[str, str]:
    """The API key and webhook account id that `masthead serve` prints on its first start."""
    lines = log.read_text(errors="replace").splitlines()
    key = None
    for i, line in enumerate(lines):
        if "Your API key" in line:
            key = next((ln.strip() for ln in lines[i + 1 :] if ln.strip()), None)
            break
    account = re.search(r'"accountId":"(\d+)"', "\n".join(lines))
    if not key or not key.startswith("blt_") or account is None:
        raise BenchError(f"could not read the API key from masthead's first start:\n{lines}")
    return key, account.group(1)


def _profile(pid: int, plan: ApiPlan, load: Callable[[float], WrkResult]) -> dict[str, Any]:
    """py-spy on the server during one more wrk run (a separate run: sampling costs the
    server a little CPU, which must not leak into the headline numbers)."""
    assert plan.profile_to is not None
    seconds = plan.duration
    spy = profile.record(pid, seconds, plan.profile_to)
    if spy is None:
        return {"skipped": "py-spy not installed (`.venv/bin/pip install py-spy`)"}
    print(f"  masthead: py-spy profile under wrk for {seconds:g}s ...", flush=True)
    try:
        load(seconds)
        spy.wait(timeout=seconds + 30)
    finally:
        if spy.poll() is None:
            spy.kill()
            spy.wait()
    if not plan.profile_to.exists():
        return {"skipped": f"py-spy wrote no profile (exit {spy.returncode})"}
    return {"file": str(plan.profile_to), **profile.summarize(plan.profile_to)}


def _count_posts(db_file: Path) -> int:
    with closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM posts").fetchone()[0])


@dataclass
class _Masthead:
    """A running `masthead serve` with its first-start key, and what it has acknowledged."""

    child: Child
    port: int
    key: str
    body: str
    db_file: Path
    acknowledged: int = 0
    wrk_runs: int = 0
    """Each wrk run may leave up to `connections` committed rows that it never saw answered."""

    def durability(self, connections: int) -> dict[str, Any]:
        """After the server stopped: every acknowledged 201 must be a row."""
        rows = _count_posts(self.db_file)
        bound = self.wrk_runs * connections
        return {
            "acknowledged_201": self.acknowledged,
            "rows": rows,
            "missing": max(0, self.acknowledged - rows),
            "unacknowledged_rows": rows - self.acknowledged,
            "unacknowledged_bound": bound,
            "ok": self.acknowledged <= rows <= self.acknowledged + bound,
        }


@contextmanager
def _masthead(workdir: Path, name: str, receiver_port: int, cpu: int | None) -> Iterator[_Masthead]:
    """`masthead serve` on a fresh data dir, as a new user would start it; one probe POST
    checks that the key and body work before any load is put on it."""
    data_dir = workdir / name
    port = free_port()
    env = clean_env(
        {
            "MASTHEAD_DATA_DIR": str(data_dir),
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_LOG_LEVEL": "WARNING",
            "MASTHEAD_FETCH_ALLOW": f"{HOST}:{receiver_port}",
        }
    )
    log = workdir / f"{name}.log"
    with child(
        "masthead serve",
        python_module("masthead", "serve", "--port", str(port)),
        env=env,
        log=log,
        cpu=cpu,
    ) as proc:
        wait_for_http(proc, f"http://{HOST}:{port}/readyz")
        key, account_id = _first_start_credentials(log)
        server = _Masthead(
            proc, port, key, _post_body(account_id, receiver_port), data_dir / "masthead.db"
        )
        probe = httpx.post(
            f"http://{HOST}:{port}{PATH}",
            content=server.body,
            headers={"blotato-api-key": key, "Content-Type": "application/json"},
            timeout=10,
        )
        if probe.status_code != 201:
            raise BenchError(f"a single POST got {probe.status_code}: {probe.text}")
        server.acknowledged += 1
        yield server


def run_api(
    wrk: str, workdir: Path, plan: ApiPlan, server_cpu: int | None, client_cpu: int | None
) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    receiver_port = free_port()
    body_file = workdir / "body.json"

    def load(port: int, body: str, key: str, seconds: float) -> WrkResult:
        return run_wrk(
            wrk,
            port=port,
            path=PATH,
            body=body,
            api_key=key,
            duration=seconds,
            connections=plan.connections,
            cpu=client_cpu,
        )

    def wrk_on(server: _Masthead, seconds: float) -> WrkResult:
        result = load(server.port, server.body, server.key, seconds)
        server.acknowledged += result.created
        server.wrk_runs += 1
        return result

    def open_loop(server: _Masthead, rate: float, seconds: float) -> dict[str, Any]:
        body_file.write_text(server.body)
        result = openloop.measure(
            server.port,
            body_file=body_file,
            api_key=server.key,
            rate=rate,
            seconds=seconds,
            cpu=client_cpu,
        )
        server.acknowledged += result["statuses"].get("201", 0)
        return result

    with child(
        "webhook receiver",
        python_module(
            "bench.receiver", "--port", str(receiver_port), "--out", str(workdir / "rx-api.json")
        ),
        env=clean_env({}),
        log=workdir / "receiver-api.log",
    ) as receiver:
        wait_for_port(receiver, receiver_port)
        bare_port = free_port()

        def bare_server(log: str, *extra: str) -> AbstractContextManager[Child]:
            return child(
                "bare ASGI server",
                python_module("bench.bare", "--port", str(bare_port), *extra),
                env=clean_env({}),
                log=workdir / log,
                cpu=server_cpu,
            )

        # The baseline gets the same body; it reads it and ignores it.
        bare_body = _post_body("1", receiver_port)
        print(f"  bare ASGI: warm-up {plan.warmup:g}s, then {plan.duration:g}s ...", flush=True)
        with bare_server("bare.log") as bare:
            wait_for_port(bare, bare_port)
            load(bare_port, bare_body, "", plan.warmup)
            bare_result = load(bare_port, bare_body, "", plan.duration)

        print(
            f"  bare ASGI + durable insert (group commit): warm-up {plan.warmup:g}s, then"
            f" {plan.duration:g}s ...",
            flush=True,
        )
        durable_db = workdir / "bare-durable.db"
        with bare_server("bare-durable.log", "--durable", str(durable_db)) as bare:
            wait_for_port(bare, bare_port)
            load(bare_port, bare_body, "", plan.warmup)
            durable_result = load(bare_port, bare_body, "", plan.duration)

        print(f"  masthead: warm-up {plan.warmup:g}s, then {plan.duration:g}s ...", flush=True)
        with _masthead(workdir, "masthead-peak", receiver_port, server_cpu) as peak:
            wrk_on(peak, plan.warmup)
            main = wrk_on(peak, plan.duration)
            profile = None
            if plan.profile_to is not None:
                profile = _profile(peak.child.pid, plan, lambda s: wrk_on(peak, s))
            half_rate = main.rps / 2
            print(
                f"  masthead: open loop at {half_rate:.0f} req/s (half of peak) for"
                f" {plan.half_duration:g}s, on the same server ...",
                flush=True,
            )
            rows_before = _count_posts(peak.db_file)
            half_loaded = open_loop(peak, half_rate, plan.half_duration)
            half_loaded["rows_in_table"] = rows_before
        peak_durability = peak.durability(plan.connections)

        # The headline half-load figure comes from a fresh server: its p99 then does not
        # depend on how many rows the peak runs happened to leave behind.
        print("  masthead: the same on a fresh server and database ...", flush=True)
        with _masthead(workdir, "masthead-half", receiver_port, server_cpu) as fresh:
            open_loop(fresh, half_rate, 2.0)  # warm-up
            half_fresh = open_loop(fresh, half_rate, plan.half_duration)
        fresh_durability = fresh.durability(plan.connections)

        # The same client and rate against the bare app: what the Python client and the
        # loopback add on their own.
        print(f"  bare ASGI: open loop at {half_rate:.0f} req/s (client floor) ...", flush=True)
        with bare_server("bare-floor.log") as bare:
            wait_for_port(bare, bare_port)
            body_file.write_text(bare_body)
            floor = openloop.measure(
                bare_port,
                body_file=body_file,
                api_key=None,
                rate=half_rate,
                seconds=5.0,
                cpu=client_cpu,
            )

    return {
        "settings": {
            "connections": plan.connections,
            "duration_s": plan.duration,
            "warmup_s": plan.warmup,
            "wrk_threads": 1,
            "server_cpu": server_cpu,
            "client_cpu": client_cpu,
            "server": "uvicorn, 1 process, loop/http auto (uvloop/httptools)",
        },
        "bare": bare_result.as_dict(),
        "masthead": main.as_dict(),
        "ratio": round(main.rps / bare_result.rps, 4) if bare_result.rps else None,
        "bare_durable": durable_result.as_dict(),
        "ratio_durable": round(main.rps / durable_result.rps, 4) if durable_result.rps else None,
        "half_load": half_fresh,
        "half_load_after_peak": half_loaded,
        "half_load_client_floor": floor,
        "profile": profile,
        "durability": {
            "peak_server": peak_durability,
            "fresh_server": fresh_durability,
            "ok": peak_durability["ok"] and fresh_durability["ok"],
        },
    }
