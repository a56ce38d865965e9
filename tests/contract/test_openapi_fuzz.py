"""Schemathesis over the whole OpenAPI schema of a real `masthead serve`: no 5xx, and every
response matches what the schema says (bounded, so it runs in CI). Every `/v2` route the app
serves is in the schema, so none escapes the fuzz."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import given
from schemathesis import checks

from tests.contract.conftest import FUZZ, Live, served_routes

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]


def test_api_answers_every_generated_request_within_its_schema(live: Live, tmp_path: Path) -> None:
    server, caller = live.server, live.caller
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {(operation.method.upper(), operation.path) for operation in operations}
    assert {(m, p) for m, p in served_routes(tmp_path) if p.startswith("/v2")} <= documented

    for operation in operations:

        @given(case=operation.as_strategy())
        @FUZZ
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=server.base_url, headers=caller.headers, checks=CHECKS)

        try:
            exercise()
        except (AssertionError, Exception) as exc:  # collect every operation's failures
            failures.append(f"{operation.label}: {exc!r}"[:3000])
    assert not failures, "\n\n".join(failures)
