"""Fold look-alike letters from other scripts to Latin, without eating Russian.

The table comes from Unicode's confusables data as shipped by
``confusable_homoglyphs`` (loaded once, at import): every character whose
confusable set holds an ASCII letter or digit maps to it. Folding every such
character would turn "сосна" into "cocha", so the decision is per word (a run
of ``\\w``) and depends on the scripts in it:

* A word with no look-alikes is kept ("straße"), and so is a word of another
  script with a letter that has no Latin look-alike ("привет": п, и, в, т).
* Look-alikes that are themselves Latin (small capitals "ꜰʀᴇᴇ", "ɑ") are folded.
* A word mixing Latin with another script ("pаypal", Cyrillic а) is folded:
  ``mixed_script`` and ``confusable``.
* A word entirely in another script is folded only if every letter in it is a
  look-alike ("аррӏе") and either it sits in a host name next to Latin labels
  ("аррӏе.com") or the message is predominantly Latin (at least twice as many
  Latin letters as other letters): ``confusable``.

Deliberate deviations from the Unicode table: Cyrillic palochka "ӏ"/"Ӏ" folds
to "l" (Unicode says "i", but it has no dot and reads as "l"); capital I
look-alikes (Greek Ι, Cyrillic І) fold to "I" rather than the skeleton "l", so
they casefold to "i"; Turkish dotless "ı" is not folded, because it is an
ordinary letter there; digits of other scripts are not folded (a number, not
a disguise). Symbols (×, ∨, ⍺) are never part of a word, so they are
never folded.

Blind spot: a short all-look-alike Russian word ("а", "ее") inside a mostly
English message is folded to Latin.
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from importlib import resources
from typing import Any

from spimguard.text._charclass import astral_class, ranges
from spimguard.text.tricks import CONFUSABLE, MIXED_SCRIPT

__all__ = ["fold_confusables", "latin_skeleton"]

_PACKAGE = "confusable_homoglyphs"
_NOT_FOLDED = frozenset("\u0131")  # Turkish dotless i
_OVERRIDES = {"\u04cf": "l", "\u04c0": "l"}  # Cyrillic palochka
# Small capitals used by "fancy text" generators; most are missing from the Unicode table.
_SMALL_CAPS = dict(zip("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ", "abcdefghijklmnoprstuvwyz", strict=True))


def _load(name: str) -> Any:
    with resources.files(_PACKAGE).joinpath(name).open(encoding="utf-8") as handle:
        return json.load(handle)


def _latin_ranges() -> list[tuple[int, int]]:
    """Code point ranges of the Latin script, from the package's category table."""
    data = _load("categories.json")
    latin = data["iso_15924_aliases"].index("LATIN")
    return [(low, high) for low, high, script, _ in data["code_points_ranges"] if script == latin]


_LATIN_RANGES = _latin_ranges()
_LATIN_STARTS = [low for low, _ in _LATIN_RANGES]


def _is_latin(char: str) -> bool:
    index = bisect.bisect_right(_LATIN_STARTS, ord(char)) - 1
    return index >= 0 and _LATIN_RANGES[index][0] <= ord(char) <= _LATIN_RANGES[index][1]


def _target(char: str, entries: list[dict[str, str]]) -> str | None:
    for entry in entries:
        target = entry["c"]
        if len(target) == 1 and target.isascii() and target.isalnum():
            if char.isupper() and target == "l":
                return "I"
            return target
    return None


def _fold_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for char, entries in _load("confusables.json").items():
        if len(char) != 1 or char.isascii() or char in _NOT_FOLDED or not char.isalnum():
            continue
        if unicodedata.normalize("NFKC", char) != char:
            continue  # never seen: folding runs after NFKC
        target = _OVERRIDES.get(char) or _target(char, entries)
        if target is not None:
            table[char] = target
    table.update(_SMALL_CAPS)
    return table


_SKELETON_TABLE = _fold_table()
#: Digits of other scripts ("۱", "०") are never folded inside text: they are
#: numbers there, and folding made a Persian year read as "l۴۰۲". Only
#: :func:`latin_skeleton` (comparing host labels with brands) folds them.
_TABLE = {c: t for c, t in _SKELETON_TABLE.items() if not c.isdecimal()}
_FOLD = str.maketrans(_TABLE)
_FOLD_SKELETON = str.maketrans(_SKELETON_TABLE)
# BMP only: the astral Latin blocks (Latin Extended-F and -G) are phonetic rarities.
_LATIN_CLASS = "A-Za-z" + ranges(
    chr(point) for low, high in _LATIN_RANGES if high <= 0xFFFF for point in range(low, high + 1)
)
_BMP_BODY = ranges(c for c in _TABLE if ord(c) <= 0xFFFF)
_BMP = f"[{_BMP_BODY}]"
_ASTRAL = astral_class(_TABLE)

