"""An in-process Masthead (real app, real database, real dispatch) and helpers to seed it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import uvicorn
from sqlalchemy import update
from sqlalchemy.engine import Connection

from masthead.api.protocol import BodyProtocol
from masthead.app import create_app
from masthead.config import Settings
from masthead.context import AppContext
from masthead.security import Secrets
from masthead.services.connections import connect_account
from masthead.store import accounts, users
from masthead.store.database import Database
from masthead.store.migrate import upgrade
from masthead.store.models import Account
from masthead.timeutil import utcnow
from tests.support.receiver import free_port


@dataclass
class Caller:
    user_id: str
    email: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"blotato-api-key": self.key}


async def migrate(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


async def seed_user(db: Database, secrets: Secrets, email: str) -> Caller:
    key = secrets.new_api_key()
    now = utcnow()

    def work(conn: Connection) -> str:
        user = users.create_user(conn, secrets, email=email, name=email.split("@")[0], now=now)
        users.add_api_key(
            conn, user_id=user.id, name="test", prefix=key.prefix, digest=key.digest, now=now
        )
        return user.id

    return Caller(await db.write(work), email, key.key)


async def seed_account(
    db: Database,
    caller: Caller,
    platform: str,
    *,
    username: str | None = None,
    subaccounts: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    status: str = "connected",
) -> str:
    def work(conn: Connection) -> int:
        account_id = accounts.add_account(
            conn,
            user_id=caller.user_id,
            platform=platform,
            external_id=f"{platform}-{username or caller.email}",
            username=username or platform,
            fullname=(username or platform).title(),
            now=utcnow(),
        )
        for kind, external_id, name in subaccounts:
            accounts.add_subaccount(
                conn, account_id=account_id, kind=kind, external_id=external_id, name=name
            )
        if status != "connected":
            conn.execute(update(Account).where(Account.id == account_id).values(status=status))
        return account_id

    return str(await db.write(work))


class Harness:
    def __init__(self, settings: Settings, ctx: AppContext, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.ctx = ctx
        self.client = client

    @property
    def db(self) -> Database:
        return self.ctx.db

    async def user(self, email: str = "ada@example.com") -> Caller:
        return await seed_user(self.db, self.ctx.secrets, email)

    async def account(self, caller: Caller, platform: str = "webhook", **kw: Any) -> str:
        return await seed_account(self.db, caller, platform, **kw)

    async def connect(self, caller: Caller, platform: str, credentials: dict[str, Any]) -> str:
        """A connected account of `platform` for `caller`, through its publisher, as
        `masthead accounts add` does (the publisher checks the credentials with the fake)."""
        account_id, _ = await connect_account(
            self.db,
            self.ctx.secrets,
            self.ctx.publishers[platform],
            user_id=caller.user_id,
            credentials=credentials,
        )
        return str(account_id)

    async def create_post(
        self, caller: Caller, body: Any, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            "/v2/posts",
            content=orjson.dumps(body),
            headers={**caller.headers, "Content-Type": "application/json", **(headers or {})},
        )

    async def status(self, caller: Caller, post_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v2/posts/{post_id}", headers=caller.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def wait_status(
        self, caller: Caller, post_id: str, wanted: set[str], timeout: float = 10.0
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            body = await self.status(caller, post_id)
            if body["status"] in wanted or loop.time() > deadline:
                return body
            await asyncio.sleep(0.02)


@asynccontextmanager
async def running_app(
    settings: Settings,
    *,
    run_worker: bool = True,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> AsyncIterator[Harness]:
    """The app in-process; `transports` serve platforms' fakes in-process too (no socket)."""
    await migrate(settings.sqlalchemy_url)
    app = create_app(settings, run_worker=run_worker, transports=transports)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://masthead.test"
        ) as client:
            yield Harness(settings, app.state.ctx, client)


def webhook_post(account_id: str, url: str, text: str = "Hello", **root: Any) -> dict[str, Any]:
    return {
        "post": {
            "accountId": account_id,
            "content": {"text": text, "mediaUrls": [], "platform": "other"},
            "target": {"targetType": "webhook", "url": url},
        },
        **root,
    }


@asynccontextmanager
async def served_app(
    settings: Settings,
    *,
    run_worker: bool = True,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> AsyncIterator[Harness]:
    """The app on a real 127.0.0.1 port with MASTHEAD_PUBLIC_URL pointing at it, in this event
    loop: for fakes of platforms that fetch hosted media by URL (Meta, Threads, TikTok,
    Pinterest), so that a wrong public URL fails the test as it would fail in production."""
    port = free_port()
    settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    await migrate(settings.sqlalchemy_url)
    app = create_app(settings, run_worker=run_worker, transports=transports)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=BodyProtocol,  # as `masthead serve` runs it
        log_level="warning",
        lifespan="on",
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the app stopped before it started serving")
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=settings.public_url, timeout=30) as client:
            yield Harness(settings, app.state.ctx, client)
    finally:
        server.should_exit = True
        await task
