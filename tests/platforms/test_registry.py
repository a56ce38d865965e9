"""The registry is the one list of platforms, and each spec's facts hold together."""

from __future__ import annotations

from pathlib import Path

import pytest

from masthead.platforms.base import CommentsWriter
from masthead.platforms.registry import (
    BUDGETS,
    PLATFORMS,
    RULES,
    SPECS,
    TARGET_TYPES,
    build_publishers,
)
from masthead.platforms.spec import PlatformSpec
from tests.conftest import make_settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "platforms"


def test_every_platform_has_rules_and_every_rule_a_platform() -> None:
    assert list(SPECS) == list(TARGET_TYPES)
    assert set(RULES) == set(TARGET_TYPES)
    assert all(
        RULES[spec.name] is spec.rules and spec.rules.name == spec.name for spec in PLATFORMS
    )


async def test_each_spec_builds_the_publisher_of_its_name(tmp_path: Path) -> None:
    publishers = build_publishers(make_settings(tmp_path))
    try:
        assert [(name, p.platform) for name, p in publishers.items()] == [
            (spec.name, spec.name) for spec in PLATFORMS
        ]
    finally:
        for publisher in publishers.values():
            await publisher.aclose()


@pytest.mark.parametrize(
    "spec", [s for s in PLATFORMS if s.connect != "none"], ids=lambda spec: spec.name
)
def test_a_connectable_platform_has_a_doc_page(spec: PlatformSpec) -> None:
    assert (DOCS / f"{spec.doc_page}.md").is_file()


@pytest.mark.parametrize(
    "spec", [s for s in PLATFORMS if s.connect == "oauth"], ids=lambda spec: spec.name
)
def test_an_oauth_platform_reads_its_app_from_its_settings_prefix(
    spec: PlatformSpec, tmp_path: Path
) -> None:
    prefix = spec.prefix
    settings = make_settings(
        tmp_path, **{f"{prefix}_client_id": "id", f"{prefix}_client_secret": "s"}
    )
    app = spec.oauth_app(settings)
    assert app is not None and (app.client_id, app.client_secret) == ("id", "s")
    assert spec.client_id_setting == f"MASTHEAD_{prefix.upper()}_CLIENT_ID"
    assert spec.oauth_app(make_settings(tmp_path)) is None


def test_budgets_come_from_the_specs_that_set_them() -> None:
    assert BUDGETS["twitter"] is SPECS["twitter"].budgets
    assert "linkedin" not in BUDGETS  # LinkedIn publishes no per-post number


async def test_a_platform_that_writes_comments_has_their_text_limit_and_docs(
    tmp_path: Path,
) -> None:
    publishers = build_publishers(make_settings(tmp_path))
    try:
        writers = {n for n, p in publishers.items() if isinstance(p, CommentsWriter)}
    finally:
        for publisher in publishers.values():
            await publisher.aclose()
    assert {"twitter", "youtube", "bluesky", "threads"} <= writers
    for name in writers:
        assert SPECS[name].comments is not None, name
        assert "## Comments" in (DOCS / f"{SPECS[name].doc_page}.md").read_text(), name
    for name in set(SPECS) - writers:
        assert SPECS[name].comments is None, name
