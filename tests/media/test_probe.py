"""Probing a video: MediaInfo is pointed at the sniffed container's parser first, so that a
large file under a temp name is not scanned by every other format's parser before it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pymediainfo import MediaInfo

from masthead.media.inspect import inspect
from tests.support import samples


@pytest.mark.parametrize(
    ("container", "content_type", "parser"),
    [
        ("mp4", "video/mp4", "MPEG-4"),
        ("mov", "video/quicktime", "MPEG-4"),
        ("webm", "video/webm", "Matroska"),
    ],
)
def test_the_sniffed_containers_parser_goes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, container: str, content_type: str, parser: str
) -> None:
    asked: list[dict[str, str] | None] = []
    real_parse = MediaInfo.parse

    def parse(filename: Any, **kwargs: Any) -> Any:
        asked.append(kwargs.get("mediainfo_options"))
        return real_parse(filename, **kwargs)

    monkeypatch.setattr(MediaInfo, "parse", parse)
    path = tmp_path / "ingest-x.part"  # a temp name: no extension to go by
    path.write_bytes(samples.video(container=container))

    facts = inspect(path, path.stat().st_size)

    assert (facts.content_type, facts.width, facts.duration) == (content_type, 320, 2.0)
    assert asked == [{"File_ForceParser": parser}]
