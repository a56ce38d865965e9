"""The wheel: built from this checkout, installed into a fresh venv outside it, it serves
(migrations, templates and static files come from the wheel) and publishes."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from masthead import __version__
from tests.support.deploy import REPO, command, publish, seed
from tests.support.receiver import Receiver
from tests.support.server import ServerProcess


def _run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    output = _run(
        sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps", "-w", dist, REPO, cwd=dist
    )
    # --verbose shows setuptools' own output, where it warns about a TOML-table license.
    assert "running bdist_wheel" in output
    assert "project.license" not in output
    (built,) = dist.glob("masthead-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with the wheel and its pinned dependencies (from pip's cache or PyPI)."""
    home = tmp_path_factory.mktemp("install")
    _run(sys.executable, "-m", "venv", home / "venv", cwd=home)
    _run(home / "venv" / "bin" / "pip", "install", "--quiet", wheel, cwd=home)
    yield home


def _outside_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}


def test_the_wheel_carries_templates_static_files_migrations_and_the_license(
    wheel: Path,
) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for wanted in (
        "masthead/store/migrations/env.py",
        "masthead/store/migrations/versions/0001_initial_schema.py",
        "masthead/web/templates/login.html",
        "masthead/web/static/style.css",
        "masthead/py.typed",
    ):
        assert wanted in names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: Apache-2.0" in text
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_installed_outside_the_checkout_it_serves_and_publishes(
    installed: Path, receiver: Receiver
) -> None:
    script = installed / "venv" / "bin" / "masthead"
    env = {
        **_outside_env(),
        "MASTHEAD_DATA_DIR": str(installed / "data"),
        "MASTHEAD_FETCH_ALLOW": receiver.allow,
    }
    where = subprocess.run(
        [installed / "venv" / "bin" / "python", "-c", "import masthead; print(masthead.__file__)"],
        cwd=installed,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(installed / "venv")), where
    masthead = command([str(script)], env)
    assert masthead("--version").strip() == f"masthead {__version__}"
    operator = seed(masthead)

    server = ServerProcess(installed / "data", env, command=[str(script)], cwd=installed)
    server.start(timeout=60)
    try:
        publish(server.base_url, operator, receiver, "from the wheel")
        login = httpx.get(f"{server.base_url}/login")
        assert login.status_code == 200 and "csrf_token" in login.text
        css = httpx.get(f"{server.base_url}/static/style.css")
        assert css.status_code == 200 and css.content
    finally:
        server.terminate()
