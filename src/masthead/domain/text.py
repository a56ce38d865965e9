"""Text measured the way each platform measures it: X weight, graphemes, UTF-8 bytes.

The same string has four different "lengths"; counting it the wrong way accepts posts the
platform will refuse (or refuses ones it would take). Pure functions, no I/O.
"""

from __future__ import annotations

import unicodedata

import regex  # type: ignore[import-untyped]
from twitter_text import extract_urls, parse_tweet
from twitter_text.config import config as _twitter_config

_X_V3 = _twitter_config["version3"]
"""twitter-text v3 (shared/specs/x/twitter-text/config/v3.json): scale 100, URLs 23."""

X_MAX_SCAN = 65_536
"""Code points beyond which a text can never fit in 280 weighted characters.

The lightest content is a URL: at most 4096 characters (twitter-text's `max_url_length`) weigh
23, so 280 allows at most 12 of them (~49,200 code points) plus a few emoji. Texts longer than
this are refused without the exact (slow, ~5 µs per character) weighted count.
"""

_GRAPHEME = regex.compile(r"\X")
_HASHTAG = regex.compile(r"(?<![\w&#])#\w+")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
"""A grapheme holding one of these is an emoji (pictographs, flags, keycaps such as 1️⃣)."""
_SCHEME = regex.compile(r"^https?://", regex.IGNORECASE)


def x_weighted_length(text: str) -> int:
    """X's length of `text` (twitter-text v3): NFC first, each URL 23, most CJK and emoji 2."""
    result = parse_tweet(unicodedata.normalize("NFC", text), _X_V3)
    return int(result.weightedLength)


def grapheme_count(text: str) -> int:
    """User-perceived characters (extended grapheme clusters), as Bluesky counts them."""
    return sum(1 for _ in _GRAPHEME.finditer(text))


def utf8_len(text: str) -> int:
    """Bytes in UTF-8 (Bluesky's 3000 and YouTube's 5000 are bytes, not characters)."""
    return len(text.encode("utf-8", "surrogatepass"))


def hashtag_count(text: str) -> int:
    """`#word` tags in `text` (Instagram refuses captions with too many)."""
    return sum(1 for _ in _HASHTAG.finditer(text))


def emoji_weighted_length(text: str) -> int:
    """Threads' length: graphemes, except that an emoji counts its UTF-8 bytes ("Emojis are
    counted as the number of UTF-8 bytes", Threads posts doc; 😀 is 4, 👍🏽 is 8)."""
    return sum(
        utf8_len(match[0]) if _EMOJI.search(match[0]) else 1 for match in _GRAPHEME.finditer(text)
    )


def link_count(text: str) -> int:
    """Distinct links as Threads counts them: URLs written with a scheme (`https://…`) or
    starting `www.`; other bare domains are not counted, to avoid refusing text like
    `setup.py`. The same link twice is one link (scheme, case and a final / aside)."""
    found = extract_urls(text, extract_urls_without_protocol=True)
    return len(
        {
            _SCHEME.sub("", url).rstrip("/").lower()
            for url in found
            if _SCHEME.match(url) or url[:4].lower() == "www."
        }
    )
