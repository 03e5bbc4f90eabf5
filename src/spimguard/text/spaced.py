"""Join words spelled out letter by letter: "f r e e", "c.a.s.h", "w-i-n".

A run is three or more single letters (any script) with the same separator
between them: one space, ".", "-", "_" or "*". A longer gap ends the run, so
"f r e e  m o n e y" (two spaces between the words) gives "free money". This
must therefore see the text before whitespace is collapsed.

Left alone: two-letter abbreviations ("u.s.", "e.g."), runs that are part of a
host name or path ("x.y.z.com", "/a/b/c"), and runs touching a longer word.
Also left alone: three space-separated letters that are all chat shorthand
words ("u r a", "i c ü"). Blind spots: that also keeps "b u y"; a
single-letter word before a spelled-out one is swallowed ("a w i n n e r"
gives "awinner").
"""

from __future__ import annotations

import re

from spimguard.text.tricks import SPACED

__all__ = ["join_spaced"]

_LETTER = r"[^\W\d_]"
_END = r"(?![^\W_])"  # not followed by a letter or digit ("_" may be the separator)
# Possessive repetition: a run that fails the look-ahead is not retried shorter,
# so the scan stays linear even on "a.a.a.a…" megabytes long.
_SPACED_RE = re.compile(
    rf"(?<![\w.*/@:-]){_LETTER}([ .*_-]){_LETTER}(?:\1{_LETTER}{_END})++(?![.*_/@:-]\w)"
)
# Two single letters in a row ("␣b␣c"): cheap to scan for (it starts with a plain
# character class), and rare enough in chat that the full pattern seldom runs.
_GATE_RE = re.compile(rf"([ .*_-]){_LETTER}\1{_LETTER}{_END}")


# Chat shorthand spells single-letter words ("u r a star", "i c u"); three of them
# in a row is not a spelled-out word.
_SHORTHAND_LETTERS = frozenset("abcdiknoruyü")


def _join(match: re.Match[str]) -> str:
    run = match.group()
    if len(run) == 5 and match.group(1) == " " and _SHORTHAND_LETTERS.issuperset(run[::2]):
        return run
    return run.replace(match.group(1), "")


def join_spaced(text: str, tricks: set[str]) -> str:
    """Return ``text`` with spelled-out words joined, adding ``spaced`` if any was."""
    if _GATE_RE.search(text) is None:
        return text
    joined = _SPACED_RE.sub(_join, text)
    if joined != text:
        tricks.add(SPACED)
    return joined
