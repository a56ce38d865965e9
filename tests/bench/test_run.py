"""`make bench`'s command line (bench/run.py): one part or several picked by name."""

from __future__ import annotations

import pytest
from bench.run import PARTS, parse_args


def skipped(argv: list[str]) -> set[str]:
    args = parse_args(argv)
    return {name for name in PARTS if getattr(args, f"skip_{name}")}


def test_every_part_runs_unless_told_otherwise() -> None:
    assert skipped([]) == set()


def test_only_runs_the_parts_it_names() -> None:
    assert skipped(["--only", "dispatch", "--only", "soak"]) == set(PARTS) - {"dispatch", "soak"}


def test_skip_leaves_out_the_part_it_names() -> None:
    assert skipped(["--skip-media", "--skip-scale"]) == {"media", "scale"}


@pytest.mark.parametrize("argv", [["--only", "dispach"], ["--only", "soak", "--skip-media"]])
def test_a_part_that_does_not_exist_or_a_mix_of_only_and_skip_is_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert "--only" in capsys.readouterr().err
