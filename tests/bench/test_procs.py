"""Reading a process's memory for the bench (bench/procs.py): one reader of /proc, one sampler
that keeps the peak of each process it watches."""

from __future__ import annotations

import os
import subprocess
import time

from bench.procs import RssSampler, rss_bytes, rss_mib

MIB = 1024**2


def test_the_sampler_keeps_a_peak_that_was_gone_by_the_end() -> None:
    me = os.getpid()
    with RssSampler({"me": me}, interval=0.005) as rss:
        before = rss.peak["me"]
        balloon = b"\x01" * (96 * MIB)  # written, so resident
        time.sleep(0.1)
        del balloon
    after = rss_bytes(me)

    assert after is not None
    assert rss.peak["me"] - before >= 80 * MIB
    assert rss.peak["me"] - after >= 64 * MIB
    assert rss.peak_mib() == {"me": round(rss.peak["me"] / MIB, 1)}


def test_a_process_that_is_gone_has_no_rss_and_leaves_its_peak_alone() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()

    assert rss_bytes(gone.pid) is None
    assert rss_mib(gone.pid) is None
    with RssSampler({"gone": gone.pid}, interval=0.005) as rss:
        time.sleep(0.02)
    assert rss.peak == {"gone": 0}
