"""Optional (`--profile`): where `masthead serve` spends its time under wrk, via py-spy.

py-spy is not a dependency (`pip install py-spy`); without it the step is skipped. The
summary is the self time of the hottest functions and the inclusive time of Masthead's own
functions, from py-spy's collapsed-stack output, so it reads in a terminal.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_LOCATION = re.compile(r" \(.*?(?:site-packages|src|lib/python3\.\d+)/")
IDLE_LEAVES = frozenset({"_worker (concurrent/futures/thread.py:81)"})
"""An executor thread waiting for work in `SimpleQueue.get` (a C call that py-spy does not
recognise as idle): dropped, or the SQLite writer thread would look busiest when idle."""


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """Start sampling `pid` for `seconds` (py-spy stops by itself); None without py-spy."""
    exe = py_spy()
    if exe is None:
        return None
    duration = str(max(1, math.ceil(seconds)))  # py-spy takes whole seconds
    cmd = [exe, "record", "-p", str(pid), "-d", duration, "-r", "200", "-f", "raw"]
    return subprocess.Popen(
        [*cmd, "--threads", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )


def summarize(raw: Path, top: int = 15) -> dict[str, Any]:
    """Self time per function, and inclusive time of masthead's functions, in % of samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        thread, *frames = stack.split(";")
        frames = [_LOCATION.sub(" (", frame) for frame in frames]
        if frames and frames[-1] in IDLE_LEAVES:
            continue
        total += samples
        threads[thread.split(":")[-1].strip()] += samples
        if frames:
            own[frames[-1]] += samples
        for frame in set(frames):
            if frame.split(" (")[-1].startswith("masthead/"):
                inclusive[frame] += samples

    def pct(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(top)]

    return {
        "samples": total,
        "threads": pct(threads),
        "self": pct(own),
        "masthead_inclusive": pct(inclusive),
    }
