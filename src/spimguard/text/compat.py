"""Compatibility forms: NFKC, and which styling tricks it undid.

NFKC turns "ｆｒｅｅ" and "𝐟𝐫𝐞𝐞" into "free", which is the point. It also turns
"½" into "1⁄2" and "ﬁ" into "fi", which is harmless. Only some of its changes
are worth reporting, and the sets below are chosen so that ordinary text does
not report them:

* ``fullwidth``: fullwidth or halfwidth forms of Latin letters, digits and the
  link punctuation ``. / @``. Chinese and Japanese punctuation ("，", "：",
  the ideographic space) is how those languages are typed, so it does not
  count. Japanese users do type fullwidth digits ("１２月"); the trick is
  evidence for the policy to weigh, not a verdict.
* ``math_alnum``: mathematical, letterlike, circled, squared, superscript and
  subscript letters (and mathematical digits). Not counted: "m²" and "CO₂"
  (digit super/subscripts), "™", "ℓ" (litre), "ℹ️" and "Ⓜ️" (emoji) and
  circled digits used to number lists.
"""

from __future__ import annotations

import re
import unicodedata

from spimguard.text._charclass import astral_class, ranges
from spimguard.text.tricks import FULLWIDTH, MATH_ALNUM

__all__ = ["has_surrogates", "repair_surrogates", "to_nfkc"]

_SURROGATE_RE = re.compile("[\ud800-\udfff]")

_WIDTH_TAGS = frozenset({"<wide>", "<narrow>"})
_STYLE_TAGS = frozenset({"<font>", "<circle>", "<square>", "<super>", "<sub>"})
_STYLE_RANGES = (
    (0x02B0, 0x02FF),  # spacing modifier letters (ʰ ʳ)
    (0x1D2C, 0x1DBF),  # phonetic extensions (ᵃ ᵇ ᶠ)
    (0x2070, 0x209F),  # superscripts and subscripts
    (0x2100, 0x214F),  # letterlike symbols (ℂ ℍ ℎ)
    (0x2460, 0x24FF),  # enclosed alphanumerics (Ⓐ ⓐ)
    (0xA7F0, 0xA7FF),
    (0xAB5C, 0xAB69),
    (0x1D400, 0x1D7FF),  # mathematical alphanumeric symbols
    (0x1F100, 0x1F1FF),  # enclosed alphanumeric supplement (🄰)
)
_STYLE_EXCLUDED = frozenset("\u2113\u2139\u24c2")  # ℓ litre, ℹ and Ⓜ emoji


def _tag(char: str) -> str:
    return unicodedata.decomposition(char).partition(" ")[0]


def _width_chars() -> str:
    chars = []
    for cp in range(0xFF00, 0xFFF0):
        char = chr(cp)
        plain = unicodedata.normalize("NFKC", char)
        if _tag(char) in _WIDTH_TAGS and plain.isascii() and (plain.isalnum() or plain in "./@"):
            chars.append(char)
    return "".join(chars)


def _styled_chars() -> str:
    chars = []
    for low, high in _STYLE_RANGES:
        for cp in range(low, high + 1):
            char = chr(cp)
            tag = _tag(char)
            if tag not in _STYLE_TAGS or char in _STYLE_EXCLUDED:
                continue
            plain = unicodedata.normalize("NFKC", char)
            if len(plain) != 1 or not plain.isascii() or not plain.isalnum():
                continue
            if plain.isdigit() and tag in ("<circle>", "<super>", "<sub>"):
                continue
            chars.append(char)
    return "".join(chars)


_FULLWIDTH_RE = re.compile(f"[{ranges(_width_chars())}]")
_STYLED = _styled_chars()
_STYLED_BMP_RE = re.compile(f"[{ranges(c for c in _STYLED if ord(c) <= 0xFFFF)}]")
_STYLED_ASTRAL_RE = re.compile(astral_class(_STYLED))


def has_surrogates(text: str) -> bool:
    """True when ``text`` holds a lone surrogate (it cannot be encoded as UTF-8)."""
    return _SURROGATE_RE.search(text) is not None


def repair_surrogates(text: str) -> str:
    """Join surrogate pairs and replace lone surrogates with U+FFFD.

    Lone surrogates reach us from broken JSON or UTF-16 decoders; left in place
    they make every later ``encode()`` raise.
    """
    if _SURROGATE_RE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def to_nfkc(text: str, tricks: set[str]) -> str:
    """Return the NFKC form of ``text``, adding ``fullwidth``/``math_alnum`` if they were used."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    if _FULLWIDTH_RE.search(text) is not None:
        tricks.add(FULLWIDTH)
    if _STYLED_BMP_RE.search(text) is not None or _STYLED_ASTRAL_RE.search(text) is not None:
        tricks.add(MATH_ALNUM)
    return unicodedata.normalize("NFKC", text)
