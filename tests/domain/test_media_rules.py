"""The per-target file rules (domain/media.py), checked directly: no I/O, one table."""

from __future__ import annotations

import pytest

from masthead.domain.media import MediaFacts, check_files, needs_conversion
from masthead.platforms.registry import RULES

MB = 1024 * 1024
JPEG = MediaFacts("image/jpeg", 1 * MB, 1080, 1080)
PNG = MediaFacts("image/png", 1 * MB, 1080, 1080)
WEBP = MediaFacts("image/webp", 1 * MB, 1080, 1080)
GIF = MediaFacts("image/gif", 1 * MB, 400, 400, frames=12)
STILL_GIF = MediaFacts("image/gif", 1 * MB, 400, 400, frames=1)
MP4 = MediaFacts("video/mp4", 20 * MB, 1080, 1920, duration=30.0)
WEBM = MediaFacts("video/webm", 20 * MB, 1080, 1920, duration=30.0)


def problems(target: str, *files: MediaFacts, media_type: str | None = None) -> list[str]:
    rules = RULES[target].files_for(media_type)
    return [e.render() for e in check_files(rules, target, list(files), "m")]


@pytest.mark.parametrize(
    ("target", "files", "media_type"),
    [
        ("twitter", (JPEG, JPEG, PNG, WEBP), None),
        ("twitter", (GIF,), None),
        ("twitter", (MP4,), None),
        ("bluesky", (MediaFacts("image/jpeg", 3 * MB, 4000, 3000),), None),  # re-encoded
        ("instagram", (PNG,), None),  # converted to JPEG
        ("instagram", (JPEG, MP4, JPEG), None),  # carousels may mix
        ("instagram", (MediaFacts("image/jpeg", MB, 1080, 1920),), "story"),
        ("tiktok", (PNG, WEBP), None),
        ("youtube", (WEBM,), None),
        ("webhook", (JPEG, MP4, GIF, WEBM), None),
        ("pinterest", (STILL_GIF,), None),
    ],
)
def test_accepted(target: str, files: tuple[MediaFacts, ...], media_type: str | None) -> None:
    assert problems(target, *files, media_type=media_type) == []


@pytest.mark.parametrize(
    ("target", "files", "media_type", "expected"),
    [
        ("twitter", (MediaFacts("image/jpeg", 6 * MB),), None, "accepts at most 5.0 MB"),
        ("twitter", (MediaFacts("image/gif", 16 * MB, frames=2),), None, "at most 15.0 MB"),
        ("twitter", (MediaFacts("video/mp4", MB, duration=0.2),), None, "at least 0.5 s"),
        ("twitter", (GIF, JPEG), None, "animated GIF only as the post's single file"),
        ("twitter", (WEBM,), None, "does not accept WebM video (accepted: MOV, MP4)"),
        ("twitter", (MP4, MP4), None, "at most 1 video per post"),
        ("bluesky", (MP4, JPEG), None, "cannot mix images and video"),
        ("threads", (GIF,), None, "does not accept animated GIF images"),
        ("instagram", (MediaFacts("image/jpeg", MB, 1080, 1920),), None, "aspect ratios"),
        ("instagram", (MediaFacts("video/mp4", MB, duration=120),), "story", "at most 90 s"),
        ("instagram", (MediaFacts("image/jpeg", 9 * MB, 1080, 1080),), None, "at most 8.0 MB"),
        ("youtube", (JPEG,), None, "does not accept JPEG images (it takes only video)"),
        ("facebook", (MediaFacts("video/mp4", MB, duration=2.0),), None, "at least 3 s"),
        ("linkedin", (MediaFacts("video/mp4", 600 * MB, duration=60),), None, "at most 500.0 MB"),
    ],
)
def test_refused(
    target: str, files: tuple[MediaFacts, ...], media_type: str | None, expected: str
) -> None:
    found = problems(target, *files, media_type=media_type)
    assert found, f"{target} accepted {files}"
    assert expected in found[0]


def test_unknown_files_are_left_for_after_ingest() -> None:
    rules = RULES["youtube"].files
    assert check_files(rules, "youtube", [None, None], "m") == []


def test_problem_names_the_file_index() -> None:
    rules = RULES["twitter"].files
    errors = check_files(rules, "twitter", [JPEG, MediaFacts("image/jpeg", 9 * MB)], "p.mediaUrls")
    assert errors[0].path == "p.mediaUrls[1]"


@pytest.mark.parametrize(
    ("target", "facts", "expected"),
    [
        ("instagram", PNG, True),
        ("instagram", JPEG, False),
        ("bluesky", MediaFacts("image/jpeg", 2_000_001), True),
        ("bluesky", MediaFacts("image/jpeg", 2_000_000), False),
        ("pinterest", GIF, False),  # animation is never flattened silently
        ("twitter", MP4, False),
    ],
)
def test_needs_conversion(target: str, facts: MediaFacts, expected: bool) -> None:
    assert needs_conversion(RULES[target].files, facts) is expected
