"""A post's file as the media pipeline knows it, and as publishers read it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One file of a post, already ingested and probed by the media pipeline (media/)."""

    url: str
    """Masthead's public URL of the file (what Meta, Threads and Pinterest fetch)."""
    content_type: str
    """Sniffed from the bytes: image/jpeg, image/png, image/gif, image/webp, video/mp4, ..."""
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    """Seconds, for video."""

    @property
    def is_video(self) -> bool:
        return self.content_type.startswith("video/")
