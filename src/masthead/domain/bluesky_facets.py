"""Bluesky rich text: where the links, mentions and hashtags of a post's text are.

Bluesky does not find them itself: a post carries `facets`, each a range of the text in UTF-8
*bytes* (end exclusive) and what the range means (lexicon app.bsky.richtext.facet). Getting a
byte wrong shifts or cuts the link in every reader's app, so this is pure logic, tested on its
own. Detection follows the reference client (atproto packages/api rich-text detection), with
one deliberate difference: only links written with `http://` or `https://` become links,
because telling `example.com` from `setup.py` needs the list of top-level domains.

Mentions are found here by their handle; the publisher resolves each handle to a DID and a
handle that does not resolve stays plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import regex  # type: ignore[import-untyped]

from masthead.domain.text import grapheme_count, utf8_len

_ZERO_WIDTH = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_MENTION = regex.compile(r"(?:^|(?<=[\s(]))@([a-zA-Z0-9.-]+)(?<=[a-zA-Z0-9])(?![a-zA-Z0-9_])")
_LINK = regex.compile(r"(?:^|(?<=[\s(]))https?://\S+", regex.IGNORECASE)
_TAG = regex.compile(
    rf"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^\s{_ZERO_WIDTH}]*[^\d\s\p{{P}}{_ZERO_WIDTH}]+"
    rf"[^\s{_ZERO_WIDTH}]*)"
)
_HOST = regex.compile(r"^[\w.:-]+$")
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")
_HANDLE = regex.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)

TAG_MAX_GRAPHEMES = 64
TAG_MAX_BYTES = 640
"""Lexicon app.bsky.richtext.facet#tag: a longer tag makes the PDS refuse the whole post."""


class SpanKind(StrEnum):
    LINK = "link"
    MENTION = "mention"
    TAG = "tag"


@dataclass(frozen=True, slots=True)
class Span:
    """One facet candidate: `value` is the URI, the handle (no `@`) or the tag (no `#`)."""

    kind: SpanKind
    byte_start: int
    byte_end: int
    value: str


def is_handle(value: str) -> bool:
    """atproto handle syntax (a domain name of at least two labels, at most 253 characters)."""
    return len(value) <= 253 and _HANDLE.match(value) is not None


def find_spans(text: str) -> list[Span]:
    """Every link, mention and hashtag of `text`, in text order."""
    spans = [*_links(text), *_mentions(text), *_tags(text)]
    return sorted(spans, key=lambda span: span.byte_start)


def mentioned_handles(spans: list[Span]) -> list[str]:
    """The distinct handles to resolve, lowercased (handles are case-insensitive)."""
    return sorted({span.value.lower() for span in spans if span.kind is SpanKind.MENTION})


def build_facets(spans: list[Span], dids: Mapping[str, str]) -> list[dict[str, Any]]:
    """The `facets` of a post record. A mention whose handle is not in `dids` is left out, so
    its text stays plain rather than pointing at nobody."""
    facets: list[dict[str, Any]] = []
    for span in spans:
        feature: dict[str, Any]
        if span.kind is SpanKind.LINK:
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
        elif span.kind is SpanKind.TAG:
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
        else:
            did = dids.get(span.value.lower())
            if did is None:
                continue
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        facets.append(
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
                "features": [feature],
            }
        )
    return facets


def _span(text: str, kind: SpanKind, start: int, end: int, value: str) -> Span:
    byte_start = utf8_len(text[:start])
    return Span(kind, byte_start, byte_start + utf8_len(text[start:end]), value)


def _links(text: str) -> list[Span]:
    spans = []
    for match in _LINK.finditer(text):
        uri = match.group()
        if uri[-1] in ".,;:!?":  # the sentence's punctuation, not the URL's
            uri = uri[:-1]
        if uri.endswith(")") and "(" not in uri:  # "(see https://example.com)"
            uri = uri[:-1]
        if not _HOST.match(urlsplit(uri).hostname or ""):  # the PDS refuses a link to nowhere
            continue
        spans.append(_span(text, SpanKind.LINK, match.start(), match.start() + len(uri), uri))
    return spans


def _mentions(text: str) -> list[Span]:
    spans = []
    for match in _MENTION.finditer(text):
        handle = match.group(1)
        if is_handle(handle):
            spans.append(_span(text, SpanKind.MENTION, match.start(), match.end(), handle))
    return spans


def _tags(text: str) -> list[Span]:
    spans = []
    for match in _TAG.finditer(text):
        tag = _TRAILING_PUNCTUATION.sub("", match.group(1).strip())
        if not tag or grapheme_count(tag) > TAG_MAX_GRAPHEMES or utf8_len(tag) > TAG_MAX_BYTES:
            continue
        start = match.start()
        spans.append(_span(text, SpanKind.TAG, start, start + 1 + len(tag), tag))
    return spans
