"""Fold leetspeak: "fr33" -> "free", "c4sh" -> "cash", "$ale" -> "sale".

Map: 0→o 1→i 3→e 4→a 5→s 7→t 8→b 9→g @→a $→s !→i. Only tokens that mix
letters with these are candidates, and ordinary chat mixes them too (SMS
especially: "only1more", "3miles", "wc1n3xx"), so a part of a token is left
alone when it is:

* a number, price, time, phone number, URL, e-mail address or path: anything
  with characters other than letters, digits, ``@ $ ! ' -``, digits that read
  as a number (three in a row, two different ones, any 2 or 6), a UK-style
  postcode: "08712460324", "£1000", "10:30", "evil.com/login", "box95qu";
* a quantity, i.e. it starts with a digit ("1st", "10am", "3miles", "4the"),
  except "0" before a word ("0ffer");
* letters then digits ("covid19", "win10", "mp3", "ps4"), unless it is two
  digits after two to four consonants ("fr33", "pr0n");
* chat shorthand ("gr8", "l8r", "b4"), or fewer than two letters ("4u");
* a mention ("@john"); a leading "@" is "a" only before letter pairs that
  start "a" words and rarely names ("@ccount", "@pple", "@ttention");
* unpronounceable once folded (four consonants in a row: "3qxj9").

Tokens split into parts at "-", at "!" used as punctuation ("worried!x",
"christmas!merry", "onl!ne"; "v!agra" and "pr!ze" keep it as a letter), at an
e-mail-like "@" ("info@club4u"), and at a lone digit between two words of
four letters or more ("only1more", "least5times").

Blind spots: "fre3", "1phone" and "verif1cation" are kept; codes such as
"csh11" are folded.
"""

from __future__ import annotations

import re

from spimguard.text.tricks import LEET

__all__ = ["fold_leet"]

_SYMBOLS = "01345789@$!"
_LEET = str.maketrans(_SYMBOLS, "oieastbgasi")
# A leet character; "!" only before a letter, since "hi!" is punctuation.
_LEET_CHAR = "[01345789@$]|!(?=[a-z])"
# Cheap first test: any symbol at all (a plain class scans fastest).
_SYMBOL_RE = re.compile(f"[{_SYMBOLS}]")
# A space-separated token holding a letter and a leet character. Anchored at token
# starts and possessive, so linear even on a megabyte-long token.
_CANDIDATE_RE = re.compile(
    rf"(?<![^ ])(?=[^ a-z]*+[a-z])[^ {_SYMBOLS}]*+(?:{_LEET_CHAR})[^ ]*+"
)
_LEADING = "([{<\"'*_"
_TRAILING = ".,;:!?)]}>\"'*_"
_PLAIN_RE = re.compile(r"[a-z0-9@$!'-]+")
# Where a token splits into parts folded separately: "-", "!" used as punctuation,
# an e-mail-like "@", and a lone digit between two long words ("only1more").
_SPLIT_RE = re.compile(
    r"(-"
    r"|(?<![a-z])!|!(?![a-z]{2})|(?<=[a-z]{3})!"
    r"|(?<=[a-z0-9]{3})@|@(?![a-z])"
    r"|(?<=[a-z]{4})\d(?=[a-z]{4}))"
)
_TWO_LETTERS_RE = re.compile(r"[a-z][^a-z]*+[a-z]")
# Digits that read as numbers: three in a row, two different ones ("15"), or 2 and 6.
_NUMBER_RE = re.compile(r"\d{3}|[26]|(\d)(?!\1)\d")
_POSTCODE_RE = re.compile(r"[a-z]{1,2}\d[a-z\d]?\d[a-z]{2}")  # UK style: "wc1n3xx"
_DIGITS_RE = re.compile(r"\d")
_VERSIONED_RE = re.compile(r"([a-z]+)(\d+)")
_CONSONANTS_RE = re.compile(r"[b-df-hj-np-tv-xz]{2,4}")
_NO_VOWELS_RE = re.compile(r"[b-df-hj-np-tv-xz]{4}")
_SHORTHAND_ENDINGS = ("4u", "4me", "4ever", "4eva")  # "club4u"
_AT_WORD_RE = re.compile(r"@(?:cc|ct|dd|dm|dv|ff|gg|ll|mm|nn|pp|rr|ss|tt)")
_SHORTHAND = frozenset(
    "gr8 gr8t l8 l8r l8er m8 m8s w8 w8in w8ing h8 h8r d8 sk8 sk8r b4 b4u str8 h1n1".split()
)


def _is_leet(part: str) -> bool:
    if _TWO_LETTERS_RE.search(part) is None or _SYMBOL_RE.search(part) is None:
        return False
    if part in _SHORTHAND or part.endswith(_SHORTHAND_ENDINGS) or _NUMBER_RE.search(part):
        return False
    if part[0].isdigit():  # a quantity ("3miles", "1st", "4the") unless "0ffer"
        return part[0] == "0" and part[1].isalpha() and len(part) >= 4
    if part[0] == "@" and _AT_WORD_RE.match(part) is None:
        return False  # a mention
    if _POSTCODE_RE.fullmatch(part) is not None and len(set(_DIGITS_RE.findall(part))) > 1:
        return False  # "wc1n3xx" (but "b00bs" is not a postcode)
    versioned = _VERSIONED_RE.fullmatch(part)
    if versioned is not None:
        word, digits = versioned.groups()
        if len(digits) != 2 or _CONSONANTS_RE.fullmatch(word) is None:
            return False
    return _NO_VOWELS_RE.search(part.translate(_LEET)) is None


def _fold_token(match: re.Match[str]) -> str:
    token = match.group()
    start = len(token) - len(token.lstrip(_LEADING))
    end = len(token.rstrip(_TRAILING))
    core = token[start:end]
    if not core or _PLAIN_RE.fullmatch(core) is None:
        return token
    pieces = _SPLIT_RE.split(core)  # parts at even indices, separators at odd ones
    folded = "".join(
        piece.translate(_LEET) if i % 2 == 0 and _is_leet(piece) else piece
        for i, piece in enumerate(pieces)
    )
    if folded == core:
        return token
    return token[:start] + folded + token[end:]


def fold_leet(text: str, tricks: set[str]) -> str:
    """Return ``text`` with leetspeak tokens folded, adding ``leet`` if any was.

    Expects casefolded text with whitespace collapsed to single spaces.
    """
    if _SYMBOL_RE.search(text) is None:
        return text
    folded = _CANDIDATE_RE.sub(_fold_token, text)
    if folded != text:
        tricks.add(LEET)
    return folded
