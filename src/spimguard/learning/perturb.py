"""Deterministic obfuscations, to test that normalisation undoes them.

Each message gets tricks chosen by a generator seeded with its index, so two
runs perturb the same messages the same way. The tricks are the ones spammers
use against keyword filters: Cyrillic/Greek look-alike letters, zero-width
characters inside words, leetspeak, and spaced-out letters.
"""

from __future__ import annotations

import random

__all__ = ["perturb"]

_HOMOGLYPHS = {
    "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і",
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О",
    "P": "Р", "T": "Т", "X": "Х",
}
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_ZW = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")


def _homoglyphs(word: str, rng: random.Random) -> str:
    return "".join(_HOMOGLYPHS[c] if c in _HOMOGLYPHS and rng.random() < 0.5 else c
                   for c in word)


def _zero_width(word: str, rng: random.Random) -> str:
    if len(word) < 2:
        return word
    i = rng.randrange(1, len(word))
    return word[:i] + rng.choice(_ZW) + word[i:]


def _leet(word: str, rng: random.Random) -> str:
    if not word.isalpha():
        return word
    return "".join(_LEET.get(c, c) if rng.random() < 0.6 else c for c in word)


def _spaced(word: str, rng: random.Random) -> str:
    if not word.isalpha() or len(word) < 3:
        return word
    return rng.choice((" ", ".", "-")).join(word)


_TRICKS = (_homoglyphs, _zero_width, _leet, _spaced)


def perturb(text: str, index: int, rate: float = 0.5) -> str:
    """Obfuscate about ``rate`` of the words of ``text`` with one trick each."""
    rng = random.Random(index * 7919 + 17)
    out = []
    for word in text.split(" "):
        if word and rng.random() < rate:
            word = rng.choice(_TRICKS)(word, rng)
        out.append(word)
    return " ".join(out)
