"""POST /v2/media refuses every URL that could reach this machine or its network, and a
loopback listener proves that no refused URL opened a connection to it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from tests.media.conftest import post_media
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness


class Listener:
    """Counts TCP connections on 127.0.0.1 and on ::1 (when the machine has IPv6)."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._servers: list[asyncio.Server] = []

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    async def start(self) -> None:
        server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._servers.append(server)
        with contextlib.suppress(OSError):  # no IPv6 on this machine
            self._servers.append(await asyncio.start_server(self._accept, "::1", self.port))

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
            await server.wait_closed()


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    target = Listener()
    await target.start()
    yield target
    await target.stop()


VECTORS = [
    ("http://127.0.0.1:{port}/a.jpg", "loopback"),
    ("http://localhost:{port}/a.jpg", "loopback name"),
    ("http://LOCALHOST:{port}/a.jpg", "loopback name"),
    ("http://localhost.:{port}/a.jpg", "loopback name"),
    ("http://sub.localhost:{port}/a.jpg", "loopback name"),
    ("http://127.1:{port}/a.jpg", "IPv4"),
    ("http://0x7f000001:{port}/a.jpg", "IPv4"),
    ("http://2130706433:{port}/a.jpg", "IPv4"),
    ("http://017700000001:{port}/a.jpg", "IPv4"),
    ("http://0177.0.0.1:{port}/a.jpg", "IPv4"),
    ("http://0x7f.0.0.1:{port}/a.jpg", "IPv4"),
    ("http://0:{port}/a.jpg", "IPv4"),
    ("http://0.0.0.0:{port}/a.jpg", "unspecified"),
    ("http://[::1]:{port}/a.jpg", "loopback"),
    ("http://[::]:{port}/a.jpg", "unspecified"),
    ("http://[::ffff:127.0.0.1]:{port}/a.jpg", "127.0.0.1"),
    ("http://[::ffff:7f00:1]:{port}/a.jpg", "127.0.0.1"),
    ("http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/a.jpg", "127.0.0.1"),
    ("http://[::127.0.0.1]:{port}/a.jpg", "127.0.0.1"),
    ("http://[64:ff9b::127.0.0.1]:{port}/a.jpg", "127.0.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://[fe80::1]/a.jpg", "link-local"),
    ("http://10.0.0.1/a.jpg", "private"),
    ("http://172.16.5.4/a.jpg", "private"),
    ("http://192.168.1.1/a.jpg", "private"),
    ("http://100.64.0.1/a.jpg", "carrier-grade NAT"),
    ("http://[fc00::1]/a.jpg", "unique-local"),
    ("http://224.0.0.1/a.jpg", "multicast"),
    ("http://240.0.0.1/a.jpg", "reserved"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://127.0.0.1:{port}/_GET%20/", "scheme"),
    ("ftp://127.0.0.1:{port}/a.jpg", "scheme"),
    ("dict://127.0.0.1:{port}/info", "scheme"),
    ("javascript:alert(1)", ""),
    ("http://user:pass@127.0.0.1:{port}/a.jpg", "credentials"),
    ("http://private.test:{port}/a.jpg", "private"),  # DNS answers a private address
    ("http://loopback.test:{port}/a.jpg", "loopback"),  # DNS answers 127.0.0.1
    ("http://mixed.test:{port}/a.jpg", "private"),  # one public, one private answer
]


@pytest.mark.parametrize(("template", "reason"), VECTORS)
async def test_refused_url_never_connects(
    app: Harness,
    ada: Caller,
    listener: Listener,
    dns: dict[str, list[str]],
    template: str,
    reason: str,
) -> None:
    dns.update(
        {
            "private.test": ["10.1.2.3"],
            "loopback.test": ["127.0.0.1"],
            "mixed.test": ["93.184.216.34", "192.168.0.10"],
        }
    )

    response = await post_media(app, ada, template.format(port=listener.port))
    await asyncio.sleep(0.05)

    assert response.status_code == 422, response.text
    message = response.json()["message"]
    assert message.startswith(("Media URL refused", "Media URL is not valid")), message
    assert reason.lower() in message.lower()
    assert listener.connections == 0


async def test_redirect_from_an_allowed_host_to_loopback_is_refused(
    app: Harness, ada: Caller, listener: Listener, files: FileServer
) -> None:
    hop = files.url(f"/redirect?to=http://127.0.0.1:{listener.port}/secret")

    response = await post_media(app, ada, hop)
    await asyncio.sleep(0.05)

    assert response.status_code == 422
    assert "loopback" in response.json()["message"]
    assert files.requests == ["/redirect"]
    assert listener.connections == 0


async def test_redirect_to_a_name_that_resolves_privately_is_refused(
    app: Harness, ada: Caller, listener: Listener, files: FileServer, dns: dict[str, list[str]]
) -> None:
    dns["rebind.test"] = ["127.0.0.1"]
    hop = files.url(f"/redirect?to=http://rebind.test:{listener.port}/secret")

    response = await post_media(app, ada, hop)

    assert response.status_code == 422
    assert listener.connections == 0


async def test_redirect_to_file_scheme_is_refused(
    app: Harness, ada: Caller, files: FileServer
) -> None:
    response = await post_media(app, ada, files.url("/redirect?to=file:///etc/passwd"))

    assert response.status_code == 422
    assert "scheme" in response.json()["message"]


async def test_proxy_environment_is_ignored(
    app: Harness,
    ada: Caller,
    listener: Listener,
    dns: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = f"http://127.0.0.1:{listener.port}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, proxy)

    response = await post_media(app, ada, "http://unresolvable.test/a.jpg")

    assert response.status_code == 422
    assert listener.connections == 0
