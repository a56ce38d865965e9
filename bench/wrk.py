"""Finding (or installing) wrk, running it bounded in time, and reading its results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.procs import HOST, pinned

LUA = Path(__file__).with_name("post.lua")
INSTALL_HINT = (
    "install wrk first: `sudo apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`"
)


def ensure_wrk() -> str | None:
    """Path to wrk. As root on a Debian-like machine, installs it with apt-get (a fresh
    machine must be able to run `make bench`); otherwise prints how and returns None."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found; installing it with apt-get (running as root) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, timeout=300)
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=True, timeout=300
            )
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"apt-get could not install wrk ({exc}); {INSTALL_HINT}")
            return None
        return shutil.which("wrk")
    print(f"wrk not found: {INSTALL_HINT}")
    return None


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    created: int
    """Successful answers (201 for REST; see post.lua)."""
    other: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors: int
    """Socket errors and timeouts; wrk's status_errors (>= 400) are already in `other`."""

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def run_wrk(
    wrk: str,
    *,
    port: int,
    path: str,
    body: str,
    api_key: str,
    duration: float,
    connections: int,
    cpu: int | None,
    headers: dict[str, str] | None = None,
    ok_status: int = 201,
    ok_text: str = "",
) -> WrkResult:
    """One wrk run: a single thread (it has one CPU to itself), `--latency`, a timeout long
    enough that slow answers count as latency rather than errors, and a hard wall-clock
    bound on the subprocess in case wrk itself hangs."""
    cmd = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA),
        f"http://{HOST}:{port}{path}",
    ]
    env = {
        **os.environ,
        "BENCH_BODY": body,
        "BENCH_API_KEY": api_key,
        "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in (headers or {}).items()),
        "BENCH_OK_STATUS": str(ok_status),
        "BENCH_OK_TEXT": ok_text,
    }
    done = subprocess.run(
        pinned(cmd, cpu),
        env=env,
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=False,
    )
    line = next(
        (ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_RESULT ")),
        None,
    )
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    seconds = raw["duration_us"] / 1e6
    return WrkResult(
        requests=raw["requests"],
        duration_s=round(seconds, 3),
        rps=round(raw["requests"] / seconds, 1) if seconds else 0.0,
        created=raw["created"],
        other=raw["other"],
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        mean_ms=round(raw["mean_us"] / 1000, 3),
        errors=raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"],
    )
