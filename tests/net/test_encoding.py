"""net/encoding.py: which codings are undone, and that decoding stops at the cap."""

from __future__ import annotations

import gzip
import zlib

import httpx
import pytest

from masthead.net.encoding import (
    EncodingRefused,
    Inflater,
    Oversized,
    content_encoding,
    read_capped,
)

TEXT = b"did:plc:abcdefghijklmnopqrstuvwx\n" * 100


def _inflate(data: bytes, limit: int = 1 << 20) -> bytes:
    inflater = Inflater()
    inflater.feed(data)
    out = b""
    while piece := inflater.take(limit):
        assert len(piece) <= limit
        out += piece
    inflater.finish()
    return out


def _raw_deflate(data: bytes) -> bytes:
    squeeze = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return squeeze.compress(data) + squeeze.flush()


@pytest.mark.parametrize(
    "wire",
    [gzip.compress(TEXT), zlib.compress(TEXT), _raw_deflate(TEXT)],
    ids=["gzip", "zlib", "raw"],
)
def test_gzip_and_both_deflate_forms_are_decoded(wire: bytes) -> None:
    assert _inflate(wire) == TEXT
    assert _inflate(wire, limit=7) == TEXT


def test_a_body_cut_short_or_not_compressed_is_refused() -> None:
    with pytest.raises(EncodingRefused, match="ends before its end"):
        _inflate(gzip.compress(TEXT)[:-12])
    with pytest.raises(EncodingRefused, match="not valid"):
        _inflate(b"\xff" * 64)


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        (None, None),
        ("identity", None),
        ("GZIP", "gzip"),
        ("x-gzip", "x-gzip"),
        ("deflate", "deflate"),
    ],
)
def test_the_coding_to_undo(header: str | None, coding: str | None) -> None:
    headers = {"Content-Encoding": header} if header else {}
    assert content_encoding(httpx.Response(200, headers=headers)) == coding


@pytest.mark.parametrize("header", ["br", "zstd", "gzip, gzip", "compress"])
def test_other_codings_and_stacks_are_refused_by_name(header: str) -> None:
    with pytest.raises(EncodingRefused, match=f"Content-Encoding {header}"):
        content_encoding(httpx.Response(200, headers={"Content-Encoding": header}))


async def test_read_capped_decodes_and_refuses_past_the_cap() -> None:
    def answer(body: bytes, coding: str = "gzip") -> httpx.Response:
        headers = {"Content-Encoding": coding}
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))

    assert await read_capped(answer(gzip.compress(TEXT)), len(TEXT)) == TEXT
    with pytest.raises(Oversized):
        await read_capped(answer(gzip.compress(TEXT)), len(TEXT) - 1)
    with pytest.raises(Oversized):
        await read_capped(answer(TEXT, "identity"), len(TEXT) - 1)
