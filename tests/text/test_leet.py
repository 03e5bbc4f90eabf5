"""Leetspeak is folded in ``match`` only, and only in tokens that are not numbers."""

from __future__ import annotations

import pytest

from spimguard.text import normalize


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("FR33 C4SH", "free cash"),
        ("fr33", "free"),
        ("c4sh", "cash"),
        ("v1agra", "viagra"),
        ("$ale", "sale"),
        ("@ccount", "account"),
        ("pr1ze!", "prize!"),
        ("m0ney", "money"),
        ("l33t", "leet"),
        ("b00bs", "boobs"),
        ("0ffer", "offer"),
        ("v!agra", "viagra"),
        ("ca$h", "cash"),
        ("p4ssw0rd", "password"),
        ("acc0unt", "account"),
        ("s3xy", "sexy"),
        ("w1nn3r", "winner"),
        ("(fr33)", "(free)"),
        ("c4sh-pr1ze", "cash-prize"),
        ("Claim your fr33 pr1ze now", "claim your free prize now"),
    ],
)
def test_leet_is_folded(text: str, match: str) -> None:
    result = normalize(text)
    assert result.match == match
    assert result.clean == text.casefold()
    assert "leet" in result.tricks


@pytest.mark.parametrize(
    "text",
    [
        "08712460324",
        "£1000",
        "$100 or $5.99",
        "10:30",
        "10:30am",
        "7.30pm",
        "1st 2nd 3rd 4th 21st",
        "10am 5pm 3g 4g 100mb 5mins",
        "3miles 4the 7ish",
        "mp3 ps4 win10 covid19 iphone15",
        "gr8 l8r b4 4u m8 h1n1",
        "@john @mike88",
        "john@example.com info@club4u.",
        "evil.com/l0gin",
        "only1more least5times",
        "wc1n3xx box95qu msg150p",
        "christmas!merry worried!x hi!!! wow!",
        "user_123 t&c's 18's",
        "24/7 100% 50-50 1-800-flowers",
    ],
)
def test_numbers_and_chat_shorthand_are_not_leet(text: str) -> None:
    result = normalize(text)
    assert result.match == result.clean
    assert "leet" not in result.tricks
