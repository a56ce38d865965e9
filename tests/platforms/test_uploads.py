"""The kit's resumed upload: the file's bytes from where the platform says it stopped, in
chunks whose boundaries follow that offset."""

from __future__ import annotations

from masthead.platforms.uploads import chunks_from
from tests.support.media import StaticMedia

DATA = bytes(range(256)) * 4


async def resumed(offset: int, size: int) -> list[tuple[int, bytes]]:
    media = StaticMedia()
    file = media.add("https://m.test/video.mp4", DATA, "video/mp4")
    return [chunk async for chunk in chunks_from(media, file, offset, size)]


async def test_from_the_start_the_chunks_are_the_file_in_order() -> None:
    chunks = await resumed(0, 256)
    assert [start for start, _ in chunks] == [0, 256, 512, 768]
    assert b"".join(chunk for _, chunk in chunks) == DATA


async def test_a_resume_mid_chunk_starts_at_the_offset_and_keeps_whole_chunks_after_it() -> None:
    chunks = await resumed(300, 256)
    assert [(start, len(chunk)) for start, chunk in chunks] == [(300, 256), (556, 256), (812, 212)]
    assert b"".join(chunk for _, chunk in chunks) == DATA[300:]


async def test_a_resume_at_the_end_sends_nothing() -> None:
    assert await resumed(len(DATA), 256) == []
