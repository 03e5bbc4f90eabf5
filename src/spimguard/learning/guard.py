"""The guard rail: a retrained model goes live only if it is no worse where it matters.

Moderators' labels are the fastest way to teach the engine a new wave, and
also the easiest way to break it: a model that learned a wave of spam can
start holding ordinary chat (seen: ham held 3.2% -> 3.9% after 50 labels of
a new domain), and one key flooding "not spam" labels on obvious spam can
blind it. So every candidate is compared with the model it would replace,
on the same texts, before it is activated:

* **ham** it must not hold more of: the chat corpora's dev splits, the
  hard-ham dev file, and the deployment's own confirmed ham (moderators'
  "not spam" labels; in the training set too, so this only catches the worst);
* **spam** it must not catch less of: the shipped labelled spam and the
  deployment's confirmed spam (also in-sample: a floor against poisoning,
  not a measure of recall).

A candidate that holds more than ``ham_margin`` more of the ham (as a share),
or catches more than ``spam_margin`` less of the spam, stays inactive, and
the reason is kept with its version. The texts are scored by the content
model alone at the policy's hold line (``hold_at``), which is what a
retrain changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spimguard.learning.corpus import read_corpus
from spimguard.learning.model import ContentModel, Score
from spimguard.learning.shipped import SHIPPED_CORPORA, chat_corpora, shipped_path
from spimguard.text import normalize

__all__ = ["GuardSettings", "Validation", "guard_texts", "validate"]

#: Ham and spam texts scored per check at most (a check runs beside the service).
MAX_TEXTS = 6000


@dataclass(frozen=True, slots=True)
class GuardSettings:
    #: Largest rise in the share of validation ham held (0.001 = 0.1 points).
    ham_margin: float = 0.001
    #: Largest fall in the share of validation spam caught.
    spam_margin: float = 0.05


@dataclass(frozen=True, slots=True)
class Validation:
    ok: bool
    reason: str
    figures: dict[str, Any]


def guard_texts(own: Sequence[tuple[str, bool]] = ()) -> tuple[list[str], list[str]]:
    """(ham, spam) validation texts: shipped dev ham, hard-ham dev, labelled spam, and the
    deployment's confirmed examples."""
    ham: list[str] = []
    for path in chat_corpora("dev"):
        ham += read_corpus(path).texts
    hard = shipped_path("hardham/hard-ham-dev.csv")
    if hard.exists():
        ham += read_corpus(hard).texts
    spam: list[str] = []
    for rel in SHIPPED_CORPORA:
        c = read_corpus(shipped_path(rel))
        spam += [t for t, s in zip(c.texts, c.labels, strict=True) if s]
    ham = _spread(ham, MAX_TEXTS) + [t for t, s in own if not s]
    spam = _spread(spam, MAX_TEXTS) + [t for t, s in own if s]
    return ham, spam


def _spread(texts: list[str], n: int) -> list[str]:
    """At most ``n`` texts, evenly spaced (deterministic)."""
    if len(texts) <= n:
        return texts
    step = len(texts) / n
    return [texts[int(i * step)] for i in range(n)]


def _held(model: ContentModel, texts: Sequence[str], hold_at: float) -> int:
    n = 0
    for t in texts:
        s = model.judge(normalize(t).match, t)
        n += isinstance(s, Score) and s.p_spam >= hold_at
    return n


def validate(candidate: ContentModel, current: ContentModel, ham: Sequence[str],
             spam: Sequence[str], hold_at: float,
             settings: GuardSettings | None = None) -> Validation:
    """Compare ``candidate`` with ``current`` on the same texts; see the module docstring."""
    cfg = settings or GuardSettings()
    figures: dict[str, Any] = {"ham": len(ham), "spam": len(spam), "hold_at": hold_at}
    for name, model in (("current", current), ("candidate", candidate)):
        figures[f"{name}_ham_held"] = _held(model, ham, hold_at)
        figures[f"{name}_spam_caught"] = _held(model, spam, hold_at)
    reasons = []
    if ham:
        rise = (figures["candidate_ham_held"] - figures["current_ham_held"]) / len(ham)
        figures["ham_held_rise"] = rise
        if rise > cfg.ham_margin:
            reasons.append(f"holds {figures['candidate_ham_held']} of {len(ham)} validation ham "
                           f"(the active model {figures['current_ham_held']})")
    if spam:
        fall = (figures["current_spam_caught"] - figures["candidate_spam_caught"]) / len(spam)
        figures["spam_caught_fall"] = fall
        if fall > cfg.spam_margin:
            reasons.append(f"catches {figures['candidate_spam_caught']} of {len(spam)} "
                           f"validation spam (the active model {figures['current_spam_caught']})")
    return Validation(ok=not reasons, reason="; ".join(reasons) or "no worse than the active "
                      "model on validation ham and spam", figures=figures)
