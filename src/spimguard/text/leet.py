"""Fold leetspeak: "fr33" -> "free", "c4sh" -> "cash", "$ale" -> "sale".

Only tokens that mix letters with digits or ``@ $ !`` are candidates, and
ordinary chat mixes them too, so a token is left alone when it is:

* a number, price, time, phone number, URL, e-mail address or path (anything
  with characters other than letters, digits, ``@ $ ! ' -``, or a run of four
  or more digits: "08712460324", "£1000", "10:30", "evil.com/login");
* a quantity or ordinal: one number then a word ("1st", "10am", "5mins", "3g");
* a name with a version number, i.e. letters with vowels then digits
  ("covid19", "win10", "iphone15"), or a short code ("mp3", "ps4");
* chat shorthand ("gr8", "l8r", "b4", "4u", "4ever");
* a mention ("@john"); a leading "@" counts as "a" only before letter pairs
  that start "a" words and rarely names ("@ccount", "@pple", "@ttention");
* shorter than two letters ("b4", "x5").

Blind spots: "fre3" (vowel, then a digit at the end) is kept, and a mention
that starts with such a pair ("@ttila") is folded.
"""

from __future__ import annotations

import re

from spimguard.text.tricks import LEET

__all__ = ["fold_leet"]

_SYMBOLS = "01345789@$!"
_LEET = str.maketrans(_SYMBOLS, "oieastbgasi")
# A whitespace-separated token holding a letter and a leet character (possessive: linear).
_CANDIDATE_RE = re.compile(rf"(?<!\S)(?=[^\sa-z]*+[a-z])[^\s{_SYMBOLS}]*+[{_SYMBOLS}]\S*+")
_LEADING = "([{<\"'*_"
_TRAILING = ".,;:!?)]}>\"'*_"
_PLAIN_RE = re.compile(r"[a-z0-9@$!'-]+")
_LEET_RE = re.compile(rf"[{_SYMBOLS}]")
_LETTERS_RE = re.compile(r"[a-z]")
_LONG_NUMBER_RE = re.compile(r"\d{4}")
_QUANTITY_RE = re.compile(r"(\d+)([a-z']+)")
_VERSIONED_RE = re.compile(r"([a-z]+)(\d+)")
_VOWEL_RE = re.compile(r"[aeiouy]")
_AT_WORD_RE = re.compile(r"@(?:cc|ct|dd|dm|dv|ff|gg|ll|mm|nn|pp|rr|ss|tt)")
_SHORTHAND = frozenset(
    "gr8 l8 l8r l8er m8 m8s w8 w8ing h8 h8r d8 sk8 sk8r b4 4u 4ur 4eva 4ever 4get 4got 4give "
    "4gotten 4m 2b4 str8 gr8t".split()
)
_UNITS = frozenset(
    "min mins sec secs hr hrs hour hours day days wk wks week weeks mth mths month months yr "
    "yrs year years kg kgs km kms mph kph mbps gbps mb gb kb tb ghz mhz pcs pack star stars "
    "times".split()
)


def _is_leet(part: str) -> bool:
    if len(_LETTERS_RE.findall(part)) < 2 or _LEET_RE.search(part) is None:
        return False
    if part in _SHORTHAND or _LONG_NUMBER_RE.search(part) is not None:
        return False
    if part.startswith("@") and _AT_WORD_RE.match(part) is None:
        return False
    quantity = _QUANTITY_RE.fullmatch(part)
    if quantity is not None:
        digits, word = quantity.groups()
        return len(digits) == 1 and len(word) >= 3 and word not in _UNITS
    versioned = _VERSIONED_RE.fullmatch(part)
    if versioned is not None:
        word, digits = versioned.groups()
        return len(digits) >= 2 and _VOWEL_RE.search(word) is None
    return True


def _fold_token(match: re.Match[str]) -> str:
    token = match.group()
    start = len(token) - len(token.lstrip(_LEADING))
    end = len(token.rstrip(_TRAILING))
    core = token[start:end]
    if not core or _PLAIN_RE.fullmatch(core) is None:
        return token
    parts = core.split("-")
    folded = "-".join(p.translate(_LEET) if _is_leet(p) else p for p in parts)
    if folded == core:
        return token
    return token[:start] + folded + token[end:]


def fold_leet(text: str, tricks: set[str]) -> str:
    """Return ``text`` with leetspeak tokens folded, adding ``leet`` if any was.

    Expects casefolded text.
    """
    folded = _CANDIDATE_RE.sub(_fold_token, text)
    if folded != text:
        tricks.add(LEET)
    return folded
