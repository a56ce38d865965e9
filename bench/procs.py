"""Child processes of the bench: pinned to a CPU, started in their own session, always reaped,
and what they use (CPU time, resident memory) read from /proc.

Each server gets its own process group so that stopping it (SIGTERM, then SIGKILL after a
grace period) reaches anything it spawned, and so that a Ctrl-C in the terminal reaches only
the bench, which then stops its children in order instead of leaving them half-killed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

HOST = "127.0.0.1"
"""The only address the bench talks to or listens on."""
ROOT = Path(__file__).resolve().parents[1]
"""The project root: children run `python -m bench.*` from here, wherever the bench was run."""


class BenchError(RuntimeError):
    """A step of the bench could not be carried out; the message says which and why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpus() -> tuple[int | None, int | None]:
    """(server CPU, load-generator CPU): two distinct CPUs so that the client does not steal
    cycles from the server under test; (None, None) when taskset or a second CPU is missing."""
    allowed = sorted(os.sched_getaffinity(0))
    if shutil.which("taskset") is None or len(allowed) < 2:
        return None, None
    return allowed[0], allowed[1]


def pinned(cmd: Sequence[str], cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu), *cmd] if cpu is not None else list(cmd)


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment without MASTHEAD_* (a developer's own settings, a PostgreSQL
    URL say, must not leak into a measurement of the defaults), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
    env.update(extra)
    return env


class Child:
    """One child process; `stop()` is idempotent and always leaves nothing running."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], log: Path | None) -> None:
        self.name = name
        self.process = process
        self.log = log
        self._stopped = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, grace: float = 15.0) -> int | None:
        """SIGTERM the child's process group, wait `grace`, then SIGKILL it. Only the first
        call signals anything: after that the group id may no longer be ours."""
        if self._stopped:
            return self.process.returncode
        self._stopped = True
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # The group may outlive its leader (a stray grandchild): make sure it does not.
        _signal_group(self.process.pid, signal.SIGKILL)
        return self.process.returncode


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@contextmanager
def child(
    name: str,
    cmd: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Path | None = None,
    cpu: int | None = None,
    stdin: int | None = None,
) -> Iterator[Child]:
    """Run `cmd` for the duration of the `with` block; stopped on any exit from it."""
    handle: IO[bytes] | None = log.open("wb") if log is not None else None
    try:
        process = subprocess.Popen(
            pinned(cmd, cpu),
            env=dict(env),
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=handle if handle is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
    finally:
        if handle is not None:
            handle.close()
    proc = Child(name, process, log)
    try:
        yield proc
    finally:
        proc.stop()


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def wait_for_port(proc: Child, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise BenchError(f"{proc.name} exited early:\n{proc.log_tail()}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"{proc.name} did not listen on {HOST}:{port} within {timeout:.0f}s")


def wait_for_http(proc: Child, url: str, timeout: float = 30.0) -> None:
    """Until `url` answers 200 (Masthead's /readyz: database and worker up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise BenchError(f"{proc.name} exited early:\n{proc.log_tail()}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise BenchError(f"{proc.name} was not ready at {url} within {timeout:.0f}s")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a running process, from /proc/<pid>/stat (OSError once it
    is gone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int | None:
    """The process's resident set, from /proc/<pid>/status (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def rss_mib(pid: int) -> float | None:
    rss = rss_bytes(pid)
    return None if rss is None else round(rss / 1024**2, 1)


class RssSampler:
    """The peak resident memory of some processes (by name), read from /proc when the `with`
    block starts and ends and every `interval` seconds in between, in a thread: a process that
    balloons and shrinks again within the block still shows."""

    def __init__(self, pids: Mapping[str, int], interval: float) -> None:
        self._pids = dict(pids)
        self._interval = interval
        self.peak: dict[str, int] = dict.fromkeys(self._pids, 0)
        """Bytes, per name."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def peak_mib(self) -> dict[str, float]:
        return {name: round(peak / 1024**2, 1) for name, peak in self.peak.items()}

    def _sample(self) -> None:
        for name, pid in self._pids.items():
            rss = rss_bytes(pid)
            if rss is not None:
                self.peak[name] = max(self.peak[name], rss)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
