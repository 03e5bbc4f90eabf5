"""normalize(): the public contract, the brief's examples, ham left alone, hostile input."""

from __future__ import annotations

import dataclasses

import pytest

import spimguard.text
from spimguard.text import ALL_TRICKS, NormalizedText, normalize


def test_public_surface() -> None:
    assert sorted(spimguard.text.__all__) == ["ALL_TRICKS", "NormalizedText", "normalize"]
    assert ALL_TRICKS == {
        "invisible", "bidi", "confusable", "mixed_script", "leet", "spaced", "refang",
        "fullwidth", "math_alnum",
    }


def test_result_is_frozen_and_keeps_original() -> None:
    text = "  Hello\u200b  WORLD  "
    result = normalize(text)
    assert isinstance(result, NormalizedText)
    assert result.original is text
    assert result.clean == "hello world"
    assert isinstance(result.tricks, frozenset)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.clean = "x"  # type: ignore[misc]


@pytest.mark.parametrize("bad", [b"bytes", None, 42, ["list"], bytearray(b"x")])
def test_rejects_non_str(bad: object) -> None:
    with pytest.raises(TypeError, match="expects str"):
        normalize(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("a\ud800b", "a\ufffdb"),  # lone high surrogate
        ("\udfffx", "\ufffdx"),  # lone low surrogate
        ("\ud83d\ude00 hi", "\U0001f600 hi"),  # a split pair is joined back
    ],
)
def test_surrogates_do_not_crash(text: str, clean: str) -> None:
    result = normalize(text)
    assert result.clean == clean
    result.clean.encode("utf-8")  # no surrogate left to make encoding fail


@pytest.mark.parametrize(
    ("text", "clean", "match", "tricks"),
    [
        ("hxxp://evil[.]com/login", "http://evil.com/login", "http://evil.com/login", {"refang"}),
        ("evil(dot)com", "evil.com", "evil.com", {"refang"}),
        ("ｅｖｉｌ．ｃｏｍ", "evil.com", "evil.com", {"fullwidth"}),
        ("𝐟𝐫𝐞𝐞 𝐦𝐨𝐧𝐞𝐲", "free money", "free money", {"math_alnum"}),
        ("pa\u200bypal", "paypal", "paypal", {"invisible"}),
        ("Go to аррӏе.com now", "go to apple.com now", "go to apple.com now", {"confusable"}),
        ("FR33 C4SH", "fr33 c4sh", "free cash", {"leet"}),
        ("f r e e  m o n e y", "f r e e m o n e y", "free money", {"spaced"}),
        ("c.a.s.h", "c.a.s.h", "cash", {"spaced"}),
    ],
)
def test_brief_examples(text: str, clean: str, match: str, tricks: set[str]) -> None:
    result = normalize(text)
    assert (result.clean, result.match, set(result.tricks)) == (clean, match, tricks)


@pytest.mark.parametrize(
    "text",
    [
        "Call 08712460324 now to claim £1000 before 10:30 :)",
        "Meet at 7.30pm? :-) ;) <3 xD ^_^",
        "Привет, как дела?",
        "восклицательный знак забыл",
        "Γεια σου, τι κάνεις;",
        "I'll dot the i's and cross the t's.",
        "The dot com boom is over. See u.s. e.g. at 5 p.m.",
        "Ok lar... Joking wif u oni...",
        "Costs $5, or €4.50 — 50% off! 24/7 support, 2nd floor, 1st prize, 100mb",
        "Straße, café, naïve, Ærøskøbing, kapı",
        "日本語のテキスト。中文，可以吗？",
        "Family 👨\u200d👩\u200d👧 and ❤\ufe0f and "
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        "see https://example.com/a-b_c?d=1&e=2#f and mail john.doe@example.org",
        "Room 101, Win10, covid19, mp3, 4G, 3pm, b4 u go, gr8, 4u, @john_doe",
        "u r a star, i c u",
    ],
)
def test_ham_reports_no_trick(text: str) -> None:
    result = normalize(text)
    assert result.tricks == frozenset()
    assert result.match == result.clean


@pytest.mark.parametrize(
    "text",
    [
        "Call 08712460324 now to claim £1000 before 10:30 :)",
        "Привет, как дела?",
        "see https://example.com/a-b_c?d=1&e=2#f",
        "I'll dot the i's",
    ],
)
def test_ham_clean_is_only_casefolded(text: str) -> None:
    assert normalize(text).clean == text.casefold()


def test_whitespace_is_collapsed_and_stripped() -> None:
    assert normalize(" \t a\n\n b\u3000c\u00a0 \r\n").clean == "a b c"
    assert normalize("").clean == ""
    assert normalize("   ").match == ""


def test_all_tricks_together() -> None:
    text = "ꜰʀᴇᴇ c4sh at pаypal\u202e, hxxp://evil dot com, w i n n e r ＮＯＷ 𝐨𝐤"
    result = normalize(text)
    assert result.tricks == ALL_TRICKS - {"invisible"}
    assert result.match == "free cash at paypal, http://evil.com, winner now ok"


HOSTILE = [
    "a." * 100_000,
    " " * 500_000,
    "hxxp" * 100_000,
    "[.]" * 100_000,
    "hxxp:" * 200_000,
    "a dot " * 170_000,
    "x dot " * 150_000 + "com",
    "a . " * 250_000,
    "a-" * 500_000,
    "a b " * 250_000,
    "a" * 1_000_000,
    "a" * 500_000 + " 1",
    "a1" * 500_000,
    "@a" * 500_000,
    "1" * 1_000_000,
    "a" + "\u200d" * 500_000 + "b",
    "\U000e0041" * 250_000,
    "а" * 500_000 + " hello",
    "pаypal " * 140_000,
    "привет как дела а " * 55_000 + "ok",
    "😀а" * 300_000 + "x",
    "ｅ" * 500_000,
    "𝐟" * 300_000,
    "\ud800" * 200_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t[:8]) for t in HOSTILE])
def test_hostile_input_completes(text: str) -> None:
    result = normalize(text)
    assert len(result.clean) <= len(text) + 1
    assert len(result.match) <= len(result.clean) + 1
