"""Regex character classes that stay fast when some members are astral.

``re`` compiles a class whose members all lie in the BMP into a bitmap, but a
single astral member turns it into a list of ranges tested one by one at every
position (25 times slower for the confusables class), and an alternation of
two classes loses the fast first-character scan. So callers keep two
patterns: a BMP class, and an astral one that tests the cheap "is astral"
range first and the real class only behind a look-behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["astral_class", "ranges"]


def ranges(chars: Iterable[str]) -> str:
    """The body of a character class holding ``chars``, as compact ranges."""
    spans: list[list[int]] = []
    for point in sorted({ord(c) for c in chars}):
        if spans and spans[-1][1] == point - 1:
            spans[-1][1] = point
        else:
            spans.append([point, point])
    return "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
        for low, high in spans
    )


def astral_class(chars: Iterable[str]) -> str:
    """A pattern matching one astral member of ``chars`` (never matches if there are none)."""
    body = ranges(c for c in chars if ord(c) > 0xFFFF)
    return f"[\U00010000-\U0010ffff](?<=[{body}])" if body else "(?!)"
