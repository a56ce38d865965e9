"""Accounts and sessions on a real PDS: app passwords, token renewal, the PDS from a DID."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import Result
from typer.testing import CliRunner

from masthead.cli import app as cli
from masthead.dispatch.credentials import AccountCredentials
from masthead.platforms.base import Permanent
from masthead.platforms.bluesky_xrpc import check_pds_endpoint, pds_of
from masthead.store import accounts
from tests.conftest import make_settings
from tests.platforms.bluesky.conftest import (
    bluesky_post,
    bluesky_settings,
    connect,
    publisher_for,
)
from tests.support.bluesky_pds import Pds, PdsAccount
from tests.support.harness import Caller, Harness, running_app
from tests.support.xrpc_proxy import XrpcProxy

PDS_JWT_SECRET = b"jwt-secret"  # tools/bluesky-pds/serve.mjs


def access_jwt(did: str, *, expires_in: float, secret: bytes = PDS_JWT_SECRET) -> str:
    """An app-password access token as the test PDS signs them (HS256)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")

    now = int(time.time())
    claims = {
        "scope": "com.atproto.appPass",
        "aud": "did:web:localhost",
        "sub": did,
        "iat": now - 7200,
        "exp": int(now + expires_in),
    }
    signing_input = f"{part({'typ': 'at+jwt', 'alg': 'HS256'})}.{part(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


async def replace_session(app: Harness, account_id: str, **changes: str) -> dict[str, Any]:
    store = AccountCredentials(app.db, app.ctx.secrets, int(account_id))
    old = await store.load()
    assert await store.save({**old, **changes}, replaces=old)
    return {**old, **changes}


async def publish(app: Harness, caller: Caller, account_id: str, text: str) -> dict[str, Any]:
    response = await app.create_post(caller, bluesky_post(account_id, text))
    assert response.status_code == 201, response.text
    post_id = response.json()["postSubmissionId"]
    return await app.wait_status(caller, post_id, {"published", "failed"}, timeout=30)


@pytest.fixture
async def app(tmp_path: Path, proxy: XrpcProxy) -> AsyncIterator[Harness]:
    """A running Masthead that talks to the PDS through the (so far faultless) proxy."""
    async with running_app(bluesky_settings(tmp_path, proxy.url)) as running:
        yield running


@pytest.fixture
async def caller(app: Harness) -> Caller:
    return await app.user()


async def test_an_expired_access_token_is_refreshed_without_logging_in_again(
    app: Harness, caller: Caller, alice: PdsAccount, pds: Pds, proxy: XrpcProxy
) -> None:
    account_id = await connect(app, caller, alice)
    await replace_session(app, account_id, access_jwt=access_jwt(alice.did, expires_in=-60))
    proxy.calls.clear()

    status = await publish(app, caller, account_id, "after the access token expired")

    assert status["status"] == "published", status
    assert len(proxy.calls_of("com.atproto.server.refreshSession")) == 1
    assert proxy.calls_of("com.atproto.server.createSession") == []
    stored = await AccountCredentials(app.db, app.ctx.secrets, int(account_id)).load()
    assert stored["access_jwt"] != access_jwt(alice.did, expires_in=-60)
    assert len(await pds.posts(alice.did)) == 1


async def test_an_access_token_the_pds_refuses_is_renewed_once_and_the_post_goes_out(
    app: Harness, caller: Caller, alice: PdsAccount, pds: Pds, proxy: XrpcProxy
) -> None:
    account_id = await connect(app, caller, alice)
    # Not expired by its own claims, but not signed by this PDS: "Token could not be verified".
    forged = access_jwt(alice.did, expires_in=3600, secret=b"another-secret")
    await replace_session(app, account_id, access_jwt=forged)
    proxy.calls.clear()

    status = await publish(app, caller, account_id, "after the PDS refused the token")

    assert status["status"] == "published", status
    assert [name for _, name in proxy.calls] == [
        "com.atproto.repo.createRecord",
        "com.atproto.server.refreshSession",
        "com.atproto.repo.createRecord",
    ]
    assert len(await pds.posts(alice.did)) == 1


