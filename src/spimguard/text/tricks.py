"""The fixed vocabulary of obfuscation tricks that normalisation reports.

Detectors and policy files refer to these names, so they are public API: a
rename breaks configurations and needs a changelog entry.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ALL_TRICKS",
    "BIDI",
    "CONFUSABLE",
    "FULLWIDTH",
    "INVISIBLE",
    "LEET",
    "MATH_ALNUM",
    "MIXED_SCRIPT",
    "REFANG",
    "SPACED",
]

#: Zero-width, filler, tag or control characters hidden inside the text.
INVISIBLE: Final = "invisible"
#: Bidirectional overrides, embeddings or isolates (text shown in another order).
BIDI: Final = "bidi"
#: Look-alike letters folded to Latin ("раураӏ" with Cyrillic letters).
CONFUSABLE: Final = "confusable"
#: One word mixing Latin with another script ("pаypal" with a Cyrillic а).
MIXED_SCRIPT: Final = "mixed_script"
#: Digits or symbols standing in for letters ("fr33", "c4sh").
LEET: Final = "leet"
#: Letters spelled out one by one ("f r e e", "c.a.s.h").
SPACED: Final = "spaced"
#: A defanged link made clickable again ("hxxp://evil[.]com").
REFANG: Final = "refang"
#: Fullwidth or halfwidth Latin letters, digits or link punctuation ("ｅｖｉｌ．ｃｏｍ").
FULLWIDTH: Final = "fullwidth"
#: Styled letters or digits: mathematical, circled, squared, super/subscript ("𝐟𝐫𝐞𝐞").
MATH_ALNUM: Final = "math_alnum"

ALL_TRICKS: Final = frozenset(
    {INVISIBLE, BIDI, CONFUSABLE, MIXED_SCRIPT, LEET, SPACED, REFANG, FULLWIDTH, MATH_ALNUM}
)
