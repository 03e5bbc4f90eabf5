"""Look-alike letters: folded where they disguise Latin, left alone in real Russian/Greek."""

from __future__ import annotations

import pytest

from spimguard.text import normalize
from spimguard.text.confusables import fold_confusables


@pytest.mark.parametrize(
    ("text", "clean", "tricks"),
    [
        ("pаypal login", "paypal login", {"confusable", "mixed_script"}),  # Cyrillic а
        ("Log in to your PayPaӏ account", "log in to your paypal account",
         {"confusable", "mixed_script"}),
        ("ΑΡΡLΕ ID", "apple id", {"confusable", "mixed_script"}),  # Greek capitals + Latin L
        ("gοοgle.com", "google.com", {"confusable", "mixed_script"}),  # Greek omicrons
        ("Go to аррӏе.com now", "go to apple.com now", {"confusable"}),  # all Cyrillic
        ("аррӏе.com", "apple.com", {"confusable"}),  # host label next to a Latin TLD
        ("https://аррӏе.com/login", "https://apple.com/login", {"confusable"}),
        ("Your аррӏе ID is locked, verify it now", "your apple id is locked, verify it now",
         {"confusable"}),  # predominantly Latin text
        ("ꜰʀᴇᴇ ᴍᴏɴᴇʏ", "free money", {"confusable"}),  # small capitals
        ("pɑypal", "paypal", {"confusable"}),  # Latin alpha
        ("ՕK, ՏEND", "ok, send", {"confusable", "mixed_script"}),  # Armenian
        ("Your ᏚᎬᎡᏙᎥᏟᎬ account is on hold", "your service account is on hold",
         {"confusable"}),  # Cherokee
        ("Смотри https://аррӏе.com/login", "смотри https://apple.com/login", {"confusable"}),
        ("ІNFO", "info", {"confusable", "mixed_script"}),  # Cyrillic І is a capital I
    ],
)
def test_disguises_are_folded(text: str, clean: str, tricks: set[str]) -> None:
    result = normalize(text)
    assert result.clean == clean
    assert set(result.tricks) == tricks


@pytest.mark.parametrize(
    "text",
    [
        "Привет, как дела?",
        "восклицательный знак забыл",
        "Сосна у дороги, а рядом река",  # every word but "у" has look-alikes
        "Привет! see you а ты?",  # Russian with some English: "а" stays Cyrillic
        "Купи на сайт.рф сегодня",
        "Γεια σου, τι κάνεις;",
        "Θα έρθω στις 10:30",
        "Ελλάδα και Κύπρος",
        "Buy аррӏе",  # too little Latin around to call it a disguise
        "Ответь ok или нет",
        "Ереван, Հայաստան",
        "3×4 = 12, 5×10cm",  # symbols are not letters
        "kapı açık",  # Turkish dotless i is a letter, not a disguise
    ],
)
def test_real_words_of_other_scripts_survive(text: str) -> None:
    result = normalize(text)
    assert result.clean == " ".join(text.casefold().split())
    assert result.tricks == frozenset()


def test_only_latin_or_only_other_scripts_is_untouched() -> None:
    tricks: set[str] = set()
    for text in ("plain ascii", "только кириллица", "中文"):
        assert fold_confusables(text, tricks) is text
    assert tricks == set()


def test_astral_look_alikes_are_folded() -> None:
    # U+10404 DESERET CAPITAL LONG O and U+104EA OSAGE SMALL LETTER O look like "O"/"o".
    result = normalize("g\U000104eaogle and \U00010404K")
    assert result.clean == "google and ok"
    assert {"confusable", "mixed_script"} <= result.tricks