async def test_a_revoked_app_password_disconnects_the_account_and_fails_the_post_clearly(
    app: Harness, caller: Caller, alice: PdsAccount, pds: Pds
) -> None:
    account_id = await connect(app, caller, alice)
    owner = pds.xrpc(
        "com.atproto.server.createSession", {"identifier": alice.handle, "password": alice.password}
    )
    pds.xrpc("com.atproto.server.revokeAppPassword", {"name": "masthead"}, owner["accessJwt"])
    await replace_session(
        app, account_id, access_jwt=access_jwt(alice.did, expires_in=-60), refresh_jwt="revoked"
    )

    status = await publish(app, caller, account_id, "never published")

    assert status["status"] == "failed"
    assert status["errorMessage"] == (
        "Bluesky refused the app password: Invalid identifier or password"
    )
    row = await app.db.read(lambda conn: accounts.account_by_id(conn, int(account_id)))
    assert row is not None
    assert row.status == "disconnected"
    await asyncio.sleep(1.1)  # the API's one-second cache of accounts
    again = await app.create_post(caller, bluesky_post(account_id, "refused now"))
    assert again.status_code == 422, again.text
    assert "is disconnected" in again.text
    assert await pds.posts(alice.did) == []


async def test_connecting_with_a_wrong_app_password_is_refused_in_the_pds_words(
    tmp_path: Path, pds: Pds, alice: PdsAccount
) -> None:
    publisher = publisher_for(bluesky_settings(tmp_path, pds.url))
    try:
        with pytest.raises(Permanent, match="Invalid identifier or password"):
            await publisher.connect({"handle": alice.handle, "app_password": "xxxx-xxxx-xxxx"})
    finally:
        await publisher.aclose()


async def test_without_a_service_url_the_pds_comes_from_the_did_document(
    tmp_path: Path, pds: Pds, alice: PdsAccount
) -> None:
    allowed = make_settings(
        tmp_path, bluesky_plc_url=pds.plc_url, fetch_allow=f"localhost:{pds.port}"
    )
    publisher = publisher_for(allowed)
    try:
        connected = await publisher.connect(
            {"handle": alice.did, "app_password": alice.app_password}
        )
    finally:
        await publisher.aclose()
    assert (connected.external_id, connected.username) == (alice.did, alice.handle)
    assert connected.credentials["service"] == f"http://localhost:{pds.port}"
    assert connected.credentials["service_from_did"] is True


async def test_a_plain_http_pds_in_a_did_document_is_refused_unless_allowed(
    pds: Pds, alice: PdsAccount
) -> None:
    async with httpx.AsyncClient() as client:
        endpoint = await pds_of(client, pds.plc_url, alice.did)
    assert endpoint == f"http://localhost:{pds.port}"
    with pytest.raises(Permanent, match="not an https URL"):
        check_pds_endpoint(endpoint, frozenset())
    assert check_pds_endpoint(endpoint, frozenset({("localhost", pds.port)})) == endpoint
    assert check_pds_endpoint("https://pds.example/", frozenset()) == "https://pds.example"


def test_accounts_add_on_the_cli_connects_a_bluesky_account(
    tmp_path: Path, pds: Pds, alice: PdsAccount
) -> None:
    env = {"MASTHEAD_DATA_DIR": str(tmp_path), "MASTHEAD_SECRET_KEY": "cli-secret"}

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env)

    assert run("users", "create", "--email", "cli@example.com", "--no-password").exit_code == 0
    add = ["accounts", "add", "--user", "cli@example.com", "--platform", "bluesky"]
    wrong = run(*add, "--handle", alice.handle, "--app-password", "nope", "--service", pds.url)
    assert wrong.exit_code != 0
    assert "bluesky refused the credentials" in wrong.output
    assert "Invalid identifier or password" in wrong.output
    added = run(
        *add, "--handle", alice.handle, "--app-password", alice.app_password, "--service", pds.url
    )
    assert added.exit_code == 0, added.output
    assert added.output.strip().splitlines()[-1].isdigit()
    listing = run("accounts", "list", "--user", "cli@example.com")
    assert alice.handle in listing.output
