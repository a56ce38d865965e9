"""`masthead serve` as a real subprocess, for restart and crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.support.receiver import free_port


class ServerProcess:
    def __init__(
        self,
        data_dir: Path,
        env: dict[str, str],
        args: tuple[str, ...] = ("serve",),
        command: Sequence[str] = (sys.executable, "-m", "masthead"),
        cwd: Path | None = None,
    ) -> None:
        """`command` is how `masthead` is run: this checkout's by default, or an installed
        wheel's script (run from `cwd`, outside the checkout)."""
        self.args = args
        self.command = tuple(command)
        self.cwd = cwd
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {
            **os.environ,
            "MASTHEAD_DATA_DIR": str(data_dir),
            "MASTHEAD_LOG_FORMAT": "text",
            # A server subprocess cannot have its resolver replaced (tests/conftest.py `dns`):
            # keep user URLs to the allow list so that nothing reaches even DNS.
            "MASTHEAD_FETCH_ONLY_ALLOWED": "true",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.command, *self.args, *self._port_args()],
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if self.args[0] != "serve":
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not become ready:\n{self.log.read_text()}")

    def _port_args(self) -> list[str]:
        return ["--port", str(self.port)] if self.args[0] == "serve" else []

    def terminate(self, timeout: float = 20.0) -> int | None:
        """Graceful: SIGTERM, as a deploy would. Returns the exit status (None: not running)."""
        status = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
            status = self.process.wait(timeout=timeout)
        self.process = None
        return status

    def kill(self) -> None:
        """A crash: SIGKILL, nothing gets to clean up."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
