"""headers.py on every kind of answer, /docs from vendored files, and /metrics behind its
token when one is set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from masthead.headers import CONTENT_SECURITY_POLICY
from masthead.web.render import HERE, SWAGGER_UI
from tests.conftest import make_settings
from tests.support.harness import Harness, running_app

TEMPLATES = HERE / "templates"


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/posts",
        "/docs",
        "/openapi.json",
        "/healthz",
        "/v2/users/me",
        "/static/app.js",
        "/nowhere",
    ],
)
async def test_every_answer_forbids_framing_and_foreign_scripts(idle: Harness, path: str) -> None:
    response = await idle.client.get(path)

    csp = response.headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_carry_no_inline_script_handler_or_style(template: str) -> None:
    html = (TEMPLATES / template).read_text()

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"\son[a-z]+\s*=", html) == []
    assert re.findall(r"\sstyle\s*=|<style", html) == []
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]*)"', html))


async def test_docs_is_swagger_ui_from_vendored_files(idle: Harness) -> None:
    page = await idle.client.get("/docs")
    assets = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    answers = {asset: await idle.client.get(asset) for asset in assets}

    assert page.status_code == 200
    assert sorted(assets) == [
        "/static/docs.js",
        f"/static/{SWAGGER_UI}/swagger-ui-bundle.js",
        f"/static/{SWAGGER_UI}/swagger-ui.css",
    ]
    assert all(answer.status_code == 200 for answer in answers.values())
    assert "SwaggerUIBundle" in answers[f"/static/{SWAGGER_UI}/swagger-ui-bundle.js"].text
    assert '"/openapi.json"' in answers["/static/docs.js"].text


async def test_metrics_are_open_without_a_token(idle: Harness) -> None:
    response = await idle.client.get("/metrics")

    assert response.status_code == 200
    assert "masthead_http_requests_total" in response.text


async def test_metrics_answer_only_the_bearer_of_the_token_when_one_is_set(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, metrics_token=SecretStr("scrape-me"))
    async with running_app(settings, run_worker=False) as app:
        missing = await app.client.get("/metrics")
        wrong = await app.client.get("/metrics", headers={"Authorization": "Bearer nope"})
        not_ascii = await app.client.get(
            "/metrics", headers={"Authorization": "Bearer scrape-mé".encode()}
        )
        right = await app.client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        health = await app.client.get("/healthz")

    assert [r.status_code for r in (missing, wrong, not_ascii)] == [401, 401, 401]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in missing.json()["message"]
    assert right.status_code == 200 and "masthead_http_requests_total" in right.text
    assert health.status_code == 200
