"""HTTP Range requests (RFC 9110 section 14) for hosted media: platforms and browsers fetch
video in ranges and resume interrupted downloads with them."""

from __future__ import annotations

from dataclasses import dataclass

from masthead.domain.inputs import ascii_int


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int
    """Exclusive."""

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


class Unsatisfiable(Exception):
    """416: the range lies outside the file."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """None means "send the whole file" (no header, a unit other than bytes, a malformed
    header, or several ranges, which servers may answer with the full file)."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    start, end = ascii_int(first.strip()), ascii_int(last.strip())
    if first.strip() == "":
        if end is None or end == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - end), size)
    if start is None or (last.strip() and end is None):
        return None
    if end is not None and end < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return ByteRange(start, size if end is None else min(end + 1, size))
