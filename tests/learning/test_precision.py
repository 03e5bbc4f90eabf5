"""Ordinary chat is never held by the shipped defaults on wording alone (issue 12).

Each case is a class of message the old model got wrong (numbers, short
replies, other scripts, code); none of these lines is in any training or
tuning file.
"""

from __future__ import annotations

import pytest

from spimguard import Action, ContactEvent, MessageEvent, build_engine
from spimguard.learning.model import Abstention, Score
from spimguard.learning.shipped import load_shipped_model
from spimguard.text import normalize

ISSUE_EXAMPLES = ["2010", "2010:(", "see you in 2026", "my new number is 07700 900123",
                  "flight BA2490 lands 18:05", "won 3-1 !!!"]

NUMBER_SHAPES = [
    "1987", "it was back in 2019", "ok 18:30 then", "at 6pm?", "on 14/02/2025 or 15/02",
    "3rd of may works", "lost 2-0 again", "BA117 is delayed 40 min", "order 112-4471934-55 shipped",
    "gate B22", "seat 14A", "call me on 07911 123456", "my number +44 20 7946 0958",
    "it's 12.50 each", "£20 for the tickets", "I paid $35, you owe me $17.50", "€15 per person",
    "₹500 for dinner", "1500 руб за такси", "ran 5 km today", "70kg now lol", "100% agree",
    "v3.11.2 broke it", "ssh 192.168.1.20", "commit 9f01783 fixed it", "room 314", "x3 pls",
]

SCRIPTS = [
    "می‌خواهم فردا بیایم", "مرحبا، كيف حالك؟", "שלום, מה שלומך?", "नमस्ते, कैसे हो?",
    "আমি আসছি", "வணக்கம் நண்பா", "สวัสดีครับ เจอกันพรุ่งนี้", "我们明天三点见", "明日は何時？",
    "내일 봐요", "გამარჯობა", "Բարև, ինչպես ես", "ሰላም ነህ", "Γεια σου, τι κάνεις;",
    "Привет, как дела? Завтра в 18:00", "Cześć, do zobaczenia jutro", "Merhaba, yarın görüşürüz",
]

CODE = [
    "```\nfor i in range(10):\n    print(i)\n```",
    "try `git rebase -i HEAD~3`",
    "Traceback (most recent call last):\n  File \"app.py\", line 12, in <module>\nKeyError: 'x'",
    "SELECT id, name FROM users WHERE created_at > '2024-01-01';",
    "> WIN a FREE iPhone now!!!\nlol look what I got",
]

SHORT = ["ok", "k", "lol", "yes!!", "omg", "thx", "👍", "🎉🎉🎉", "WHAT", "free now?", "call me",
         "txt me", "on my way", "happy new year!", "congrats 🎉"]


def friendly_engine():  # type: ignore[no-untyped-def]
    eng = build_engine()
    eng.observe(ContactEvent(ts=0.0, user="bob", contact="alice", op="add"))
    eng.observe(ContactEvent(ts=0.0, user="alice", contact="bob", op="add"))
    return eng


@pytest.mark.parametrize("text", ISSUE_EXAMPLES + NUMBER_SHAPES + SCRIPTS + CODE + SHORT)
def test_ordinary_chat_is_allowed(text: str) -> None:
    v = friendly_engine().check(MessageEvent(ts=100.0, id="m1", sender="alice",
                                             recipients=("bob",), text=text))
    assert v.action is Action.ALLOW, v.to_dict()
    assert "CONTENT_SPAM" not in {s.name for s in v.signals}


@pytest.mark.parametrize("text", ["2010", "07700 900123", "WINNER", "🎉", "18:05 !!!", "ok ok ok"])
def test_one_word_or_number_only_abstains(text: str) -> None:
    out = load_shipped_model().judge(normalize(text).match, text)
    assert isinstance(out, Abstention) and "too little" in out.reason


@pytest.mark.parametrize("text", ["سلام دوست من، فردا می‌بینمت", "我们明天三点在咖啡店见面吧",
                                  "สวัสดีครับ พรุ่งนี้เจอกันที่ร้านกาแฟ"])
def test_scripts_the_training_data_barely_covers_abstain(text: str) -> None:
    out = load_shipped_model().judge(normalize(text).match, text)
    assert isinstance(out, Abstention) and "barely saw" in out.reason


@pytest.mark.parametrize("text", [
    "WINNER!! You have won a £1000 prize. Call 09061701461 now to claim",
    "URGENT! Your mobile won £2000. To claim txt WIN to 87121. 150p/msg",
    "Free entry in 2 a wkly comp to win FA Cup final tkts. Text FA to 87121 to receive entry",
])
def test_spam_with_numbers_is_still_caught(text: str) -> None:
    v = friendly_engine().check(MessageEvent(ts=100.0, id="m1", sender="alice",
                                             recipients=("bob",), text=text))
    assert v.action.stops, v.to_dict()


def test_evidence_shrinks_confidence() -> None:
    model = load_shipped_model()
    short = model.judge(normalize("claim prize").match, "claim prize")
    long = model.judge(normalize("claim your prize now, you have won a guaranteed cash award")
                       .match, "claim your prize now, you have won a guaranteed cash award")
    assert isinstance(short, Score) and isinstance(long, Score)
    assert short.known_words < long.known_words
    assert short.p_spam < long.p_spam


def test_calibration_is_stored_and_sane() -> None:
    cal = load_shipped_model().calibration
    assert cal.a > 0 and cal.min_evidence == 2 and cal.shrink_k > 0
    assert cal.covers("latin") and cal.covers("cyrillic") and not cal.covers("thai")
    assert -6 < cal.prior_logit < 0
