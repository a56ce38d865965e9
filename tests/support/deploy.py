"""Smoke checks shared by the tests of each way Masthead ships (wheel, image, compose): make a
user, a key and a webhook account with the `masthead` CLI as an operator would, then publish
through the HTTP API to a receiver on loopback."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from typer.testing import CliRunner

from masthead.cli import app
from tests.support.harness import Caller, webhook_post
from tests.support.receiver import Receiver

REPO = Path(__file__).resolve().parents[2]

Masthead = Callable[..., str]
"""Runs `masthead ARGS...` wherever the deployment lives; returns its stdout."""


def command(prefix: Sequence[str], env: dict[str, str] | None = None) -> Masthead:
    """A `Masthead` that runs `prefix + ARGS` (a venv's script, `podman exec ... masthead`)."""

    def run(*args: str) -> str:
        done = subprocess.run(
            [*prefix, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, f"masthead {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout

    return run


def in_process(env: dict[str, str]) -> Masthead:
    """A `Masthead` that runs this checkout's CLI in the test process (no interpreter start)."""

    def run(*args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=env)
        assert result.exit_code == 0, f"masthead {' '.join(args)}:\n{result.output}"
        return result.stdout

    return run


@dataclass(frozen=True, slots=True)
class Operator:
    """What an operator made on the CLI: a user with a key, and the accountId to post with."""

    caller: Caller
    account_id: str

    @property
    def headers(self) -> dict[str, str]:
        return self.caller.headers


def seed(masthead: Masthead, email: str = "ops@example.com") -> Operator:
    user_id = masthead("users", "create", "--email", email, "--no-password").strip()
    key = masthead("keys", "create", "--user", email, "--name", "smoke").split()[-1]
    account_id = masthead("accounts", "add", "--user", email, "--platform", "webhook").strip()
    assert key.startswith("blt_") and account_id.isdigit(), (key, account_id)
    return Operator(Caller(user_id, email, key), account_id)


def wait_healthy(base_url: str, timeout: float = 120.0, path: str = "/readyz") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base_url}{path}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{base_url}{path} did not answer 200 within {timeout} s")
        time.sleep(0.2)


def publish(
    base_url: str, operator: Operator, receiver: Receiver, text: str, timeout: float = 60.0
) -> str:
    """POST a webhook post, wait until it is published and the receiver has it; its id."""
    before = len(receiver.deliveries)
    created = httpx.post(
        f"{base_url}/v2/posts",
        json=webhook_post(operator.account_id, receiver.url, text),
        headers=operator.headers,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    post_id: str = created.json()["postSubmissionId"]
    deadline = time.monotonic() + timeout
    while True:
        status = httpx.get(f"{base_url}/v2/posts/{post_id}", headers=operator.headers, timeout=10)
        assert status.status_code == 200, status.text
        if status.json()["status"] == "published" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status.json()["status"] == "published", status.text
    assert any(text.encode() in d.body for d in receiver.deliveries[before:])
    return post_id
