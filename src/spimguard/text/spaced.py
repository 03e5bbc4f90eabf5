"""Join words spelled out letter by letter: "f r e e", "c.a.s.h", "w-i-n".

A run is three or more single letters (any script) with the same separator
between them: one space, ".", "-", "_" or "*". A longer gap ends the run, so
"f r e e  m o n e y" (two spaces between the words) gives "free money". This
must therefore see the text before whitespace is collapsed.

Left alone: two-letter abbreviations ("u.s.", "e.g."), runs that are part of a
host name or path ("x.y.z.com", "/a/b/c"), and runs touching a longer word.
Blind spot: chat shorthand of three single letters ("u r a star") is joined
too; that only changes ``match``, and it joins the same way every time.
"""

from __future__ import annotations

import re

from spimguard.text.tricks import SPACED

__all__ = ["join_spaced"]

_LETTER = r"[^\W\d_]"
# Possessive repetition: a run that fails the look-ahead is not retried shorter,
# so the scan stays linear even on "a.a.a.a…" megabytes long.
_SPACED_RE = re.compile(
    rf"(?<![\w.*/@:-]){_LETTER}([ .*_-]){_LETTER}(?:\1{_LETTER})++(?!\w)(?![.*_/@:-]\w)"
)


def _join(match: re.Match[str]) -> str:
    return match.group().replace(match.group(1), "")


def join_spaced(text: str, tricks: set[str]) -> str:
    """Return ``text`` with spelled-out words joined, adding ``spaced`` if any was."""
    joined = _SPACED_RE.sub(_join, text)
    if joined is not text and joined != text:
        tricks.add(SPACED)
    return joined
