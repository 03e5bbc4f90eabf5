"""Invisible and bidi characters: always removed, reported only where they are a trick."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from spimguard.text import normalize
from spimguard.text.invisible import _REMOVE_RE, strip_invisible

#: Count wherever they are.
ALWAYS = ["\x00", "\x07", "\x1b", "\x7f", "\U000e0041"]
#: Count where they hide something: inside a word, in a link, in a run.
HIDING = [
    "\u200b", "\u2060", "\u2061", "\u2064", "\ufeff", "\u034f", "\u180e",
    "\u115f", "\u1160", "\u3164", "\uffa0", "\U0001d173",
]
CONTEXTUAL = ["\u200c", "\u200d", "\ufe0f", "\ufe00", "\U000e0100", "\u180b"]
BIDI_ALWAYS = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
               "\u2069"]
BIDI_CONTEXTUAL = ["\u200e", "\u200f", "\u061c"]


@pytest.mark.parametrize("char", ALWAYS + HIDING + CONTEXTUAL)
def test_invisible_inside_a_word_is_removed_and_reported(char: str) -> None:
    result = normalize(f"pay{char}pal now")
    assert result.clean == "paypal now"
    assert result.tricks == {"invisible"}


@pytest.mark.parametrize("char", ALWAYS)
def test_always_suspicious_anywhere(char: str) -> None:
    result = normalize(f"hello {char} world")
    assert result.clean == "hello world"
    assert "invisible" in result.tricks


@pytest.mark.parametrize("char", HIDING + ["\u00ad"])
def test_hiding_characters_count_in_runs_and_links(char: str) -> None:
    assert normalize(f"hello {char}{char} world").tricks == {"invisible"}
    assert normalize(f"hello {char}\u200d world").tricks == {"invisible"}
    if char != "\u00ad":
        assert normalize(f"see paypal{char}.com").tricks == {"invisible"}
        assert normalize(f"see paypal.{char}com").tricks == {"invisible"}


@pytest.mark.parametrize("char", HIDING)
def test_a_lone_hiding_character_between_words_is_ordinary(char: str) -> None:
    result = normalize(f"hello {char} world")
    assert result.clean == "hello world"
    assert result.tricks == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "see you soon\ufeff",           # trailing BOM from copy-paste
        "\ufeffhi there",               # leading BOM
        "\ufeff\u2764\ufe0f",            # a BOM before an emoji
        "Geburts\u00adtag morgen",       # soft hyphen at a hyphenation point
        "inter\u00ad\nnational",          # soft hyphen at a line end
        "pay\u00adpal later",            # one soft hyphen, pieces of 3 letters
        "สวัสดี\u200bครับ",               # ZWSP marks a Thai word break
        "❤\ufe0f\u200d🔥 nice",          # emoji ZWJ after a variation selector
        "👍🏽\ufe0f",
    ],
)
def test_ordinary_invisible_characters_are_not_evidence(text: str) -> None:
    assert normalize(text).tricks == frozenset()


@pytest.mark.parametrize("text", ["v\u00adi\u00ada\u00adg\u00adr\u00ada", "fr\u00adee c\u00adash"])
def test_words_chopped_by_soft_hyphens_count(text: str) -> None:
    assert normalize(text).tricks == {"invisible"}


@pytest.mark.parametrize("char", BIDI_ALWAYS)
def test_bidi_controls_are_reported(char: str) -> None:
    result = normalize(f"invoice{char}fdp.exe")
    assert result.clean == "invoicefdp.exe"
    assert result.tricks == {"bidi"}


@pytest.mark.parametrize("char", BIDI_CONTEXTUAL)
def test_direction_marks_inside_latin_words_are_reported(char: str) -> None:
    assert normalize(f"pay{char}pal").tricks == {"bidi"}


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("👨\u200d👩\u200d👧 family", "👨👩👧 family"),  # emoji ZWJ sequence
        ("❤\ufe0f love", "❤ love"),  # emoji presentation selector
        ("1\ufe0f\u20e3 first", "1\u20e3 first"),  # keycap
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f go", "🏴 go"),  # flag
        ("می\u200cخواهم", "میخواهم"),  # Persian ZWNJ
        ("क्\u200dष", "क्ष"),  # Devanagari ZWJ
        ("שלום\u200f abc", "שלום abc"),  # RLM after Hebrew
        ("مرحبا\u061c 123", "مرحبا 123"),  # ALM after Arabic
        ("smart quotes \x92 from cp1252", "smart quotes from cp1252"),  # C1: silent
    ],
)
def test_legitimate_uses_are_removed_but_not_reported(text: str, clean: str) -> None:
    result = normalize(text)
    assert result.clean == clean
    assert result.tricks == frozenset()


def test_removal_lets_nfkc_compose() -> None:
    assert normalize("cafe\u200b\u0301").clean == "café"


def test_strip_invisible_leaves_plain_text_alone() -> None:
    tricks: set[str] = set()
    text = "nothing to see\n\there"
    assert strip_invisible(text, tricks) is text
    assert tricks == set()


@pytest.mark.skipif(sys.maxunicode < 0x10FFFF, reason="narrow build")
def test_nfkc_never_creates_invisible_characters() -> None:
    """Removal runs before NFKC, so NFKC must not produce what removal would take out."""
    for point in range(0x110000):
        char = chr(point)
        if 0xD800 <= point <= 0xDFFF or _REMOVE_RE.fullmatch(char):
            continue
        nfkc = unicodedata.normalize("NFKC", char)
        if nfkc != char:
            assert _REMOVE_RE.search(nfkc) is None, hex(point)
