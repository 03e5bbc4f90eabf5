"""Scoring a replay against its ground truth (shared/spec/formats.md, section 4).

Ground truth is read here and only here: ``label`` on messages and ``truth``
events. A message counts as sent "while compromised" when its sender's latest
truth event before it says ``compromised: true``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from spimguard.core.events import Event, MessageEvent, TruthEvent
from spimguard.core.verdicts import Action, Verdict

__all__ = ["ReplayScorer"]


@dataclass(slots=True)
class _Account:
    compromised: bool = False
    ever_compromised: bool = False
    caught: bool = False
    spam_before_action: int = 0
    actioned_while_clean: bool = False


@dataclass(slots=True)
class _Population:
    """Figures of one population of messages (plaintext or encrypted)."""

    spam: int = 0
    spam_stopped: int = 0
    ham: int = 0
    ham_stopped: int = 0
    ham_warned: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"spam": self.spam, "ham": self.ham,
                "spam_stopped": self.spam_stopped / self.spam if self.spam else None,
                "ham_stopped": self.ham_stopped / self.ham if self.ham else None,
                "ham_warned": self.ham_warned / self.ham if self.ham else None}


@dataclass(slots=True)
class ReplayScorer:
    """Feed it every event in order, and every message's verdict; read :meth:`result`."""

    accounts: dict[str, _Account] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)
    spam: int = 0
    spam_stopped: int = 0
    spam_flagged: int = 0
    ham: int = 0
    ham_stopped: int = 0
    ham_warned: int = 0
    ham_comp: int = 0
    ham_comp_stopped: int = 0
    unlabelled: int = 0
    by_action: dict[str, int] = field(default_factory=dict)
    #: "plaintext" / "encrypted" -> that population's figures (same definitions).
    populations: dict[str, _Population] = field(default_factory=dict)

    def _acct(self, user: str) -> _Account:
        a = self.accounts.get(user)
        if a is None:
            a = self.accounts[user] = _Account()
        return a

    def event(self, event: Event) -> None:
        if isinstance(event, TruthEvent):
            a = self._acct(event.user)
            a.compromised = event.compromised
            a.ever_compromised |= event.compromised

    def message(self, msg: MessageEvent, verdict: Verdict) -> None:
        self.active.add(msg.sender)
        self.by_action[verdict.action.value] = self.by_action.get(verdict.action.value, 0) + 1
        a = self._acct(msg.sender)
        stopped = verdict.action.stops
        kind = "encrypted" if msg.encrypted else "plaintext"
        pop = self.populations.get(kind)
        if pop is None:
            pop = self.populations[kind] = _Population()
        if msg.label == "spam":
            self.spam += 1
            self.spam_stopped += stopped
            self.spam_flagged += verdict.action is not Action.ALLOW
            pop.spam += 1
            pop.spam_stopped += stopped
            if a.compromised and not a.caught:
                a.spam_before_action += 1
        elif msg.label == "ham":
            if a.compromised:
                self.ham_comp += 1
                self.ham_comp_stopped += stopped
            else:
                self.ham += 1
                self.ham_stopped += stopped
                self.ham_warned += verdict.action is Action.WARN
                pop.ham += 1
                pop.ham_stopped += stopped
                pop.ham_warned += verdict.action is Action.WARN
        else:
            self.unlabelled += 1
        if verdict.account_action is not None:
            self.account_action(msg.sender)

    def account_action(self, user: str) -> None:
        """An account action on ``user`` (in a verdict, or a notice outside one)."""
        a = self._acct(user)
        if a.compromised:
            a.caught = True
        else:
            a.actioned_while_clean = True

    def result(self) -> dict[str, Any]:
        comp = [a for a in self.accounts.values() if a.ever_compromised]
        caught = [a for a in comp if a.caught]
        false_actioned = sum(a.actioned_while_clean for a in self.accounts.values())

        def share(k: int, n: int) -> float | None:
            return k / n if n else None

        return {
            "messages": self.spam + self.ham + self.ham_comp + self.unlabelled,
            "spam": self.spam,
            "ham": self.ham,
            "spam_stopped": share(self.spam_stopped, self.spam),
            "spam_flagged": share(self.spam_flagged, self.spam),
            "ham_stopped": share(self.ham_stopped, self.ham),
            "ham_stopped_compromised": share(self.ham_comp_stopped, self.ham_comp),
            "ham_warned": share(self.ham_warned, self.ham),
            "compromised_accounts": len(comp),
            "compromised_caught": len(caught),
            "median_spam_before_action": (
                statistics.median(a.spam_before_action for a in comp) if comp else None),
            "accounts_falsely_actioned": false_actioned,
            "accounts_falsely_actioned_share": share(false_actioned, len(self.active)),
            "active_accounts": len(self.active),
            "unlabelled_messages": self.unlabelled,
            "actions": dict(sorted(self.by_action.items())),
            "populations": {k: v.to_dict() for k, v in sorted(self.populations.items())},
        }
