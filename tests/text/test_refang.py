"""Defanged links are made whole again; English that merely says "dot" is not."""

from __future__ import annotations

import pytest

from spimguard.text import normalize
from spimguard.text.refang import refang


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("hxxp://evil[.]com/login", "http://evil.com/login"),
        ("hxxps://evil.com", "https://evil.com"),
        ("HXXPS[:]//evil[.]com", "https://evil.com"),
        ("h**p://evil.com", "http://evil.com"),
        ("h**ps://evil.com", "https://evil.com"),
        ("hxxp[://]evil.com", "http://evil.com"),
        ("http[:]//evil.com[/]login", "http://evil.com/login"),
        ("fxp://files.evil.com", "ftp://files.evil.com"),
        ("evil(dot)com", "evil.com"),
        ("evil[dot]com", "evil.com"),
        ("evil{dot}com", "evil.com"),
        ("evil(.)com", "evil.com"),
        ("evil{.}com", "evil.com"),
        ("evil [.] com", "evil.com"),
        ("evil [ . ] com", "evil.com"),
        ("john(at)evil(dot)com", "john@evil.com"),
        ("visit example dot com today", "visit example.com today"),
        ("go to www dot example dot co dot uk", "go to www.example.co.uk"),
        ("evil . com", "evil.com"),
        ("evil .com", "evil.com"),
        ("evil . win/login", "evil.win/login"),
        ("evil。com", "evil.com"),
        ("evil｡com", "evil.com"),
    ],
)
def test_defanged_links_are_refanged(text: str, clean: str) -> None:
    result = normalize(text)
    assert result.clean == clean
    assert "refang" in result.tricks


@pytest.mark.parametrize(
    "text",
    [
        "I'll dot the i's and cross the t's",
        "connect the dot com boom to the dot net era",
        "polka dot dress, dot dot dot",
        "Sentence ends. com is not a word here",
        "Important info . today is your lucky day",
        "text me . in 5 mins",
        "ok (.) fine",
        "See http://example.com and https://example.org/x",
        "Wait... what? (: :) [:",
        "ありがとう。明日ね",
        "[1] note (a) {b}",
    ],
)
def test_ordinary_text_is_not_refanged(text: str) -> None:
    result = normalize(text)
    assert result.clean == " ".join(text.casefold().split())
    assert "refang" not in result.tricks


def test_refang_returns_the_same_text_when_nothing_changes() -> None:
    tricks: set[str] = set()
    text = "nothing to do here"
    assert refang(text, tricks) is text
    assert tricks == set()
