"""Schemathesis over the web forms and the hosted-media routes of a real `masthead serve`,
signed in and with the session's CSRF token: whatever the fields, query strings, path ids,
`masthead_tz` cookie or `Range` header hold, no answer is a 5xx.

These routes are not in `/openapi.json` (they are not the API), so they are described here;
`test_every_page_and_form_is_described` fails when a route is added without its description.
Left out, with the reason: sign-in and sign-out (they end the session the fuzz runs in; the
sign-in form has its own tests), connecting Bluesky (it calls the account's PDS, which is
not on loopback), and the OAuth callback (a platform's redirect, with its own tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import given
from schemathesis import checks

from tests.contract.conftest import FUZZ, Live, served_routes, signed_in

LEFT_OUT = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/settings/accounts/bluesky"),
    ("GET", "/oauth/{platform}/callback"),
    ("POST", "/oauth/{platform}/start"),
}
"""/oauth/{platform}/start is an API route (in /openapi.json, fuzzed there)."""

TEXT: dict[str, Any] = {"type": "string"}
TZ_COOKIE = {"name": "masthead_tz", "in": "cookie", "schema": TEXT}


def _path(name: str, example: str | None = None) -> dict[str, Any]:
    schema = {**TEXT, "example": example} if example else TEXT
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any] = TEXT) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema}


def _form(*fields: str) -> dict[str, Any]:
    properties = {field: TEXT for field in fields}
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": properties, "required": list(fields)}
            }
        },
    }


def _op(*parameters: dict[str, Any], body: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "parameters": [TZ_COOKIE, *parameters],
        "responses": {"default": {"description": "a page, a redirect or a refusal"}},
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def web_schema(post_id: str) -> dict[str, Any]:
    many = {"type": "array", "items": TEXT}
    post = _path("post_id", post_id)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Masthead web forms", "version": "1"},
        "paths": {
            "/": {"get": _op()},
            "/posts": {
                "get": _op(
                    _query("week"),
                    _query("before"),
                    _query("before_id"),
                    _query("status", many),
                    _query("platform", many),
                )
            },
            "/posts/{post_id}": {"get": _op(post)},
            "/posts/{post_id}/cancel": {"post": _op(post, body=_form())},
            "/posts/{post_id}/reschedule": {"post": _op(post, body=_form("when"))},
            "/settings/keys": {"get": _op(), "post": _op(body=_form("name"))},
            "/settings/keys/{key_id}/revoke": {"post": _op(_path("key_id", "1"), body=_form())},
            "/settings/accounts": {"get": _op(_query("notice"))},
            "/settings/accounts/docs/{name}": {"get": _op(_path("name", "x"))},
            "/settings/accounts/{platform}/connect": {
                "post": _op(_path("platform", "twitter"), body=_form())
            },
            "/settings/accounts/{account_id}/remove": {
                "post": _op(_path("account_id", "2"), body=_form())
            },
            "/settings/slots": {
                "get": _op(),
                "post": _op(body=_form("target", "day", "time", "timezone")),
            },
            "/settings/slots/{slot_id}/delete": {"post": _op(_path("slot_id"), body=_form())},
            "/media/{name}": {
                "get": _op(_path("name"), {"name": "Range", "in": "header", "schema": TEXT})
            },
            "/media/u/{upload_id}": {"get": _op(_path("upload_id"))},
            "/media/uploads/{upload_id}": {
                "put": _op(_path("upload_id"), _query("expires"), _query("signature"))
            },
        },
    }


def test_every_page_and_form_is_described(live: Live, tmp_path: Path) -> None:
    described = {
        (method.upper(), path)
        for path, item in web_schema(live.post_id)["paths"].items()
        for method in item
    }
    outside_api = {
        (m, p)
        for m, p in served_routes(tmp_path)
        if not p.startswith(("/v2", "/openapi.json", "/docs", "/healthz", "/readyz", "/metrics"))
    }
    assert outside_api - LEFT_OUT == described


def test_no_web_form_answers_a_5xx(live: Live) -> None:
    base = live.server.base_url
    cookies, token = signed_in(base)
    schema = schemathesis.openapi.from_dict(web_schema(live.post_id))
    failures: list[str] = []

    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @FUZZ
        def exercise(case: schemathesis.Case) -> None:
            if isinstance(case.body, dict):
                case.body["csrf_token"] = token
            response = case.call(base_url=base, cookies=cookies, allow_redirects=False)
            case.validate_response(response, checks=[checks.not_a_server_error])

        try:
            exercise()
        except (AssertionError, Exception) as exc:  # collect every operation's failures
            failures.append(f"{operation.label}: {exc!r}"[:3000])
    assert not failures, "\n\n".join(failures)
