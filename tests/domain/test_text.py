"""Text is measured the way each platform measures it (X weight, graphemes, UTF-8 bytes)."""

from __future__ import annotations

import pytest

from masthead.domain.text import (
    X_MAX_SCAN,
    emoji_weighted_length,
    grapheme_count,
    hashtag_count,
    link_count,
    utf8_len,
    x_weighted_length,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦, 7 code points
THUMBS_UP_MEDIUM = "\U0001f44d\U0001f3fd"  # 👍🏽, emoji + skin tone
FLAG_FR = "\U0001f1eb\U0001f1f7"  # 🇫🇷, two regional indicators
LONG_URL = "https://example.com/" + "a" * 200 + "?q=1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", 0, id="empty-is-0"),
        pytest.param("a" * 280, 280, id="280-ascii-letters-weigh-280"),
        pytest.param("a" * 281, 281, id="281-ascii-letters-weigh-281"),
        pytest.param("https://example.com", 23, id="a-short-url-weighs-23"),
        pytest.param(LONG_URL, 23, id="a-long-url-weighs-23"),
        pytest.param("see example.com now", 31, id="a-bare-domain-is-a-url-too"),
        pytest.param("日本語", 6, id="cjk-weighs-2-each"),
        pytest.param("한국어", 6, id="hangul-weighs-2-each"),
        pytest.param("\U0001f600", 2, id="an-emoji-weighs-2"),
        pytest.param(FAMILY, 2, id="a-zwj-family-weighs-2-not-7"),
        pytest.param(THUMBS_UP_MEDIUM, 2, id="emoji-with-skin-tone-weighs-2"),
        pytest.param("e\u0301", 1, id="nfc-composes-e-acute-into-one-character"),
        pytest.param("\u2014", 1, id="em-dash-is-in-a-weight-1-range"),
        pytest.param("a\r\nb", 3, id="crlf-counts-as-one-newline"),
        pytest.param("english 日本語 \U0001f637 https://example.com", 41, id="mixed-text"),
    ],
)
def test_x_weighted_length_follows_twitter_text_v3(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("q\u0301", 2, id="combining-mark-without-precomposed-form-weighs-1-more"),
        pytest.param("\u0301", 1, id="a-lone-combining-mark-weighs-1"),
        pytest.param("a\u0308\u0301", 2, id="nfc-composes-only-what-has-a-precomposed-form"),
        pytest.param("e\u0301" * 280, 280, id="280-nfd-e-acutes-fit-like-280-nfc-ones"),
        pytest.param("\u00e9" * 280, 280, id="280-nfc-e-acutes-fit"),
        pytest.param("\u1112\u1161\u11ab", 2, id="nfd-hangul-jamo-compose-to-one-syllable"),
        pytest.param("\u0915\u094d\u0937", 3, id="devanagari-conjunct-counts-code-points"),
        pytest.param("1\ufe0f\u20e3", 2, id="keycap-emoji-sequence-weighs-2"),
        pytest.param("\U0001f3f3\ufe0f\u200d\U0001f308", 2, id="zwj-flag-sequence-weighs-2"),
        pytest.param("\U0001f469\U0001f3fd\u200d\U0001f4bb", 2, id="zwj-with-skin-tone-weighs-2"),
        pytest.param("\U0001f1ef\U0001f1f5", 2, id="regional-indicator-flag-weighs-2"),
        pytest.param("\U0001f44d\U0001f3fdhttps://example.com", 25, id="emoji-then-url"),
        pytest.param("x.com/a?b=c and more", 32, id="bare-domain-with-query-is-one-url"),
        pytest.param("https://例え.jp/パス", 27, id="idn-url-ends-before-cjk-path"),
        pytest.param("\uff26\uff55\uff4c\uff4c", 8, id="fullwidth-latin-weighs-2-each"),
        pytest.param("\u200b", 1, id="zero-width-space-is-in-a-weight-1-range"),
        pytest.param("\u2026", 2, id="ellipsis-is-outside-the-weight-1-ranges"),
    ],
)
def test_x_weighted_length_of_tricky_unicode(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


def test_x_max_scan_is_beyond_anything_that_can_weigh_280() -> None:
    # twelve maximal URLs (4096 characters each) is the lightest way to fill 280.
    assert X_MAX_SCAN > 12 * 4096 + 280


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("abc", 3, id="ascii"),
        pytest.param(FAMILY, 1, id="zwj-family-is-one-grapheme"),
        pytest.param(FLAG_FR, 1, id="flag-is-one-grapheme"),
        pytest.param("e\u0301", 1, id="letter-plus-combining-accent-is-one-grapheme"),
        pytest.param("\u1100\u1161\u11a8", 1, id="hangul-jamo-syllable-is-one-grapheme"),
        pytest.param("a\r\nb", 3, id="crlf-is-one-grapheme"),
        pytest.param(THUMBS_UP_MEDIUM, 1, id="emoji-with-skin-tone-is-one-grapheme"),
        pytest.param("\U0001f3f3\ufe0f\u200d\U0001f308", 1, id="rainbow-flag-zwj-is-one"),
        pytest.param("1\ufe0f\u20e3", 1, id="keycap-is-one-grapheme"),
        pytest.param(
            "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
            1,
            id="england-flag-tag-sequence-is-one-grapheme",
        ),
        pytest.param("日本語", 3, id="cjk-one-grapheme-each"),
        pytest.param("한국어", 3, id="precomposed-hangul-one-each"),
        pytest.param("\u00e9", 1, id="nfc-e-acute-is-one"),
        pytest.param("e\u0301", 1, id="nfd-e-acute-is-one-too"),
        pytest.param("e\u0301\u0323\u0302", 1, id="stacked-combining-marks-are-one"),
        pytest.param("\u0928\u092e\u0938\u094d\u0924\u0947", 3, id="devanagari-conjunct"),
    ],
)
def test_grapheme_count_counts_what_a_reader_sees(text: str, expected: int) -> None:
    assert grapheme_count(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("a", 1, id="ascii-1-byte"),
        pytest.param("é", 2, id="latin-accent-2-bytes"),
        pytest.param("日", 3, id="cjk-3-bytes"),
        pytest.param("\U0001f600", 4, id="emoji-4-bytes"),
        pytest.param(FAMILY, 25, id="zwj-family-25-bytes"),
    ],
)
def test_utf8_len_counts_bytes(text: str, expected: int) -> None:
    assert utf8_len(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("no tags", 0, id="none"),
        pytest.param("#one #two", 2, id="two-tags"),
        pytest.param("#日本", 1, id="unicode-tag"),
        pytest.param("a#b", 0, id="hash-inside-a-word-is-not-a-tag"),
        pytest.param("&#123; entity", 0, id="html-entity-is-not-a-tag"),
        pytest.param("# alone", 0, id="hash-alone-is-not-a-tag"),
    ],
)
def test_hashtag_count(text: str, expected: int) -> None:
    assert hashtag_count(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("no links", 0, id="none"),
        pytest.param("https://a.com and http://b.org/x", 2, id="two-links"),
        pytest.param("run setup.py", 0, id="bare-file-names-are-not-links"),
        pytest.param("see www.example.com", 1, id="www-without-a-scheme"),
        pytest.param("https://a.com https://a.com HTTPS://A.COM/", 1, id="one-link-thrice"),
        pytest.param("www.a.com https://www.a.com", 1, id="same-link-with-and-without-scheme"),
        pytest.param("https://a.com/x https://a.com/y", 2, id="different-paths"),
    ],
)
def test_link_count_counts_distinct_links_with_a_scheme_or_www(text: str, expected: int) -> None:
    assert link_count(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("abc", 3, id="ascii"),
        pytest.param("😀", 4, id="emoji-4-bytes"),
        pytest.param("👍🏽", 8, id="skin-tone-8-bytes"),
        pytest.param("🇫🇷", 8, id="flag-8-bytes"),
        pytest.param("1️⃣", 7, id="keycap-7-bytes"),
        pytest.param("日本", 2, id="cjk-is-not-emoji"),
        pytest.param("e\u0301", 1, id="one-grapheme"),
    ],
)
def test_emoji_weighted_length_counts_emoji_as_utf8_bytes(text: str, expected: int) -> None:
    assert emoji_weighted_length(text) == expected
