"""A new user's first start: from a fresh `git clone` to the first 200 from /healthz.

Measures `make serve` (the server's dependencies only) against the path it replaced, in the
same run: `make setup` (the dev and test tools too) and then `masthead serve`. Both install
with a warm pip cache: a throwaway clone runs `make setup` first, untimed, so every wheel is
cached and neither number includes downloads. Each clone has its own data dir and port.

    python -m bench.first_start [--ref HEAD]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.procs import ROOT, BenchError, child, clean_env, free_port


def _clone(ref: str, into: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "--quiet", ref], check=True)
    return into


def _time_to_healthy(clone: Path, script: str, port: int, timeout: float = 1200.0) -> float:
    started = time.monotonic()
    with child("first start", ["sh", "-c", script], env=clean_env({}), log=clone / "start.log"):
        while time.monotonic() - started < timeout:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise BenchError(f"no healthy answer within {timeout:.0f} s; see {clone / 'start.log'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="the commit to clone (default HEAD)")
    ref = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", parser.parse_args().ref],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="masthead-first-start-") as tmp:
        warm = _clone(ref, Path(tmp) / "warm")
        subprocess.run(["make", "-C", str(warm), "setup"], check=True, capture_output=True)
        runs = {
            "make serve (server dependencies only)": "make serve SERVE_ARGS='--port {port}'",
            "baseline: make setup, then serve (dev tools too)": (
                "make setup && .venv/bin/masthead serve --port {port}"
            ),
        }
        for i, (name, script) in enumerate(runs.items()):
            clone = _clone(ref, Path(tmp) / f"run{i}")
            port = free_port()
            seconds = _time_to_healthy(clone, f"cd {clone} && {script.format(port=port)}", port)
            print(f"{name}: {seconds:.1f} s from clone to the first healthy /healthz")


if __name__ == "__main__":
    main()
