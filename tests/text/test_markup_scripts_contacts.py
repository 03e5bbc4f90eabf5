"""Code and quotes apart from prose; a message's script; contact details."""

from __future__ import annotations

import pytest

from spimguard.text.contacts import contact_details
from spimguard.text.markup import has_markup, prose
from spimguard.text.scripts import dominant_script


@pytest.mark.parametrize(("text", "kept", "gone"), [
    ("try this:\n```\ndef f(x):\n    return x + 1\n```\nworks?", "works?", "return"),
    ("run `pip install -U spimguard` then restart", "then restart", "pip"),
    ("> WINNER claim your prize\nlol who sends these", "lol who sends", "WINNER"),
    ("<b>see you</b> at <i>six</i>", "see you", "<b>"),
    ("Traceback (most recent call last):\n  File \"x.py\", line 3\nany idea?", "any idea?",
     "Traceback"),
    ("SELECT * FROM users WHERE id = 3;\nwhy is it slow", "why is it slow", "SELECT"),
])
def test_prose_keeps_the_senders_words(text: str, kept: str, gone: str) -> None:
    out = prose(text)
    assert kept in out and gone not in out


def test_a_message_that_is_only_quoted_keeps_its_text() -> None:
    text = "> claim your free prize now"
    assert prose(text) == text


def test_plain_text_is_untouched() -> None:
    text = "ok see you at 6; bring snacks"
    assert not has_markup("ok see you at 6") and prose(text) == text


def test_hostile_markup_is_bounded() -> None:
    out = prose("```" * 20_000 + "<" * 50_000 + ">" * 50_000)
    assert isinstance(out, str)


@pytest.mark.parametrize(("text", "script"), [
    ("see you soon", "latin"), ("привет, как дела", "cyrillic"), ("می‌خواهم بیایم", "arabic"),
    ("我们明天见", "han"), ("สวัสดีครับ", "thai"), ("नमस्ते दोस्त", "devanagari"),
    ("안녕하세요", "hangul"), ("გამარჯობა", "georgian"), ("こんにちは", "kana"),
    ("12:30 !!", "none"), ("", "none"), ("hi друзья my friends", "latin"),
])
def test_dominant_script(text: str, script: str) -> None:
    assert dominant_script(text) == script


@pytest.mark.parametrize(("text", "found"), [
    ("happy new year!", []), ("on my way", []), ("congrats 🎉", []), ("see you at 18:05", []),
    ("call 07700 900123", ["phone number"]), ("txt win to 87121", ["premium-rate number"]),
    ("write to @manager_bot", ["handle"]), ("mail a.b@example.com", ["e-mail address"]),
])
def test_contact_details(text: str, found: list[str]) -> None:
    assert list(contact_details(text)) == found
