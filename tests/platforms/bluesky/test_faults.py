"""Faults between Masthead and a real PDS: what waits, what is settled with getRecord, what
fails in Bluesky's words, and that no post is ever published twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from masthead.domain.atproto_ids import rkey_of
from masthead.security import Secrets
from masthead.services.connections import connect_account
from masthead.store.database import Database
from tests.platforms.bluesky.conftest import (
    bluesky_post,
    bluesky_settings,
    connect,
    publisher_for,
)
from tests.support.bluesky_pds import Pds, PdsAccount
from tests.support.files import FileServer
from tests.support.harness import Caller, Harness, migrate, running_app, seed_user
from tests.support.images import png
from tests.support.server import ServerProcess
from tests.support.xrpc_proxy import ProxyFault, XrpcProxy

CREATE = "com.atproto.repo.createRecord"
GET = "com.atproto.repo.getRecord"


def xrpc_error(error: str, message: str) -> bytes:
    return orjson.dumps({"error": error, "message": message})


async def publish(
    app: Harness, caller: Caller, body: dict[str, Any], timeout: float = 30
) -> dict[str, Any]:
    response = await app.create_post(caller, body)
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    return await app.wait_status(caller, post_id, {"published", "failed"}, timeout=timeout)


async def test_a_429_waits_for_the_rate_limit_reset_then_publishes_once(
    tmp_path: Path, pds: Pds, alice: PdsAccount, proxy: XrpcProxy
) -> None:
    reset = int(time.time()) + 3
    proxy.faults.append(
        ProxyFault(
            CREATE,
            status=429,
            headers={
                "ratelimit-limit": "5000",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(reset),
                "ratelimit-policy": "5000;w=3600",
            },
            body=xrpc_error("RateLimitExceeded", "Rate Limit Exceeded"),
        )
    )
    async with running_app(bluesky_settings(tmp_path, proxy.url)) as app:
        caller = await app.user()
        account_id = await connect(app, caller, alice)
        status = await publish(app, caller, bluesky_post(account_id, "after the reset"))

    assert status["status"] == "published", status
    _refused, accepted = proxy.calls_of(CREATE)
    assert accepted >= reset - 0.05, f"retried {reset - accepted:.2f}s before the reset"
    assert len(await pds.posts(alice.did)) == 1


async def test_a_5xx_to_create_record_is_settled_by_its_key_and_published_once(
    tmp_path: Path, pds: Pds, alice: PdsAccount, proxy: XrpcProxy
) -> None:
    proxy.faults.append(
        ProxyFault(CREATE, status=503, body=xrpc_error("ServiceUnavailable", "overloaded"))
    )
    async with running_app(bluesky_settings(tmp_path, proxy.url)) as app:
        caller = await app.user()
        account_id = await connect(app, caller, alice)
        status = await publish(app, caller, bluesky_post(account_id, "despite a 503"))

    assert status["status"] == "published", status
    assert [name for _, name in proxy.calls[-3:]] == [CREATE, GET, CREATE]
    posts = await pds.posts(alice.did)
    assert [p["value"]["text"] for p in posts] == ["despite a 503"]


async def test_a_5xx_on_a_blob_upload_is_retried_after_retry_after(
    tmp_path: Path, pds: Pds, alice: PdsAccount, proxy: XrpcProxy, files: FileServer
) -> None:
    image = files.add("a.png", png(3, 3))
    proxy.faults.append(
        ProxyFault(
            "com.atproto.repo.uploadBlob",
            status=502,
            headers={"Retry-After": "1"},
            body=xrpc_error("UpstreamFailure", "bad gateway"),
        )
    )
    settings = bluesky_settings(tmp_path, proxy.url, fetch_allow=files.allow)
    async with running_app(settings) as app:
        caller = await app.user()
        account_id = await connect(app, caller, alice)
        body = bluesky_post(account_id, "with an image", [image])
        status = await publish(app, caller, body)

    assert status["status"] == "published", status
    assert len(proxy.calls_of("com.atproto.repo.uploadBlob")) == 2
    assert len(proxy.calls_of(CREATE)) == 1
    assert len(await pds.posts(alice.did)) == 1


async def test_an_answer_lost_after_the_pds_acted_is_found_and_not_posted_again(
    tmp_path: Path, pds: Pds, alice: PdsAccount, proxy: XrpcProxy
) -> None:
    proxy.faults.append(ProxyFault(CREATE, delay_after=3.0))  # longer than Masthead waits
    settings = bluesky_settings(tmp_path, proxy.url, bluesky_timeout_seconds=1.0)
    async with running_app(settings) as app:
        caller = await app.user()
        account_id = await connect(app, caller, alice)
        status = await publish(app, caller, bluesky_post(account_id, "answer lost"))

    assert status["status"] == "published", status
    assert len(proxy.calls_of(CREATE)) == 1
    assert len(proxy.calls_of(GET)) == 1
    posts = await pds.posts(alice.did)
    assert [p["value"]["text"] for p in posts] == ["answer lost"]
    assert status["publicUrl"].endswith(f"/post/{rkey_of(posts[0]['uri'])}")


async def test_a_thread_refused_half_way_reports_the_published_items_in_its_error(
    tmp_path: Path, pds: Pds, alice: PdsAccount, proxy: XrpcProxy
) -> None:
    proxy.faults.append(
        ProxyFault(
            CREATE,
            skip=1,
            status=400,
            body=xrpc_error("InvalidRequest", "Invalid app.bsky.feed.post record"),
        )
    )
    async with running_app(bluesky_settings(tmp_path, proxy.url)) as app:
        caller = await app.user()
        account_id = await connect(app, caller, alice)
        body = bluesky_post(account_id, "one", thread=[("two", []), ("three", [])])
        status = await publish(app, caller, body)

    posts = await pds.posts(alice.did)
    assert [p["value"]["text"] for p in posts] == ["one"]
    url = f"https://bsky.app/profile/{alice.handle}/post/{rkey_of(posts[0]['uri'])}"
    assert status["status"] == "failed"
    assert status["errorMessage"] == (
        "Bluesky refused the post: Invalid app.bsky.feed.post record "
        f"(thread item 2; the first 1 were published: {url})"
    )


async def test_a_thread_retried_half_way_does_not_post_its_first_items_again(
    tmp_path: Path, pds: Pds, alice: PdsAccount, proxy: XrpcProxy
) -> None:
    proxy.faults.append(
        ProxyFault(
            CREATE,
            skip=1,
            status=429,
            headers={"Retry-After": "1"},
            body=xrpc_error("RateLimitExceeded", "Rate Limit Exceeded"),
        )
    )
    async with running_app(bluesky_settings(tmp_path, proxy.url)) as app:
        caller = await app.user()
        account_id = await connect(app, caller, alice)
        body = bluesky_post(account_id, "one", thread=[("two", []), ("three", [])])
        status = await publish(app, caller, body)

    assert status["status"] == "published", status
    assert len(proxy.calls_of(CREATE)) == 4  # one, two (429), two, three
    one, two, three = await pds.posts(alice.did)
    assert [p["value"]["text"] for p in (one, two, three)] == ["one", "two", "three"]
    root = {"uri": one["uri"], "cid": one["cid"]}
    assert two["value"]["reply"] == {"root": root, "parent": root}
    assert three["value"]["reply"]["parent"] == {"uri": two["uri"], "cid": two["cid"]}


SECRET = "bluesky-crash-test-secret"


@pytest.fixture
def server(tmp_path: Path, proxy: XrpcProxy) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path,
        {
            "MASTHEAD_SECRET_KEY": SECRET,
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_DISPATCH_LEASE_SECONDS": "3",
            "MASTHEAD_BLUESKY_SERVICE_URL": proxy.url,
        },
    )
    yield process
    process.kill()


async def test_a_crash_between_the_mark_and_the_answer_is_reconciled_by_get_record(
    tmp_path: Path, server: ServerProcess, pds: Pds, alice: PdsAccount, proxy: XrpcProxy
) -> None:
    url = f"sqlite:///{server.data_dir / 'masthead.db'}"
    await migrate(url)
    db = Database(url)
    await db.start()
    publisher = publisher_for(bluesky_settings(tmp_path, proxy.url))
    try:
        caller = await seed_user(db, Secrets([SECRET]), "crash@example.com")
        account_id, _ = await connect_account(
            db,
            Secrets([SECRET]),
            publisher,
            user_id=caller.user_id,
            credentials={"handle": alice.handle, "app_password": alice.app_password},
        )
    finally:
        await publisher.aclose()
        await db.close()
    proxy.faults.append(ProxyFault(CREATE, delay_after=30.0))  # the PDS acts; no answer
    await asyncio.to_thread(server.start)
    async with httpx.AsyncClient(base_url=server.base_url, headers=caller.headers) as client:
        response = await client.post(
            "/v2/posts", json=bluesky_post(str(account_id), "sent just before a crash")
        )
        assert response.status_code == 201, response.text
        post_id = response.json()["postSubmissionId"]
        while not proxy.calls_of(CREATE):
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)  # the PDS has written it; the answer is held back
        server.kill()
        await asyncio.to_thread(server.start)
        deadline = time.monotonic() + 30
        while True:
            body = (await client.get(f"/v2/posts/{post_id}")).json()
            if body["status"] in ("published", "failed") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)

    posts = await pds.posts(alice.did)
    assert [p["value"]["text"] for p in posts] == ["sent just before a crash"]
    assert body["status"] == "published", body
    assert body["publicUrl"].endswith(f"/post/{rkey_of(posts[0]['uri'])}")
    assert len(proxy.calls_of(CREATE)) == 1
    assert len(proxy.calls_of(GET)) == 1
