"""Shared fixtures: settings in a temporary data dir, databases, the app, a webhook receiver."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from masthead.config import Settings
from masthead.net import client as guarded_client
from tests.support import postgres
from tests.support.files import FileServer
from tests.support.harness import Harness, running_app
from tests.support.receiver import Receiver


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "secret_key": "test-secret-key-0123456789",
        "log_format": "text",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The guarded client's resolver, replaced so that no test sends a DNS query: names a
    test puts in this table resolve to its addresses, every other name fails to resolve."""
    table: dict[str, list[str]] = {}

    async def resolve(host: str, port: int) -> list[guarded_client.IPAddress]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, f"test resolver has no {host}")
        return [ipaddress.ip_address(address) for address in table[host]]

    monkeypatch.setattr(guarded_client, "_resolve", resolve)
    return table


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    try:
        url = postgres.create_database()
    except OSError as exc:
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({exc})")
    yield url
    postgres.drop_database(url)


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    try:
        url = postgres.create_database()
    except OSError as exc:
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({exc})")
    yield url
    postgres.drop_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'masthead.db'}"
    url: str = request.getfixturevalue("fresh_pg_url")
    return url


@pytest.fixture
def files() -> Iterator[FileServer]:
    """A loopback file server for media URLs (add it to `fetch_allow`)."""
    server = FileServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    hook.start()
    yield hook
    hook.stop()


@pytest.fixture
def settings(tmp_path: Path, receiver: Receiver) -> Settings:
    return make_settings(tmp_path, fetch_allow=receiver.allow, api_rate_limits="off")


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[Harness]:
    async with running_app(settings) as running:
        yield running
