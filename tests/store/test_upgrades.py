"""Upgrading a database from the first migration to head keeps what it held: a database is
built at revision 0001 and filled as that release wrote it (users, keys, accounts with sealed
tokens, a published and a scheduled post), upgraded, and read back through the API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from masthead.security import Secrets
from masthead.store.database import Database
from masthead.store.migrate import upgrade
from masthead.store.types import UTCDateTime
from masthead.timeutil import utcnow
from tests.conftest import make_settings
from tests.support.harness import Caller, running_app, webhook_post
from tests.support.receiver import Receiver

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = UTCDateTime(timezone=True)

# The tables as revision 0001 made them (only the columns written here).
USERS = sa.table(
    "users",
    *(sa.column(c) for c in ("id", "email", "name", "password_hash", "webhook_secret")),
    sa.column("created_at", WHEN),
)
API_KEYS = sa.table(
    "api_keys",
    *(sa.column(c) for c in ("user_id", "name", "prefix", "digest")),
    sa.column("created_at", WHEN),
)
ACCOUNTS = sa.table(
    "accounts",
    *(sa.column(c) for c in ("id", "user_id", "platform", "external_id", "username")),
    *(sa.column(c) for c in ("fullname", "credentials", "status")),
    sa.column("created_at", WHEN),
    sa.column("updated_at", WHEN),
)
POSTS = sa.table(
    "posts",
    *(sa.column(c) for c in ("id", "user_id", "account_id", "platform", "state", "public_url")),
    *(sa.column(c) for c in ("attempt", "version")),
    sa.column("draft", JSON),
    *(sa.column(c, WHEN) for c in ("scheduled_at", "post_time", "due_at", "created_at")),
    *(sa.column(c, WHEN) for c in ("updated_at", "finished_at")),
)
PUBLISHED = "9b0f1a52-6a2e-4c53-9d5e-3f1c6f0a0001"
SCHEDULED = "9b0f1a52-6a2e-4c53-9d5e-3f1c6f0a0002"


def _draft(account_id: int, text: str) -> dict[str, Any]:
    """The compat `post` object, as the first release stored it."""
    return {
        "accountId": str(account_id),
        "content": {"text": text, "mediaUrls": [], "platform": "other"},
        "target": {"targetType": "webhook", "url": "https://hooks.example.com/in"},
    }


def _fill_as_0001(conn: Connection, secrets: Secrets, key_prefix: str, digest: str) -> int:
    now = utcnow()
    user_id = "5d1e3f7a-0000-4000-8000-000000000001"
    conn.execute(
        USERS.insert(),
        {
            "id": user_id,
            "email": "ada@example.com",
            "name": "Ada",
            "password_hash": None,
            "webhook_secret": secrets.encrypt("whsec_from_0001"),
            "created_at": now,
        },
    )
    conn.execute(
        API_KEYS.insert(),
        {
            "user_id": user_id,
            "name": "n8n",
            "prefix": key_prefix,
            "digest": digest,
            "created_at": now,
        },
    )
    account: dict[str, Any] = {
        "user_id": user_id,
        "status": "connected",
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(
        ACCOUNTS.insert(),
        {
            **account,
            "platform": "twitter",
            "external_id": "2244994945",
            "username": "ada_x",
            "fullname": "Ada on X",
            "credentials": secrets.encrypt(orjson.dumps({"access_token": "x-token"}).decode()),
        },
    )
    conn.execute(
        ACCOUNTS.insert(),
        {
            **account,
            "platform": "webhook",
            "external_id": "webhook",
            "username": "webhook",
            "fullname": "Webhook",
            "credentials": None,
        },
    )
    webhook_id = int(
        conn.execute(sa.text("SELECT id FROM accounts WHERE platform = 'webhook'")).scalar_one()
    )
    later = now + timedelta(days=30)
    post: dict[str, Any] = {
        "user_id": user_id,
        "account_id": webhook_id,
        "platform": "webhook",
        "attempt": 0,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(
        POSTS.insert(),
        [
            {
                **post,
                "id": PUBLISHED,
                "draft": _draft(webhook_id, "sent before the upgrade"),
                "state": "published",
                "public_url": "https://hooks.example.com/in",
                "scheduled_at": None,
                "post_time": now - timedelta(days=1),
                "due_at": None,
                "finished_at": now - timedelta(days=1),
            },
            {
                **post,
                "id": SCHEDULED,
                "draft": _draft(webhook_id, "due after the upgrade"),
                "state": "scheduled",
                "public_url": None,
                "scheduled_at": later,
                "post_time": later,
                "due_at": later,
                "finished_at": None,
            },
        ],
    )
    return webhook_id


async def test_a_database_from_the_first_release_upgrades_with_everything_in_it(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    settings = make_settings(
        tmp_path, database_url=database_url, fetch_allow=receiver.allow, api_rate_limits="off"
    )
    secrets = Secrets(settings.secret_keys)
    key = secrets.new_api_key()
    await asyncio.to_thread(upgrade, database_url, "0001")
    old = Database(database_url)
    await old.start()
    try:
        webhook_id = await old.write(
            lambda conn: _fill_as_0001(conn, secrets, key.prefix, key.digest)
        )
    finally:
        await old.close()

    async with running_app(settings) as app:  # upgrades to head first, as serve does
        ada = Caller("", "ada@example.com", key.key)
        me = await app.client.get("/v2/users/me", headers=ada.headers)
        assert me.status_code == 200 and me.json()["email"] == "ada@example.com"
        assert me.json()["webhookSigningSecret"] == "whsec_from_0001"
        listed = await app.client.get("/v2/users/me/accounts", headers=ada.headers)
        assert {(a["platform"], a["username"]) for a in listed.json()["items"]} == {
            ("twitter", "ada_x"),
            ("webhook", "webhook"),
        }
        token = await app.db.read(
            lambda conn: conn.execute(
                sa.text("SELECT credentials FROM accounts WHERE platform = 'twitter'")
            ).scalar_one()
        )
        assert orjson.loads(secrets.decrypt(token)) == {"access_token": "x-token"}

        sent = await app.status(ada, PUBLISHED)
        assert sent["status"] == "published"
        assert sent["publicUrl"] == "https://hooks.example.com/in"
        schedule = await app.client.get(f"/v2/schedules/{SCHEDULED}", headers=ada.headers)
        assert schedule.status_code == 200
        assert schedule.json()["schedule"]["draft"]["content"]["text"] == "due after the upgrade"

        created = await app.create_post(
            ada, webhook_post(str(webhook_id), receiver.url, "after the upgrade")
        )
        assert created.status_code == 201, created.text
        post_id = created.json()["postSubmissionId"]
        done = await app.wait_status(ada, post_id, {"published", "failed"})
        assert done["status"] == "published", done
        assert b"after the upgrade" in (await receiver.wait_for(1))[0].body


@pytest.mark.postgres
def test_processes_starting_together_on_postgresql_migrate_one_after_another(
    fresh_pg_url: str,
) -> None:
    """Compose starts API processes and workers at once, and each migrates on start."""
    env = {**os.environ, "MASTHEAD_DATABASE_URL": fresh_pg_url, "MASTHEAD_SECRET_KEY": "k"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "masthead", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, outputs
