"""Schemathesis over the whole OpenAPI schema of a real `masthead serve`: no 5xx, and every
response matches what the schema says (bounded, so it runs in CI)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from masthead.security import Secrets
from masthead.store.database import Database
from tests.support.harness import Caller, migrate, seed_account, seed_user
from tests.support.server import ServerProcess

SECRET = "fuzz-secret"
EXAMPLES = 100
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]


async def _seed(data_dir: Path) -> Caller:
    url = f"sqlite:///{data_dir / 'masthead.db'}"
    await migrate(url)
    db = Database(url)
    await db.start()
    try:
        caller = await seed_user(db, Secrets([SECRET]), "fuzz@example.com")
        await seed_account(db, caller, "webhook")
        await seed_account(db, caller, "pinterest", subaccounts=[("board", "123", "Ideas")])
    finally:
        await db.close()
    return caller


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Caller]]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    caller = asyncio.run(_seed(data_dir))
    server = ServerProcess(
        data_dir,
        {
            "MASTHEAD_SECRET_KEY": SECRET,
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_LOG_LEVEL": "WARNING",
        },
    )
    server.start()
    yield server, caller
    server.terminate()


def test_api_answers_every_generated_request_within_its_schema(
    live: tuple[ServerProcess, Caller],
) -> None:
    server, caller = live
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=server.base_url, headers=caller.headers, checks=CHECKS)

        try:
            exercise()
        except (AssertionError, Exception) as exc:  # collect every operation's failures
            failures.append(f"{operation.label}: {exc!r}"[:3000])
    assert not failures, "\n\n".join(failures)
