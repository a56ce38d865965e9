"""LinkedIn commentary: every reserved character escaped so LinkedIn never cuts the text."""

from __future__ import annotations

import pytest

from masthead.domain.linkedin_text import RESERVED, escape_little_text


@pytest.mark.parametrize("char", sorted(RESERVED - {"#"}))
def test_each_reserved_character_is_backslash_escaped(char: str) -> None:
    assert escape_little_text(f"a{char}b") == f"a\\{char}b"


def test_plain_text_and_unicode_pass_unchanged() -> None:
    assert escape_little_text("Héllo, wörld! 50% off: ünïcode 🎉 & more.") == (
        "Héllo, wörld! 50% off: ünïcode 🎉 & more."
    )


def test_hashtags_become_linkedin_hashtag_templates() -> None:
    assert escape_little_text("Launch #Python3 today") == ("Launch {hashtag|\\#|Python3} today")


def test_a_hash_that_starts_no_word_is_escaped_not_a_hashtag() -> None:
    assert escape_little_text("C# and # alone and ##x") == "C\\# and \\# alone and \\#\\#x"


def test_text_that_linkedin_used_to_cut_is_kept_whole() -> None:
    text = "Read (part 1) [draft] <now> @team | {x} *bold* _it_ ~s~ back\\slash"
    escaped = escape_little_text(text)
    assert escaped == (
        "Read \\(part 1\\) \\[draft\\] \\<now\\> \\@team \\| \\{x\\} \\*bold\\* \\_it\\_ "
        "\\~s\\~ back\\\\slash"
    )
    unescaped = escaped.replace("\\\\", "\x00").replace("\\", "").replace("\x00", "\\")
    assert unescaped == text


def test_underscore_ends_a_hashtag_and_is_escaped() -> None:
    assert escape_little_text("#foo_bar") == "{hashtag|\\#|foo}\\_bar"
