"""Which writing system a message is mostly written in.

The content model knows the scripts of its training data (Latin from the SMS
corpus, Cyrillic from tg-spam's samples, ...). Asked about a Persian or Thai
message, its words are unknown and its character n-grams are noise, and any
verdict would be a guess; so the model looks up the message's main script and
abstains when its training data barely covers it.

Coarse on purpose: a script, not a language (Spanish and English are both
Latin; the known-words count handles that case).
"""

from __future__ import annotations

import bisect

__all__ = ["SCRIPTS", "dominant_script"]

#: (first code point, script) for the letter ranges we name; anything not
#: covered is "other". Sorted by code point.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"),
    (0x0A00, 0x0DFF, "indic"),
    (0x0E00, 0x0E7F, "thai"),
    (0x0E80, 0x0EFF, "lao"),
    (0x10A0, 0x10FF, "georgian"),
    (0x1100, 0x11FF, "hangul"),
    (0x1200, 0x139F, "ethiopic"),
    (0x1780, 0x17FF, "khmer"),
    (0x1E00, 0x1EFF, "latin"),
    (0x1F00, 0x1FFF, "greek"),
    (0x3040, 0x30FF, "kana"),
    (0x3130, 0x318F, "hangul"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
)
_STARTS = [r[0] for r in _RANGES]
SCRIPTS = tuple(sorted({r[2] for r in _RANGES} | {"other", "none"}))
#: Letters looked at: enough to know, cheap on a 64 KB message.
_SAMPLE = 400


def _script(code: int) -> str:
    i = bisect.bisect_right(_STARTS, code) - 1
    if i >= 0 and code <= _RANGES[i][1]:
        return _RANGES[i][2]
    return "other"


def dominant_script(text: str) -> str:
    """The script of most of ``text``'s letters; ``none`` when it has none."""
    head = text[: _SAMPLE * 4]
    if head.isascii():
        return "latin" if any(c.isalpha() for c in head) else "none"
    counts: dict[str, int] = {}
    seen = 0
    for c in head:
        if c.isalpha():
            s = "latin" if c.isascii() else _script(ord(c))
            counts[s] = counts.get(s, 0) + 1
            seen += 1
            if seen >= _SAMPLE:
                break
    if not counts:
        return "none"
    return max(sorted(counts), key=counts.__getitem__)
