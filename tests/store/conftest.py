"""Store tests run on both engines: SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from masthead.security import Secrets
from masthead.store.database import Database
from tests.support.harness import Caller, migrate, seed_account, seed_user


@dataclass
class Seeded:
    db: Database
    caller: Caller
    account_id: int


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await migrate(database_url)
    database = Database(database_url)
    await database.start()
    yield database
    await database.close()


@pytest.fixture
async def seeded(db: Database) -> Seeded:
    secrets = Secrets(["store-test-key"])
    caller = await seed_user(db, secrets, "store@example.com")
    account_id = await seed_account(db, caller, "webhook")
    return Seeded(db, caller, int(account_id))
