"""The soak's per-window accounting (bench/soak.py): the server's CPU, the machine's steal and
iowait over each latency window, from cumulative samples taken every few seconds."""

from __future__ import annotations

from bench.soak import Clocks, with_samples


def test_each_window_gets_the_share_of_one_cpu_spent_over_it() -> None:
    clocks = [
        Clocks(0.0, server_cpu=0.0, steal=0.0, iowait=0.0),
        Clocks(4.0, server_cpu=2.0, steal=0.0, iowait=0.4),
        Clocks(10.0, server_cpu=5.0, steal=0.0, iowait=0.4),
        Clocks(20.0, server_cpu=6.0, steal=3.0, iowait=0.4),
    ]
    windows = [{"from_s": 0.0, "p99_ms": 10.0}, {"from_s": 10.0, "p99_ms": 300.0}]

    rows = with_samples(windows, [(0.0, 1.0), (12.0, 2.5)], clocks, 10.0)

    assert rows[0] == {
        "from_s": 0.0,
        "p99_ms": 10.0,
        "wal_max_mib": 1.0,
        "server_cpu_pct": 50.0,
        "steal_pct": 0.0,
        "iowait_pct": 4.0,
    }
    assert rows[1]["server_cpu_pct"] == 10.0
    assert rows[1]["steal_pct"] == 30.0
    assert rows[1]["wal_max_mib"] == 2.5


def test_a_window_without_two_samples_has_no_shares() -> None:
    rows = with_samples(
        [{"from_s": 30.0}], [], [Clocks(0.0, server_cpu=0.0, steal=0.0, iowait=0.0)], 10.0
    )
    assert rows[0]["server_cpu_pct"] is None and rows[0]["wal_max_mib"] is None
