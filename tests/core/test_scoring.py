"""Scoring a replay against its ground truth (shared/spec/formats.md, section 4).

The engine here runs one fake detector whose hits are spelled out in the message
text ("[warn]", "[hold]", "[block]", "[challenge]", "[lock]"), so every action,
and so every metric, can be worked out by hand from the stream.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

import pytest

from spimguard import Engine, Policy
from spimguard.core.context import MessageContext
from spimguard.core.events import MessageEvent, parse_event
from spimguard.core.replay import ReplayStats, iter_events
from spimguard.core.scoring import ReplayScorer
from spimguard.core.signals import Hit, SignalSpec
from spimguard.core.verdicts import AccountAction, Action, Verdict
from spimguard.detectors.base import DetectorBase

#: explicit thresholds, so a change of the shipped defaults cannot move the hand-made figures
POLICY = Policy.from_dict({
    "actions": {"warn": 4.0, "hold": 6.0, "block": 9.0},
    "account": {"challenge": 14.0, "lock": 20.0,
                "challenged_messages": "hold", "locked_messages": "block",
                # scoring is tested here, not the escalation rules: scripted blocks in
                # a row must not challenge the account
                "escalation": {"stopped": 1000}},
})

#: marker -> the score it gives a message (weight 1 x strength)
MARKERS = {
    "[warn]": POLICY.warn,
    "[hold]": POLICY.hold,
    "[block]": POLICY.block,
    "[challenge]": POLICY.challenge,
    "[lock]": POLICY.lock,
}

SPEC_KEYS = {
    "spam_stopped", "spam_flagged", "ham_stopped", "ham_stopped_compromised", "ham_warned",
    "compromised_accounts", "compromised_caught", "median_spam_before_action",
    "accounts_falsely_actioned",
}


class Scripted(DetectorBase):
    name = "scripted"
    signals = (SignalSpec("SCRIPTED", 1.0, "score spelled out in the test message"),)

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        text = ctx.message.text or ""
        for marker, score in MARKERS.items():
            if marker in text:
                yield Hit("SCRIPTED", score, marker)


class Stream:
    """Builds a JSON Lines stream with increasing timestamps."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ts = 1000.0
        self.n = 0

    def _add(self, obj: dict[str, Any]) -> None:
        self.ts += 10
        self.lines.append(json.dumps({"ts": self.ts, **obj}))

    def msg(self, sender: str, text: str, label: str | None) -> Stream:
        self.n += 1
        obj: dict[str, Any] = {"type": "message", "id": f"m{self.n}", "sender": sender,
                               "recipients": ["friend"], "text": text}
        if label is not None:
            obj["label"] = label
        self._add(obj)
        return self

    def truth(self, user: str, compromised: bool) -> Stream:
        self._add({"type": "truth", "user": user, "compromised": compromised})
        return self

    def unlock(self, user: str) -> Stream:
        self._add({"type": "unlock", "user": user})
        return self

    def data(self) -> bytes:
        return ("\n".join(self.lines) + "\n").encode()


def score(stream: Stream) -> tuple[dict[str, Any], list[Verdict]]:
    """Replay as ``spimguard replay --score`` does: every event to the scorer and engine."""
    engine = Engine([Scripted()], policy=POLICY)
    scorer = ReplayScorer()
    stats = ReplayStats()
    verdicts = []
    for _, event in iter_events(io.BytesIO(stream.data()), stats):
        scorer.event(event)
        verdict = engine.observe(event)
        if verdict is not None:
            assert isinstance(event, MessageEvent)
            scorer.message(event, verdict)
            verdicts.append(verdict)
    assert stats.errors == []
    return scorer.result(), verdicts


