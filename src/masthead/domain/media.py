"""Checking a post's files against what its target accepts (pure: the facts come from media/).

Run at request time for media that is already hosted, and again right after ingest for URLs
that had to be fetched, so that a file a platform would refuse fails the post early with a
reason, instead of at publish time.
"""

from __future__ import annotations

from dataclasses import dataclass

from masthead.domain.errors import FieldError
from masthead.domain.rules import FileRules

_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
    "video/webm": "WebM",
}


@dataclass(frozen=True, slots=True)
class MediaFacts:
    """What the media pipeline learnt from a file's bytes."""

    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    """Seconds, for video."""
    frame_rate: float | None = None
    frames: int | None = None
    """Images: frame count (an animated GIF has more than one)."""
    video_codec: str | None = None
    audio_codec: str | None = None

    @property
    def is_video(self) -> bool:
        return self.content_type.startswith("video/")

    @property
    def animated(self) -> bool:
        return (self.frames or 1) > 1


def _name(content_type: str) -> str:
    return _NAMES.get(content_type, content_type)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def needs_conversion(rules: FileRules, facts: MediaFacts) -> bool:
    """Whether the file is published as a converted variant (see FileRules)."""
    if facts.is_video:
        return False
    if facts.content_type in rules.convertible and not facts.animated:
        return True
    return (
        rules.reencode_oversize
        and rules.max_image_bytes is not None
        and facts.size > rules.max_image_bytes
    )


def _check_one(rules: FileRules, target: str, facts: MediaFacts) -> str | None:
    kind = _name(facts.content_type)
    if facts.is_video:
        if facts.content_type not in rules.video_types:
            accepted = ", ".join(sorted(_name(t) for t in rules.video_types))
            return f"{target} does not accept {kind} video" + (
                f" (accepted: {accepted})" if accepted else " (it takes no video)"
            )
        if rules.max_video_bytes is not None and facts.size > rules.max_video_bytes:
            return (
                f"video is {_megabytes(facts.size)}; {target} accepts at most "
                f"{_megabytes(rules.max_video_bytes)}"
            )
        seconds = facts.duration
        if seconds is not None:
            if rules.min_video_seconds is not None and seconds < rules.min_video_seconds:
                return (
                    f"video is {seconds:g} s long; {target} needs at least "
                    f"{rules.min_video_seconds:g} s"
                )
            if rules.max_video_seconds is not None and seconds > rules.max_video_seconds:
                return (
                    f"video is {seconds:g} s long; {target} accepts at most "
                    f"{rules.max_video_seconds:g} s"
                )
        return None
    if facts.animated and facts.content_type not in rules.image_types:
        return f"{target} does not accept animated {kind} images"
    if facts.content_type not in rules.image_types | rules.convertible:
        accepted = ", ".join(sorted(_name(t) for t in rules.image_types | rules.convertible))
        return f"{target} does not accept {kind} images" + (
            f" (accepted: {accepted})" if accepted else " (it takes only video)"
        )
    limit = rules.max_gif_bytes if facts.animated and rules.max_gif_bytes else rules.max_image_bytes
    if limit is not None and facts.size > limit and not needs_conversion(rules, facts):
        return f"image is {_megabytes(facts.size)}; {target} accepts at most {_megabytes(limit)}"
    if rules.image_aspect is not None and facts.width and facts.height:
        low, high = rules.image_aspect
        ratio = facts.width / facts.height
        if not low - 0.005 <= ratio <= high + 0.005:
            return (
                f"image is {facts.width}x{facts.height} (aspect {ratio:.2f}); {target} accepts "
                f"aspect ratios from {low:g} (4:5) to {high:g}:1"
            )
    return None


def check_files(
    rules: FileRules, target: str, files: list[MediaFacts | None], path: str
) -> list[FieldError]:
    """Problems with one post's files; `path` is the `mediaUrls` field path. A None entry is
    a file not known yet (still to be fetched): it is checked after ingest."""
    problems: list[FieldError] = []
    known = [(index, facts) for index, facts in enumerate(files) if facts is not None]
    for index, facts in known:
        problem = _check_one(rules, target, facts)
        if problem:
            problems.append(FieldError(f"{path}[{index}]", problem))
    videos = [facts for _, facts in known if facts.is_video]
    images = [facts for _, facts in known if not facts.is_video]
    if rules.max_videos is not None and len(videos) > rules.max_videos:
        problems.append(
            FieldError(path, f"{target} takes at most {rules.max_videos} video per post")
        )
    if videos and images and not rules.mixed:
        problems.append(FieldError(path, f"{target} cannot mix images and video in one post"))
    if rules.gif_alone and len(files) > 1 and any(f.animated for f in images):
        problems.append(
            FieldError(path, f"{target} takes an animated GIF only as the post's single file")
        )
    return problems
