"""Part 8: `blotato_create_post` over MCP (`POST /mcp`, tools/call) against `POST /v2/posts`.

One `masthead serve` (embedded SQLite), one account, the same post (X, 30 days ahead, so the
dispatcher stays idle) through each door, loaded by wrk with the same connections and
duration, in alternating rounds so that a machine shared with other work drifts all alike.
MCP is measured twice, as the SDK serves each protocol era: a 2025 handshake-era call (no
session: the SDK runs a fresh transport per request) and a self-contained 2026-07-28 call.
The ratio `mcp / rest` says what the protocol costs on top of the same service; the goal is
at least 0.8.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.api import _masthead
from bench.procs import HOST, BenchError, clean_env, free_port, python_module
from bench.wrk import WrkResult, run_wrk
from masthead.timeutil import iso, utcnow

GOAL_RATIO = 0.8
MCP_ACCEPT = "application/json, text/event-stream"
MCP_OK = '"isError":false'
MODERN = "2026-07-28"
TOOL = "blotato_create_post"
LEGACY_HEADERS = {"Accept": MCP_ACCEPT}
MODERN_HEADERS = {
    "Accept": MCP_ACCEPT,
    "MCP-Protocol-Version": MODERN,
    "Mcp-Method": "tools/call",
    "Mcp-Name": TOOL,
}
"""What a client adds to a tools/call POST in each era (besides its key and Content-Type)."""


@dataclass(frozen=True)
class McpPlan:
    duration: float = 10.0
    warmup: float = 3.0
    connections: int = 64
    rounds: int = 2


def _add_x_account(data_dir: Path) -> str:
    """An X account for the first-start user, as `masthead accounts add` makes one for tokens
    obtained elsewhere (nothing is asked of X)."""
    done = subprocess.run(
        python_module(
            "masthead",
            "accounts",
            "add",
            "--user",
            "admin@localhost",
            "--platform",
            "twitter",
            "--username",
            "bench",
            "--external-id",
            "1",
        ),
        env=clean_env({"MASTHEAD_DATA_DIR": str(data_dir)}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].strip().isdigit():
        raise BenchError(f"masthead accounts add failed:\n{done.stdout}\n{done.stderr}")
    return lines[-1].strip()


def bodies(account_id: str) -> tuple[str, str, str]:
    """The same post as a REST body, a handshake-era tools/call and a 2026-07-28 one (which
    carries its protocol version and capabilities in `_meta`)."""
    when = iso(utcnow() + timedelta(days=30))
    rest = {
        "post": {
            "accountId": account_id,
            "content": {"text": "bench", "mediaUrls": [], "platform": "twitter"},
            "target": {"targetType": "twitter"},
        },
        "scheduledTime": when,
    }
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": TOOL,
            "arguments": {
                "accountId": account_id,
                "platform": "twitter",
                "text": "bench",
                "scheduledTime": when,
            },
        },
    }
    envelope = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    modern = {**call, "params": {**call["params"], "_meta": envelope}}
    rest_json, call_json, modern_json = (
        json.dumps(b, separators=(",", ":")) for b in (rest, call, modern)
    )
    return rest_json, call_json, modern_json


def _sum(runs: list[WrkResult]) -> dict[str, Any]:
    requests = sum(r.requests for r in runs)
    seconds = sum(r.duration_s for r in runs)
    return {
        "requests": requests,
        "ok": sum(r.created for r in runs),
        "other": sum(r.other for r in runs),
        "errors": sum(r.errors for r in runs),
        "duration_s": round(seconds, 3),
        "rps": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": max(r.p50_ms for r in runs),
        "p99_ms": max(r.p99_ms for r in runs),
    }


def run_mcp(
    wrk: str, workdir: Path, plan: McpPlan, server_cpu: int | None, client_cpu: int | None
) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    with _masthead(workdir, "masthead-mcp", free_port(), server_cpu) as server:
        account = _add_x_account(workdir / "masthead-mcp")
        rest_body, legacy_body, modern_body = bodies(account)
        calls = {
            "mcp_2025": (legacy_body, LEGACY_HEADERS),
            "mcp_2026": (modern_body, MODERN_HEADERS),
        }
        for body, extra in calls.values():
            probe = httpx.post(
                f"http://{HOST}:{server.port}/mcp",
                content=body,
                headers={
                    "blotato-api-key": server.key,
                    "Content-Type": "application/json",
                    **extra,
                },
                timeout=10,
            )
            if probe.status_code != 200 or MCP_OK not in probe.text:
                raise BenchError(f"a single tools/call got {probe.status_code}: {probe.text}")

        def rest(seconds: float) -> WrkResult:
            return run_wrk(
                wrk,
                port=server.port,
                path="/v2/posts",
                body=rest_body,
                api_key=server.key,
                duration=seconds,
                connections=plan.connections,
                cpu=client_cpu,
            )

        def mcp(era: str, seconds: float) -> WrkResult:
            body, extra = calls[era]
            return run_wrk(
                wrk,
                port=server.port,
                path="/mcp",
                body=body,
                api_key=server.key,
                duration=seconds,
                connections=plan.connections,
                cpu=client_cpu,
                headers=extra,
                ok_status=200,
                ok_text=MCP_OK,
            )

        print(f"  warm-up {plan.warmup:g}s each ...", flush=True)
        rest(plan.warmup)
        for era in calls:
            mcp(era, plan.warmup)
        runs: dict[str, list[WrkResult]] = {"rest": [], **{era: [] for era in calls}}
        for i in range(plan.rounds):
            print(
                f"  round {i + 1}/{plan.rounds}: REST, then each MCP era, {plan.duration:g}s each"
            )
            runs["rest"].append(rest(plan.duration))
            for era in calls:
                runs[era].append(mcp(era, plan.duration))
    totals = {door: _sum(results) for door, results in runs.items()}
    rest_rps = totals["rest"]["rps"]
    ratios = {era: round(totals[era]["rps"] / rest_rps, 3) if rest_rps else None for era in calls}
    return {
        "settings": {
            "connections": plan.connections,
            "duration_s": plan.duration,
            "rounds": plan.rounds,
            "server_cpu": server_cpu,
            "client_cpu": client_cpu,
        },
        "doors": totals,
        "ratios": ratios,
        "goal": GOAL_RATIO,
        "ok": all(r is not None and r >= GOAL_RATIO for r in ratios.values())
        and all(t["other"] == 0 for t in totals.values()),
    }
