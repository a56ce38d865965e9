"""Test folders mirror `src/masthead/`: the tests of `src/masthead/<pkg>/<mod>.py` live in
`tests/<pkg>/`, a platform's in `tests/platforms/<its module>/`, so that a reader finds a
module's tests by its path. Only the folders that serve every test, or test the project from
outside its package, have no source of their own."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src" / "masthead"
OUTSIDE_THE_PACKAGE = frozenset({"support", "fakes", "contract", "packaging", "bench"})
"""Shared fixtures and fakes, whole-API fuzzing, the built image and wheel, the benchmarks'
own code (`bench/` beside `src/`)."""


def mirrored_folders(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_dir()
        and (path / "__init__.py").exists()
        and path.relative_to(TESTS).parts[0] not in OUTSIDE_THE_PACKAGE
    )


def test_every_test_folder_is_named_after_a_source_package_or_module() -> None:
    strays = [
        str(folder.relative_to(TESTS))
        for folder in mirrored_folders(TESTS)
        if not (SRC / folder.relative_to(TESTS)).is_dir()
        and not (SRC / folder.relative_to(TESTS)).with_suffix(".py").is_file()
    ]
    assert strays == [], f"test folders with no src/masthead package or module: {strays}"


def test_every_folder_let_off_the_rule_exists() -> None:
    assert {p for p in OUTSIDE_THE_PACKAGE if (TESTS / p).is_dir()} == OUTSIDE_THE_PACKAGE
