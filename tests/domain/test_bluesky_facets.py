"""Bluesky facets: which parts of a text are links, mentions and tags, in UTF-8 bytes."""

from __future__ import annotations

import pytest

from masthead.domain.bluesky_facets import (
    Span,
    SpanKind,
    build_facets,
    find_spans,
    is_handle,
    mentioned_handles,
)

LINK, MENTION, TAG = SpanKind.LINK, SpanKind.MENTION, SpanKind.TAG
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 25 bytes


def at(text: str, part: str, kind: SpanKind, value: str) -> Span:
    """The span of `part` in `text`, located by bytes (not by the code under test)."""
    start = text.encode().index(part.encode())
    return Span(kind, start, start + len(part.encode()), value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("no facets here", [], id="plain-text"),
        pytest.param(
            "https://example.com",
            [Span(LINK, 0, 19, "https://example.com")],
            id="link-alone",
        ),
        pytest.param(
            "héllo 👋 https://example.com #tag",
            [Span(LINK, 12, 31, "https://example.com"), Span(TAG, 32, 36, "tag")],
            id="offsets-count-bytes-not-characters",
        ),
        pytest.param(
            f"{FAMILY} http://a.example/x",
            [Span(LINK, 26, 44, "http://a.example/x")],
            id="a-zwj-family-is-25-bytes",
        ),
        pytest.param(
            "see https://example.com/a?b=1.",
            [Span(LINK, 4, 29, "https://example.com/a?b=1")],
            id="trailing-full-stop-is-not-part-of-the-link",
        ),
        pytest.param(
            "(see https://example.com)",
            [Span(LINK, 5, 24, "https://example.com")],
            id="closing-parenthesis-is-not-part-of-the-link",
        ),
        pytest.param(
            "https://en.wikipedia.org/wiki/Fish_(disambiguation)",
            [Span(LINK, 0, 51, "https://en.wikipedia.org/wiki/Fish_(disambiguation)")],
            id="balanced-parenthesis-stays-in-the-link",
        ),
        pytest.param("visit example.com today", [], id="bare-domains-are-not-linked"),
        pytest.param("xhttps://example.com", [], id="link-must-start-a-word"),
        pytest.param("try https://. or http://(", [], id="a-scheme-without-a-host-is-no-link"),
        pytest.param("@alice.test hi", [Span(MENTION, 0, 11, "alice.test")], id="mention-at-start"),
        pytest.param(
            "hi (@alice.test).",
            [Span(MENTION, 4, 15, "alice.test")],
            id="mention-in-parentheses-without-punctuation",
        ),
        pytest.param("mail me@alice.test", [], id="an-email-address-is-not-a-mention"),
        pytest.param("hey @alice", [], id="a-single-label-is-not-a-handle"),
        pytest.param("@alice.test_x", [], id="underscore-is-not-in-handles"),
        pytest.param("#tag", [Span(TAG, 0, 4, "tag")], id="tag"),
        pytest.param("#tag!", [Span(TAG, 0, 4, "tag")], id="trailing-punctuation-left-out"),
        pytest.param("#日本 語", [Span(TAG, 0, 7, "日本")], id="cjk-tag-is-3-bytes-a-character"),
        pytest.param("＃wide", [Span(TAG, 0, 7, "wide")], id="fullwidth-number-sign"),
        pytest.param("#123", [], id="digits-only-is-not-a-tag"),
        pytest.param("#1a", [Span(TAG, 0, 3, "1a")], id="digits-and-letters-is-a-tag"),
        pytest.param("a#b", [], id="hash-inside-a-word-is-not-a-tag"),
        pytest.param("#\ufe0f\u20e3", [], id="keycap-emoji-is-not-a-tag"),
        pytest.param("# alone", [], id="hash-alone-is-not-a-tag"),
        pytest.param("#" + "a" * 64, [Span(TAG, 0, 65, "a" * 64)], id="64-grapheme-tag"),
        pytest.param("#" + "a" * 65, [], id="65-grapheme-tag-is-refused-by-the-lexicon"),
        pytest.param("Cafe\u0301 #nfd", [Span(TAG, 7, 11, "nfd")], id="nfd-accent-is-2-more-bytes"),
        pytest.param("Caf\u00e9 #nfc", [Span(TAG, 6, 10, "nfc")], id="nfc-accent-is-2-bytes"),
    ],
)
def test_find_spans_gives_byte_exact_ranges(text: str, expected: list[Span]) -> None:
    assert find_spans(text) == expected
    for span in expected:  # every range cuts the text exactly around what it names
        part = text.encode()[span.byte_start : span.byte_end].decode()
        assert part.lstrip("#＃@") == span.value


def test_spans_of_every_kind_come_in_text_order() -> None:
    text = f"{FAMILY} #one @bob.test https://x.example #two"
    assert find_spans(text) == [
        at(text, "#one", TAG, "one"),
        at(text, "@bob.test", MENTION, "bob.test"),
        at(text, "https://x.example", LINK, "https://x.example"),
        at(text, "#two", TAG, "two"),
    ]


def test_mentions_are_resolved_once_per_handle_whatever_its_case() -> None:
    spans = find_spans("@Bob.Test and @bob.test and @carol.test")
    assert mentioned_handles(spans) == ["bob.test", "carol.test"]


def test_a_mention_that_did_not_resolve_stays_plain_text() -> None:
    text = "hi @bob.test and @ghost.test #t https://x.example"
    facets = build_facets(find_spans(text), {"bob.test": "did:plc:bob"})
    assert facets == [
        {
            "$type": "app.bsky.richtext.facet",
            "index": {"byteStart": 3, "byteEnd": 12},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob"}],
        },
        {
            "$type": "app.bsky.richtext.facet",
            "index": {"byteStart": 29, "byteEnd": 31},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "t"}],
        },
        {
            "$type": "app.bsky.richtext.facet",
            "index": {"byteStart": 32, "byteEnd": 49},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://x.example"}],
        },
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("alice.bsky.social", True),
        ("alice.test", True),
        ("a-b.c-d.example", True),
        ("alice", False),
        ("-alice.test", False),
        ("alice.123", False),
        ("a" * 64 + ".test", False),
    ],
)
def test_handle_syntax(value: str, expected: bool) -> None:
    assert is_handle(value) is expected
