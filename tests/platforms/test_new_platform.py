"""A new platform is its module and its registry line: every list of platforms (the API
schema, validation, the MCP tools, the CLI, the web UI's cards and filters, the budgets) takes
it up without another edit. Proved on a copy of the source with a made-up Mastodon added the
way docs/adding-a-platform.md says, imported fresh in a child process (the lists are built
at import time)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "masthead"
MADE_UP = Path(__file__).resolve().parents[1] / "support" / "made_up_platform"


SOCIAL = {
    "twitter",
    "linkedin",
    "facebook",
    "instagram",
    "tiktok",
    "pinterest",
    "threads",
    "bluesky",
    "youtube",
}


def _with_mastodon(tmp_path: Path) -> Path:
    # What a contributor writes: the module, and its line in the registry (import and entry).
    root = tmp_path / "src"
    shutil.copytree(SRC, root / "masthead", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(MADE_UP / "mastodon.py", root / "masthead" / "platforms" / "mastodon.py")
    registry = root / "masthead" / "platforms" / "registry.py"
    text = registry.read_text()
    text = text.replace("    linkedin,\n", "    linkedin,\n    mastodon,\n", 1)
    text = text.replace("    webhook.SPEC,\n", "    webhook.SPEC,\n    mastodon.SPEC,\n", 1)
    registry.write_text(text)
    return root


def test_a_new_module_and_its_registry_line_reach_every_list_of_platforms(
    tmp_path: Path,
) -> None:
    root = _with_mastodon(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(root)}
    env = {key: value for key, value in env.items() if not key.startswith("MASTHEAD_")}
    child = subprocess.run(
        [sys.executable, str(MADE_UP / "checks.py"), str(tmp_path)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout.splitlines()[-1])

    # Every enum that lists the social platforms lists the new one too.
    for door in ("openapi", "mcp"):
        platform_lists = [e for e in seen[door] if set(e) >= SOCIAL]
        assert platform_lists, door
        assert all("mastodon" in e for e in platform_lists), door
    assert seen["valid"] is None
    assert seen["too_long"] == "post.content.text: is 501 characters long; mastodon allows 500"
    assert "mastodon" in seen["cli"]
    assert "mastodon" in seen["web_filters"]
    assert "Mastodon" in seen["cards"]
    assert seen["budget"] == [300, 300]
