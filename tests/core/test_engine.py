from collections.abc import Iterable

import pytest

from spimguard import ContactEvent, Engine, MessageEvent, Policy, UnlockEvent, Verdict, build_engine
from spimguard.core.context import MessageContext
from spimguard.core.engine import MAX_ANALYSED_CHARS
from spimguard.core.signals import Hit, SignalSpec
from spimguard.core.verdicts import AccountAction, Action
from spimguard.detectors.base import DetectorBase


class Fixed(DetectorBase):
    """Emits a fixed strength for a marker word: lets engine tests avoid the model."""

    name = "fixed"
    signals = (SignalSpec("FIXED", 10.0, "test signal"),)

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        assert ctx.text is not None
        if "bad" in ctx.text.match:
            yield Hit("FIXED", 2.5 if "worst" in ctx.text.match else 1.0, "marker word")


class Broken(DetectorBase):
    name = "broken"
    signals = ()

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        raise RuntimeError("boom")


def msg(text: str | None, sender: str = "alice", i: int = 1, ts: float = 100.0) -> MessageEvent:
    return MessageEvent(ts=ts, id=f"m{i}", sender=sender, recipients=("bob",), text=text,
                        encrypted=text is None)


def test_verdict_lists_its_signals() -> None:
    v = Engine([Fixed()]).check(msg("this is bad"))
    assert v.action is Action.BLOCK and v.score == 10.0
    assert [(s.name, s.detail) for s in v.signals] == [("FIXED", "marker word")]
    assert v.to_dict()["signals"][0]["name"] == "FIXED"


def test_clean_message_is_allowed() -> None:
    v = Engine([Fixed()]).check(msg("see you at 5"))
    assert v.action is Action.ALLOW and v.signals == ()


def test_broken_detector_is_traced_not_fatal() -> None:
    v = Engine([Broken(), Fixed()]).check(msg("bad"))
    assert v.action is Action.BLOCK
    assert {t.detector: t.status for t in v.trace} == {"broken": "error", "fixed": "ran"}


def test_disabled_detector_does_not_run() -> None:
    pol = Policy.from_dict({"detectors": {"disabled": ["fixed"]}})
    v = Engine([Fixed()], policy=pol).check(msg("bad"))
    assert v.action is Action.ALLOW


def test_lock_holds_later_messages_until_unlock() -> None:
    eng = Engine([Fixed()])
    first = eng.check(msg("worst bad", i=1))
    assert first.account_action is AccountAction.LOCK
    later = eng.check(msg("hello there", i=2, ts=101))
    assert later.action is Action.BLOCK
    assert "ACCOUNT_LOCKED" in [s.name for s in later.signals]
    assert eng.observe(UnlockEvent(ts=102, user="alice")) is None
    assert eng.check(msg("hello again", i=3, ts=103)).action is Action.ALLOW


def test_huge_message_is_truncated_and_says_so() -> None:
    v = Engine([Fixed()]).check(msg("x" * (MAX_ANALYSED_CHARS * 16)))
    names = {s.name: s.detail for s in v.signals}
    assert "TEXT_TRUNCATED" in names and str(MAX_ANALYSED_CHARS) in names["TEXT_TRUNCATED"]


def test_encrypted_message_skips_content() -> None:
    v = build_engine().check(msg(None))
    assert v.action is Action.ALLOW
    assert {t.status for t in v.trace if t.detector == "content"} == {"abstained"}


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂", "\u200b\u200b"])
def test_no_opinion_is_never_blocked(text: str) -> None:
    v = build_engine().check(msg(text))
    assert v.action is Action.ALLOW


def test_obvious_spam_and_ham_with_shipped_model() -> None:
    eng = build_engine()
    spam = eng.check(msg("WINNER!! You have won a £1000 prize. Call 09061701461 now to claim. "
                         "T&C apply", sender="s"))
    ham = eng.check(msg("ok see you at home later, I'll bring the pizza", sender="h"))
    assert spam.action.stops and spam.signals[0].name == "CONTENT_SPAM"
    assert spam.signals[0].detail.startswith("classifier p=")
    assert ham.action is Action.ALLOW


def test_text_alone_never_acts_on_the_account() -> None:
    """The worst wording plus every obfuscation trick stays below account.challenge.

    (Links and behaviour may act on the account; wording alone must not.)
    """
    eng = build_engine(only=["content", "obfuscation"])
    worst = ("WINNER!! URGENT! You have WON a £1000 CASH prize! Call 09061701461 NOW to claim "
             "your FREE gift. T&C apply 150p/msg hxxp://claim[.]com \u200b pаypal")
    v = eng.check(msg(worst, sender="x"))
    assert v.action.stops
    assert {s.name for s in v.signals} >= {"CONTENT_SPAM", "OBFUSCATED_TEXT"}
    assert v.account_action is None
    assert v.score < eng.policy.challenge


@pytest.mark.parametrize("text", [
    "check this out https://www.bbc.co.uk/news/world-europe-123",
    "the PR is here https://github.com/python/cpython/pull/1",
    "lol watch https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "docs: https://docs.python.org/3/library/re.html",
])
def test_friends_sharing_links_are_allowed(text: str) -> None:
    """A URL is not spam in itself: the content model never sees links (regression)."""
    eng = build_engine()
    eng.observe(ContactEvent(ts=0.0, user="bob", contact="friend", op="add"))
    v = eng.check(msg(text, sender="friend"))
    assert v.action is Action.ALLOW, v.to_dict()
    assert "CONTENT_SPAM" not in {s.name for s in v.signals}


class Campaigner(DetectorBase):
    name = "campaigner"
    signals = (SignalSpec("IN_CAMPAIGN", 1.0, "test"),)

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        yield Hit("IN_CAMPAIGN", 1.0, "matched", campaign="c-1")

    def on_verdict(self, message: MessageEvent, verdict: Verdict, now: float) -> None:
        self.seen.append((message.id, verdict.action.value))


def test_campaign_id_and_verdict_hook() -> None:
    det = Campaigner()
    v = Engine([det]).check(msg("hello"))
    assert v.campaign == "c-1" and v.to_dict()["campaign"] == "c-1"
    assert det.seen == [("m1", "allow")]


def test_warm_up_leaves_no_state_behind() -> None:
    """The warm-up message goes through a throwaway engine: the real state stays empty."""
    from spimguard.build import build_engine, warm_up
    from spimguard.state.memory import MemoryStore

    store = MemoryStore()
    engine = build_engine(store=store)
    warm_up()
    assert len(store) == 0
    assert engine.account_state("warm-up") is None


def test_an_account_action_is_reported_only_when_it_changes_something() -> None:
    """Issue 20: ``account_action: "challenge"`` was answered again for an account
    already challenged or locked."""
    eng = Engine([Fixed()], Policy.from_dict({"account": {"challenge": 5.0, "lock": 100.0}}))
    first = eng.check(msg("this is bad", i=1))
    assert first.account_action is AccountAction.CHALLENGE
    again = eng.check(msg("this is bad", i=2))
    assert again.account_action is None and again.action.stops
    assert "ACCOUNT_CHALLENGED" in {s.name for s in again.signals}
