"""Undo link defanging, so link detectors see the link the reader will type.

Spammers write "hxxp://evil[.]com" or "evil dot com" to dodge link filters,
trusting the reader to fix it. The bracketed forms ("[.]", "(dot)", "[:]")
never occur in ordinary chat, so they are always undone between two letters
or digits; with spaces around them ("evil [.] com") the right side must also
look like the rest of a host name, because "ok (.) fine" is an emoticon.
The bare forms are English too, so they need a host-name shape:

* " dot " joins labels only when the chain ends in a well-known TLD ("example
  dot com"), and never right after an article or pronoun ("the dot com boom").
* " . " or " ." joins only when the right side is a well-known TLD or a label
  followed by "/" ("evil . com", "evil .xyz/login"); "evil. com" is a
  sentence break and stays.

The TLD list deliberately leaves out TLDs that are English words ("in", "to",
"me", "us", "today", "live", "win"), because "user . today is your day" is
prose; such hosts are still refanged when the label is followed by "/".

Expects casefolded text with whitespace already collapsed to single spaces.
"""

from __future__ import annotations

import re

from spimguard.text.tricks import REFANG

__all__ = ["refang"]

_TLDS = frozenset(
    "com net org info biz edu gov ru su uk co io xyz top tk ml ga cf gq cn de fr nl eu ly gl "
    "cc ws pw ua kz pl br jp kr ca au es ch se fi dk cz sk hu ro bg gr pt ie tr ir vn th ph sg "
    "hk tw nz za mx ar cl pe ve icu mobi xxx".split()
)
_TLD_ALT = "|".join(sorted(_TLDS, key=len, reverse=True))

# The look-behinds sit after the first letter so that the pattern starts with a
# literal "h" or "f", which ``re`` scans for quickly.
_SCHEME_RE = re.compile(
    r"(?:h(?<![a-z0-9]h)(?:xx|x\*|\*x|\*\*|tt)p(s?)|f(?<![a-z0-9]f)(?:x|\*)p())"
    r"(?:\[:\]|\(:\)|:)(?:\[/\]|/){2}"
    r"|h(?<![a-z0-9]h)(?:xx|x\*|\*x|\*\*|tt)p(s?)\[://\]"
)
_BRACKET_COLON_RE = re.compile(r"\[:\]")
_BRACKET_SLASH_RE = re.compile(r"\[/\]")
_BRACKET_DOT = r"[\[({] ?(?:\.|dot) ?[\])}]"
_BRACKET_DOT_RE = re.compile(rf"(?<=[a-z0-9]){_BRACKET_DOT}(?=[a-z0-9])")
# With spaces around ("evil [.] com") the right side must look like the rest of a
# host: a TLD, or a label followed by ".", "/" or another bracketed dot.
_SPACED_BRACKET_DOT_RE = re.compile(
    rf"(?<=[a-z0-9]) ?{_BRACKET_DOT} ?"
    rf"(?=(?:{_TLD_ALT})(?![a-z0-9-])|[a-z0-9-]++(?:[./]| ?{_BRACKET_DOT}))"
)
_BRACKET_AT_RE = re.compile(r"(?<=[a-z0-9])[\[({]at[\])}](?=[a-z0-9])")
_DOT_WORD_RE = re.compile(r"(?<![a-z0-9-])[a-z0-9][a-z0-9-]*+(?: dot [a-z0-9][a-z0-9-]*+)++")
_SPACED_DOT_RE = re.compile(
    rf"(?<=[a-z0-9]) \. ?(?=(?:{_TLD_ALT})(?![a-z0-9-])|[a-z]{{2,24}}/)"
)
_IDEOGRAPHIC_DOT_RE = re.compile("(?<=[a-z0-9])\u3002(?=[a-z0-9])")

_NOT_HOSTS = frozenset(
    "the a an and or of in on at to my your our their his her its this that every each with "
    "for from into big no".split()
)


def _scheme(match: re.Match[str]) -> str:
    if match.group(2) is not None:
        return "ftp://"
    secure = match.group(1) if match.group(1) is not None else match.group(3)
    return f"http{secure}://"


def _dot_words(match: re.Match[str]) -> str:
    labels = match.group().split(" dot ")
    last = max((i for i, label in enumerate(labels) if label in _TLDS and i > 0), default=0)
    first = 0
    while first < last and labels[first] in _NOT_HOSTS:
        first += 1
    if first >= last:
        return match.group()
    joined = ".".join(labels[first : last + 1])
    return " dot ".join([*labels[:first], joined, *labels[last + 1 :]])


def refang(text: str, tricks: set[str]) -> str:
    """Return ``text`` with defanged links restored, adding ``refang`` if any was."""
    original = text
    if "[" in text or "(" in text or "{" in text:
        if "[:" in text or "(:" in text or "[/]" in text:
            text = _SCHEME_RE.sub(_scheme, text)
            text = _BRACKET_COLON_RE.sub(":", text)
            text = _BRACKET_SLASH_RE.sub("/", text)
        text = _BRACKET_DOT_RE.sub(".", text)
        text = _SPACED_BRACKET_DOT_RE.sub(".", text)
        text = _BRACKET_AT_RE.sub("@", text)
    if ":" in text:  # hxxp:// h**p:// fxp://
        text = _SCHEME_RE.sub(_scheme, text)
    if " dot " in text:
        text = _DOT_WORD_RE.sub(_dot_words, text)
    if " ." in text:
        text = _SPACED_DOT_RE.sub(".", text)
    if "\u3002" in text:
        text = _IDEOGRAPHIC_DOT_RE.sub(".", text)
    if text != original:
        tricks.add(REFANG)
    return text