def test_the_fake_detector_gives_the_intended_actions() -> None:
    assert POLICY.block <= POLICY.challenge  # a challenged message is itself blocked
    s = Stream()
    for marker in ("plain", "[warn]", "[hold]", "[block]", "[challenge]"):
        s.msg(f"u-{marker}", marker, "ham")
    s.msg("v", "[lock]", "ham").msg("v", "after the lock", "ham")
    _, verdicts = score(s)
    assert [v.action for v in verdicts] == [Action.ALLOW, Action.WARN, Action.HOLD,
                                           Action.BLOCK, Action.BLOCK, Action.BLOCK,
                                           POLICY.locked_messages]
    assert [v.account_action for v in verdicts] == [None, None, None, None,
                                                   AccountAction.CHALLENGE, AccountAction.LOCK,
                                                   None]


def test_metrics_by_hand() -> None:
    s = (
        Stream()
        .truth("c", True)
        .msg("a", "hello", "ham")                   # clean ham, allow
        .msg("a", "[warn] see you", "ham")          # clean ham, warn
        .msg("b", "[hold] lunch?", "ham")           # clean ham, hold (false positive)
        .msg("b", "[lock] meeting moved", "ham")    # clean ham, block; b locked while clean
        .msg("b", "are you there", "ham")           # clean ham, blocked by the lock
        .msg("c", "cheap watches", "spam")          # compromised spam, allow     (before action)
        .msg("c", "[warn] cheap pills", "spam")     # compromised spam, warn      (before action)
        .msg("c", "it's me, really", "ham")         # owner's ham while compromised, allow
        .msg("c", "[lock] cheap loans", None)       # unlabelled: c locked while compromised
        .msg("c", "mum, call me", "ham")            # owner's ham while compromised, blocked
        .msg("c", "cheap tickets", "spam")          # compromised spam, blocked (after action)
        .truth("d", True)
        .msg("d", "[hold] prize", "spam")           # compromised spam, hold     (before action)
        .msg("d", "prize again", "spam")            # compromised spam, allow    (before action)
        .msg("d", "[block] prize!!", "spam")        # compromised spam, block    (before action)
        .msg("d", "[challenge] x", None)            # unlabelled: d challenged while compromised
        .truth("c", False)
        .unlock("c")
        .msg("c", "sorted now", "ham")              # clean ham again, allow
        .msg("a", "[challenge] see you", "ham")     # clean ham, block; a challenged while clean
    )
    r, verdicts = score(s)
    assert SPEC_KEYS <= set(r)
    assert len(verdicts) == s.n == 17
    # 6 spam: c allow, c warn, c block(lock), d hold, d allow, d block
    assert r["spam"] == 6
    assert r["spam_stopped"] == pytest.approx(3 / 6)
    assert r["spam_flagged"] == pytest.approx(4 / 6)
    # 7 clean ham: a allow, a warn, b hold, b block, b block(lock), c allow, a block
    assert r["ham"] == 7
    assert r["ham_stopped"] == pytest.approx(4 / 7)
    assert r["ham_warned"] == pytest.approx(1 / 7)
    # 2 ham sent while compromised (c): allow, blocked by the lock
    assert r["ham_stopped_compromised"] == pytest.approx(1 / 2)
    assert r["compromised_accounts"] == 2
    assert r["compromised_caught"] == 2
    # c: 2 spam before its lock; d: 3 spam before its challenge
    assert r["median_spam_before_action"] == pytest.approx(2.5)
    # a (challenge) and b (lock) were actioned while not compromised; 4 active accounts
    assert r["accounts_falsely_actioned"] == 2
    assert r["accounts_falsely_actioned_share"] == pytest.approx(2 / 4)
    assert r["active_accounts"] == 4
    assert r["unlabelled_messages"] == 2
    assert r["messages"] == 17


def test_ham_while_compromised_is_not_a_false_positive() -> None:
    s = (Stream()
         .msg("x", "[block] hi", "ham")        # clean: counts
         .truth("x", True)
         .msg("x", "[block] hi", "ham")        # compromised: collateral
         .msg("x", "[block] hi", "ham")
         .msg("x", "hi", "ham")
         .truth("x", False)
         .msg("x", "hi", "ham"))               # clean again: counts
    r, _ = score(s)
    assert r["ham"] == 2 and r["ham_stopped"] == pytest.approx(1 / 2)
    assert r["ham_stopped_compromised"] == pytest.approx(2 / 3)
    assert r["compromised_accounts"] == 1
    assert r["compromised_caught"] == 0


