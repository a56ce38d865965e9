"""The layers' import rules, read from the source so that they cannot quietly regress: the
doors `api/`, `mcp/` and `web/` never import each other, `media/` never imports `platforms/`,
`store/` imports none of the layers above it, and `domain/` imports nothing that does I/O
(only itself, `timeutil`'s clock and formats, the standard library's pure parts and pure
text libraries)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "masthead"
IO_MODULES = frozenset(
    {
        "aiohttp",
        "asyncio",
        "boto3",
        "fastapi",
        "httpx",
        "io",
        "os",
        "pathlib",
        "shutil",
        "socket",
        "sqlalchemy",
        "starlette",
        "subprocess",
    }
)


PURE_HELPERS = frozenset({"masthead.timeutil"})
"""Outside `domain/`, yet free of I/O: the clock and the compat timestamp format."""


def imports(package: str) -> list[tuple[str, str]]:
    """(file, imported module) for every import in a package of src/masthead."""
    found = []
    for path in sorted((SRC / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((path.name, node.module))
                found += [(path.name, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("api", "masthead.web"),
        ("api", "masthead.mcp"),
        ("web", "masthead.api"),
        ("web", "masthead.mcp"),
        ("mcp", "masthead.api"),
        ("mcp", "masthead.web"),
        ("media", "masthead.platforms"),
        *[
            ("store", f"masthead.{above}")
            for above in ("api", "web", "mcp", "dispatch", "services", "platforms", "media")
        ],
    ],
)
def test_a_package_does_not_import_its_forbidden_neighbour(package: str, forbidden: str) -> None:
    assert [(f, m) for f, m in imports(package) if within(m, forbidden)] == []


def test_domain_imports_nothing_with_io() -> None:
    wrong = [
        (file, module)
        for file, module in imports("domain")
        if (
            within(module, "masthead")
            and not within(module, "masthead.domain")
            and not any(within(module, pure) for pure in PURE_HELPERS)
        )
        or module.split(".")[0] in IO_MODULES
    ]
    assert wrong == []


def test_the_rules_see_imports() -> None:
    """The reader finds what it checks (a rule over nothing would always pass)."""
    assert ("session.py", "masthead.context") in imports("web")
    assert ("library.py", "masthead.domain.files") in imports("media")
    assert any(within(m, "masthead.domain") for _, m in imports("domain"))
