"""X-Forwarded-For is believed only from the reverse proxies MASTHEAD_TRUSTED_PROXIES names:
the request log's `client` is the forwarded address behind a trusted proxy, and the connecting
address otherwise (anyone can send the header)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess


def _clients(server: ServerProcess) -> list[str | None]:
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line[:1] == "{"]
    return [line.get("client") for line in lines if line.get("message") == "GET /healthz 200"]


@pytest.mark.parametrize(
    ("trusted", "seen"),
    [("127.0.0.1", "203.0.113.7"), ("", "127.0.0.1"), ("10.0.0.0/8", "127.0.0.1")],
)
def test_forwarded_for_counts_only_from_a_trusted_proxy(
    tmp_path: Path, trusted: str, seen: str
) -> None:
    server = ServerProcess(
        tmp_path,
        {"MASTHEAD_LOG_FORMAT": "json", "MASTHEAD_TRUSTED_PROXIES": trusted},
    )
    server.start()
    try:
        response = httpx.get(
            f"{server.base_url}/healthz",
            headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
        )
        assert response.status_code == 200
    finally:
        server.terminate()
    assert _clients(server) == [seen]
