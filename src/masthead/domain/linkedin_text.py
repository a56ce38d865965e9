"""LinkedIn's Little Text Format for `commentary`: reserved characters escaped.

LinkedIn reads `commentary` as Little Text Format, where `| { } @ [ ] ( ) < > # \\ * _ ~`
are markup; an unescaped one makes LinkedIn cut the post at that character without an error
(platform-notes 3.2). Every reserved character is therefore written with a backslash, except
that a `#word` becomes LinkedIn's hashtag template, so hashtags still link as users expect.
"""

from __future__ import annotations

import re

RESERVED = frozenset("|{}@[]()<>#\\*_~")
"""PN 3.2: the reserved characters of Little Text Format."""

_HASHTAG = re.compile(r"(?<![\w#])#([^\W_]+)")
"""A `#` starting a word (not inside one, not `##`), followed by letters or digits."""


def escape_little_text(text: str) -> str:
    """`text` as LinkedIn must receive it to show it exactly, whole."""
    out: list[str] = []
    position = 0
    for match in _HASHTAG.finditer(text):
        out.append(_escape(text[position : match.start()]))
        out.append("{hashtag|\\#|" + match.group(1) + "}")
        position = match.end()
    out.append(_escape(text[position:]))
    return "".join(out)


def _escape(text: str) -> str:
    return "".join("\\" + char if char in RESERVED else char for char in text)
