"""TikTok's rotating refresh tokens shared by several workers: one refresh wins, the other
worker uses what the winner stored (compare-and-swap), and the account stays connected."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from masthead.dispatch.credentials import AccountCredentials
from masthead.store import accounts
from tests.fakes.tiktok import FakeTikTok
from tests.platforms.tiktok.conftest import direct
from tests.support.harness import Harness
from tests.support.platforms import connected_account

PAST = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()


async def test_two_workers_refreshing_at_once_share_one_rotation_and_stay_connected(
    tt_app: Harness, fake_tt: FakeTikTok
) -> None:
    caller = await tt_app.user()
    user = fake_tt.add_user("shared")
    account = int(await connected_account("tiktok", tt_app, caller, fake_tt, user, expires_at=PAST))
    fake_tt.token_delay = 0.3
    workers = [direct(tt_app, fake_tt, account, user.open_id, user.username) for _ in range(2)]

    async def post(index: int) -> str:
        ctx, publisher, _ = workers[index]
        prepared = await publisher.prepare(ctx, 0)
        return (await publisher.send(ctx, 0, prepared)).remote_id

    try:
        ids = await asyncio.gather(post(0), post(1))
    finally:
        for _, publisher, _ in workers:
            await publisher.aclose()

    assert sorted(p.post_id or "" for p in fake_tt.published(user)) == sorted(ids)
    assert fake_tt.calls.count("token") == 2  # both tried; TikTok took one
    stored = await AccountCredentials(tt_app.db, tt_app.ctx.secrets, account).load()
    assert stored["refresh_token"] in fake_tt.refresh_tokens
    row = await tt_app.db.read(lambda c: accounts.account_by_id(c, account))
    assert row is not None and row.status == "connected"