_BMP_FOLDABLE_RE = re.compile(_BMP)
_ASTRAL_FOLDABLE_RE = re.compile(_ASTRAL)
_LATIN_RE = re.compile(f"[{_LATIN_CLASS}]")
# Letters of other scripts: \w minus digits, underscore and Latin ("а", "б", "中").
_OTHER_LETTER_RE = re.compile(rf"[^\W\d_{_LATIN_CLASS}]")
_LATIN_RUN_RE = re.compile(f"[{_LATIN_CLASS}]+")
_OTHER_RUN_RE = re.compile(rf"[^\W\d_{_LATIN_CLASS}]+")
# A whole word holding a foldable character. Anchored at word starts and possessive, so
# linear; the first form keeps the bitmap class, the second also sees astral look-alikes.
_HAS_FOLDABLE = rf"(?=[^\W{_BMP_BODY}]*+{_BMP})"
_WORD_BMP_RE = re.compile(rf"(?<!\w){_HAS_FOLDABLE}\w++")
_WORD_ANY_RE = re.compile(rf"(?<!\w)(?=\w*?(?:{_BMP}|{_ASTRAL}))\w++")
# Outside a Latin context only two kinds of word can be disguises: words that also
# hold Latin letters, and labels of a host name. Finding them in C rather than calling
# back for every word of a Russian message is what keeps that case fast.
_SUSPECT_BMP_RE = re.compile(
    rf"(?<!\w){_HAS_FOLDABLE}"
    rf"(?:(?=[^\W{_LATIN_CLASS}]*+[{_LATIN_CLASS}])\w++"
    rf"|(?<=[A-Za-z0-9/][./@])\w++"
    rf"|\w++(?=\.[A-Za-z0-9]))"
)
_HOST_AFTER_RE = re.compile(r"\.[A-Za-z0-9]")
_HOST_BEFORE_RE = re.compile(r"[A-Za-z0-9/][./@]")


def _latin_context(text: str) -> bool:
    """True when Latin letters outnumber other letters at least two to one."""
    latin = sum(map(len, _LATIN_RUN_RE.findall(text)))
    return latin > 0 and latin >= 2 * sum(map(len, _OTHER_RUN_RE.findall(text)))


def _in_host(text: str, start: int, end: int) -> bool:
    """True when the word is a label of a host name or path ("аррӏе.com", "www.аррӏе")."""
    if _HOST_AFTER_RE.match(text, end) is not None:
        return True
    return start >= 2 and _HOST_BEFORE_RE.fullmatch(text, start - 2, start) is not None


def fold_confusables(text: str, tricks: set[str]) -> str:
    """Fold look-alike letters to Latin in the words that use them as a disguise.

    Expects NFKC text that still has its case (upper-case look-alikes fold to
    upper-case ASCII).
    """
    astral = _ASTRAL_FOLDABLE_RE.search(text) is not None
    if not astral and _BMP_FOLDABLE_RE.search(text) is None:
        return text
    if _LATIN_RE.search(text) is None:
        return text  # no Latin at all: nothing here is disguised as Latin
    latin_context = _latin_context(text)

    def fold(match: re.Match[str]) -> str:
        word = match.group()
        if _OTHER_LETTER_RE.search(word) is None:
            tricks.add(CONFUSABLE)  # Latin look-alikes only: "ꜰʀᴇᴇ", "pɑypal"
            return word.translate(_FOLD)
        if _LATIN_RE.search(word) is not None:
            tricks.add(CONFUSABLE)
            tricks.add(MIXED_SCRIPT)
            return word.translate(_FOLD)
        folded = word.translate(_FOLD)
        if _OTHER_LETTER_RE.search(folded) is not None:
            return word  # a letter without a Latin look-alike: a real word, "привет"
        if latin_context or _in_host(text, match.start(), match.end()):
            tricks.add(CONFUSABLE)
            return folded
        return word

    if astral:
        return _WORD_ANY_RE.sub(fold, text)
    return (_WORD_BMP_RE if latin_context else _SUSPECT_BMP_RE).sub(fold, text)


def latin_skeleton(text: str) -> str:
    """Every look-alike letter folded to Latin, whatever the context, lower-cased.

    For comparing a host label with a brand ("аррӏе" -> "apple"); unlike
    :func:`fold_confusables` it does not spare real words of other scripts.
    """
    return text.translate(_FOLD_SKELETON).lower()