def test_uncaught_account_counts_all_its_spam_before_action() -> None:
    s = (Stream().truth("z", True)
         .msg("z", "spam one", "spam").msg("z", "[warn] spam two", "spam")
         .msg("z", "spam three", "spam")
         .truth("y", True)
         .msg("y", "[lock] spam", None).msg("y", "spam after", "spam"))
    r, _ = score(s)
    assert r["compromised_accounts"] == 2 and r["compromised_caught"] == 1
    # z: 3 spam and never actioned; y: no spam before its lock
    assert r["median_spam_before_action"] == pytest.approx(1.5)
    assert r["accounts_falsely_actioned"] == 0


def test_spam_from_clean_account_is_not_counted_before_action() -> None:
    s = (Stream()
         .msg("w", "spam early", "spam")         # before compromise: not counted
         .truth("w", True)
         .msg("w", "spam later", "spam")
         .msg("w", "[challenge] spam", None))
    r, _ = score(s)
    assert r["median_spam_before_action"] == 1
    assert r["compromised_caught"] == 1


def test_account_action_after_recovery_is_false() -> None:
    s = (Stream().truth("v", True).msg("v", "x", "spam").truth("v", False)
         .msg("v", "[lock] y", "ham"))
    r, _ = score(s)
    assert r["compromised_caught"] == 0
    assert r["accounts_falsely_actioned"] == 1
    assert r["ham_stopped"] == 1.0


def test_truth_events_alone_do_not_make_an_account_active() -> None:
    s = Stream().truth("ghost", True).truth("ghost", False).msg("a", "hi", "ham")
    r, _ = score(s)
    assert r["compromised_accounts"] == 1 and r["compromised_caught"] == 0
    assert r["active_accounts"] == 1


def test_no_ground_truth_gives_no_rates() -> None:
    s = Stream().msg("a", "hi", None).msg("b", "[block] x", None)
    r, _ = score(s)
    for k in ("spam_stopped", "spam_flagged", "ham_stopped", "ham_stopped_compromised",
              "ham_warned", "median_spam_before_action"):
        assert r[k] is None, k
    assert r["compromised_accounts"] == 0 and r["unlabelled_messages"] == 2
    assert r["actions"] == {"allow": 1, "block": 1}


def test_scorer_on_hand_made_verdicts() -> None:
    """The scorer alone, fed verdicts directly (no engine in between)."""
    scorer = ReplayScorer()

    def m(i: int, sender: str, label: str) -> MessageEvent:
        e = parse_event({"type": "message", "ts": i, "id": f"h{i}", "sender": sender,
                         "recipients": ["r"], "text": "t", "label": label})
        assert isinstance(e, MessageEvent)
        return e

    scorer.event(parse_event({"type": "truth", "ts": 0, "user": "p", "compromised": True}))
    plan = [
        (m(1, "p", "spam"), Action.WARN, None),
        (m(2, "p", "spam"), Action.HOLD, AccountAction.CHALLENGE),
        (m(3, "q", "ham"), Action.WARN, None),
        (m(4, "q", "ham"), Action.ALLOW, None),
        (m(5, "p", "ham"), Action.HOLD, None),
    ]
    for msg, action, acct in plan:
        scorer.message(msg, Verdict(msg.id, action, 0.0, (), acct))
    r = scorer.result()
    assert r["spam_stopped"] == pytest.approx(1 / 2)
    assert r["spam_flagged"] == 1.0
    assert r["ham_warned"] == pytest.approx(1 / 2) and r["ham_stopped"] == 0.0
    assert r["ham_stopped_compromised"] == 1.0
    assert r["compromised_caught"] == 1 and r["accounts_falsely_actioned"] == 0
