"""Remove characters that render as nothing, and say whether they were a trick.

Every character listed here is deleted: none of them changes what a reader
sees, so none may change what a detector sees. Reporting is stricter than
removal, because several of them are part of ordinary writing:

* ZWJ and variation selectors build emoji ("👨‍👩‍👧", "❤️"), ZWNJ and ZWJ shape
  Persian and Indic words, LRM/RLM/ALM steer Arabic and Hebrew text, and tag
  characters spell subdivision flags after U+1F3F4 ("🏴󠁧󠁢󠁥󠁮󠁧󠁿"). These count as
  a trick only when they sit between two Latin, Greek or Cyrillic letters or
  digits ("pa\u200dypal"), where no writing system needs them.
* C1 controls are removed silently: they come from text decoded with the
  wrong codec (cp1252 "\x92" for an apostrophe), not from spammers.
* Everything else (zero-width space, word joiner, BOM, soft hyphen, Hangul
  fillers, ...) counts only where it hides something: inside a Latin, Greek
  or Cyrillic word or number ("fr\u200bee"), splitting a link
  ("paypal\u200b.com"), or in a run of two or more. A leading or trailing
  BOM (copy-paste leaves them), a ZWSP between Thai words (where it marks
  word breaks) or a soft hyphen at a hyphenation point ("Geburts\u00adtag")
  are ordinary text. A word chopped by soft hyphens into pieces shorter than
  three letters on average ("v\u00adi\u00adag\u00adra") counts.
* C0 controls and stray tag characters always count; the bidi overrides,
  embeddings and isolates always count.

Blind spot: a ZWNJ or ZWJ inside an Arabic-script or Indic word is removed
but not reported, since it cannot be told from correct spelling.
"""

from __future__ import annotations

import re

from spimguard.text.tricks import BIDI, INVISIBLE

__all__ = ["strip_invisible"]

# Removed but never reported: C1 controls come from text decoded with the wrong
# codec (cp1252 "\x92" for an apostrophe), not from spammers.
_SILENT = "\x80-\x84\x86-\x9f"
_C0 = "\x00-\x08\x0e-\x1b\x7f"  # C0 controls (whitespace kept)
# Invisible with no job in ordinary text, but left behind by editors and
# copy-paste: suspicious where they hide something (see the module docstring).
_HIDING = (
    "\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u2060-\u2064\u206a-\u206f"
    "\u3164\ufeff\uffa0\ufff9-\ufffb"
)
_SHY = "\u00ad"
_ALWAYS = f"{_C0}{_SHY}{_HIDING}"
_ALWAYS_ASTRAL = "\U0001d173-\U0001d17a"  # musical formatting
# Legitimate in emoji, Persian and Indic shaping: suspicious only between letters.
_CONTEXTUAL = "\u200c\u200d\u180b-\u180d\u180f\ufe00-\ufe0f"
_CONTEXTUAL_ASTRAL = "\U000e0100-\U000e01ef"  # variation selectors supplement
_TAGS = "\U000e0000-\U000e007f"
_BIDI_ALWAYS = "\u202a-\u202e\u2066-\u2069"
_BIDI_CONTEXTUAL = "\u200e\u200f\u061c"
# Letters and digits of the scripts that never need joiners or direction marks.
_PLAIN = "0-9A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_JOINERS = f"{_CONTEXTUAL}{_CONTEXTUAL_ASTRAL}"

# Detection is split so that the common case (nothing to remove) scans with bitmap
# classes; see spimguard.text._charclass.
_ASCII_RE = re.compile("[\x00-\x08\x0e-\x1b\x7f]")
_BMP_RE = re.compile(f"[{_SILENT}{_ALWAYS}{_CONTEXTUAL}{_BIDI_ALWAYS}{_BIDI_CONTEXTUAL}]")
_ASTRAL_RE = re.compile(
    f"[\U00010000-\U0010ffff](?<=[{_ALWAYS_ASTRAL}{_CONTEXTUAL_ASTRAL}{_TAGS}])"
)
_REMOVE_RE = re.compile(
    f"[{_SILENT}{_ALWAYS}{_ALWAYS_ASTRAL}{_JOINERS}{_TAGS}{_BIDI_ALWAYS}{_BIDI_CONTEXTUAL}]+"
)
_ANY_INVISIBLE = f"{_ALWAYS}{_ALWAYS_ASTRAL}{_JOINERS}{_BIDI_CONTEXTUAL}"
# Letters, digits and the punctuation of links: what a hidden character splits.
_SPLITS = f"{_PLAIN}./:@"
_INVISIBLE_TRICK_RE = re.compile(
    f"[{_C0}]"
    f"|(?<=[{_SPLITS}])[{_HIDING}{_ALWAYS_ASTRAL}](?=[{_SPLITS}])"
    f"|[{_HIDING}{_SHY}{_ALWAYS_ASTRAL}][{_ANY_INVISIBLE}]"
    f"|[{_ANY_INVISIBLE}][{_HIDING}{_SHY}{_ALWAYS_ASTRAL}]"
    f"|(?<![\U0001f3f4{_TAGS}])[{_TAGS}]"
    f"|(?<=[{_PLAIN}])[{_BIDI_CONTEXTUAL}]*+[{_JOINERS}]"
    f"[{_JOINERS}{_BIDI_CONTEXTUAL}]*+(?=[{_PLAIN}])"
)
_BIDI_TRICK_RE = re.compile(
    f"[{_BIDI_ALWAYS}]"
    f"|(?<=[{_PLAIN}])[{_JOINERS}]*+[{_BIDI_CONTEXTUAL}]"
    f"[{_JOINERS}{_BIDI_CONTEXTUAL}]*+(?=[{_PLAIN}])"
)


_SHY_WORD_RE = re.compile(f"[{_PLAIN}]+(?:{_SHY}[{_PLAIN}]+)+")


def _chopped(text: str) -> bool:
    """A word cut by soft hyphens into pieces under three letters on average."""
    for m in _SHY_WORD_RE.finditer(text):
        pieces = m.group().split(_SHY)
        if sum(map(len, pieces)) < 3 * len(pieces):
            return True
    return False


def strip_invisible(text: str, tricks: set[str]) -> str:
    """Return ``text`` without invisible and bidi characters, adding the tricks seen.

    Linear time: runs are matched possessively, so a long run is scanned once.
    """
    if text.isascii():
        if _ASCII_RE.search(text) is None:
            return text
    elif _BMP_RE.search(text) is None and _ASTRAL_RE.search(text) is None:
        return text
    if _INVISIBLE_TRICK_RE.search(text) is not None or (_SHY in text and _chopped(text)):
        tricks.add(INVISIBLE)
    if _BIDI_TRICK_RE.search(text) is not None:
        tricks.add(BIDI)
    return _REMOVE_RE.sub("", text)
