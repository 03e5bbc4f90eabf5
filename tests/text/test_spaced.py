"""Words spelled out letter by letter are joined in ``match`` only."""

from __future__ import annotations

import pytest

from spimguard.text import normalize


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("f r e e  m o n e y", "free money"),
        ("f r e e", "free"),
        ("c.a.s.h", "cash"),
        ("f-r-e-e", "free"),
        ("f_r_e_e", "free"),
        ("f*r*e*e", "free"),
        ("w i n n e r", "winner"),
        ("you are the w i n n e r!", "you are the winner!"),
        ("C.A.S.H. prize", "cash. prize"),
        ("s e x", "sex"),
        ("с к и д к а", "скидка"),  # any script
        ("e v i l . c o m", "evil.com"),
    ],
)
def test_spelled_out_words_are_joined(text: str, match: str) -> None:
    result = normalize(text)
    assert result.match == match
    assert "spaced" in result.tricks


@pytest.mark.parametrize(
    "text",
    [
        "u.s. and e.g. and i.e.",
        "a.b.com and x.y.z.com",
        "see /a/b/c and a-b",
        "u r a star",
        "i c u later",
        "plan a or b",
        "x_y",
        "it's 5 a.m. now",
    ],
)
def test_ordinary_text_is_not_joined(text: str) -> None:
    result = normalize(text)
    assert result.match == result.clean
    assert "spaced" not in result.tricks
