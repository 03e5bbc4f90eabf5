"""NFKC and the styling tricks it undoes: fullwidth and styled (mathematical) letters."""

from __future__ import annotations

import pytest

from spimguard.text import normalize


@pytest.mark.parametrize(
    ("text", "clean", "tricks"),
    [
        ("ｅｖｉｌ．ｃｏｍ", "evil.com", {"fullwidth"}),
        ("ＦＲＥＥ ｍｏｎｅｙ", "free money", {"fullwidth"}),
        ("call ０８００", "call 0800", {"fullwidth"}),
        ("𝐟𝐫𝐞𝐞 𝐦𝐨𝐧𝐞𝐲", "free money", {"math_alnum"}),
        ("𝕗𝕣𝕖𝕖 𝓂𝑜𝓃𝑒𝓎", "free money", {"math_alnum"}),
        ("𝟏𝟎𝟎 prize", "100 prize", {"math_alnum"}),
        ("ℂ𝕒𝕤𝕙", "cash", {"math_alnum"}),  # letterlike ℂ fills the gap in the alphabet
        ("ⓕⓡⓔⓔ", "free", {"math_alnum"}),  # circled
        ("🄵🅁🄴🄴", "free", {"math_alnum"}),  # squared
        ("ᶠʳᵉᵉ", "free", {"math_alnum"}),  # superscript
    ],
)
def test_styles_are_undone_and_reported(text: str, clean: str, tricks: set[str]) -> None:
    result = normalize(text)
    assert result.clean == clean
    assert set(result.tricks) == tricks


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("50m² flat, CO₂ and H₂O", "50m2 flat, co2 and h2o"),
        ("Brand™ ½ price", "brandtm 1⁄2 price"),
        ("5ℓ of water", "5l of water"),
        ("ℹ\ufe0f info Ⓜ\ufe0f metro", "i info m metro"),
        ("① first ② second", "1 first 2 second"),
        ("你好，世界！　こんにちは：", "你好,世界! こんにちは:"),  # CJK punctuation
        ("ﬁne ligature…", "fine ligature..."),
    ],
)
def test_ordinary_compatibility_forms_are_not_tricks(text: str, clean: str) -> None:
    result = normalize(text)
    assert result.clean == clean
    assert result.tricks == frozenset()
