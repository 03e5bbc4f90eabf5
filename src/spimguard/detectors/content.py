"""Content: what the words of a message say, judged by the trained text model.

Blind spots: a message with fewer than two words the model has seen (a
number, one word, emoji only, a bare link, a language or script the training
data barely covers) gets no opinion at all, on purpose; a short friendly lure
("lol is this you? <link>") reads like ham, which is why links and behaviour
have their own detectors.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.learning.model import Abstention, ContentModel, Score
from spimguard.learning.shipped import load_shipped_model

__all__ = ["ContentDetector"]

#: Below this probability the message counts in its favour.
HAM_BELOW = 0.05
#: Texts whose scores are kept (short ones only: those are the ones that repeat).
CACHE_TEXTS = 20_000
CACHE_TEXT_CHARS = 500
#: Cap on the strength, so wording alone cannot outweigh everything else.
MAX_STRENGTH = 1.2


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


class ContentDetector(DetectorBase):
    name = "content"
    signals = (
        SignalSpec("CONTENT_SPAM", 10.0,
                   "The text model finds the wording spam-like (p >= hold_at / 2). Strength 0.6 "
                   "at p = hold_at (alone it holds the message), +0.1 per logit unit, "
                   "capped at 1.2."),
        SignalSpec("CONTENT_HAM", -1.0, "The text model is confident the wording is ordinary "
                   "chat (p < 0.05)."),
    )

    def __init__(self, model: ContentModel, hold_at: float = 0.9) -> None:
        if not 0.0 < hold_at < 1.0:
            raise ValueError(f"detectors.content.hold_at must be in (0, 1), got {hold_at}")
        self.model = model
        #: The calibrated probability at which wording alone holds a message.
        self.hold_at = hold_at
        #: Scores of recent texts: chat repeats itself ("ok", "see you", a campaign's
        #: copies), and scoring is most of a check's time. Keyed by the text as sent
        #: (shape features read capitals); dropped whenever the model is replaced.
        self._scores: OrderedDict[str, Score | Abstention] = OrderedDict()
        self._scored_by: ContentModel | None = None
        self._hold_logit = _logit(hold_at)
        #: Below half of hold_at the model's opinion never counts against a sender.
        self._spam_from = hold_at / 2

    def clear_cache(self) -> None:
        """Forget cached scores (a benchmark replaying the same texts must not time hits)."""
        self._scores.clear()

    def _score(self, match: str, original: str) -> Score | Abstention:
        if len(original) > CACHE_TEXT_CHARS:
            return self.model.judge(match, original)
        if self._scored_by is not self.model:  # a retrained model was swapped in
            self._scores.clear()
            self._scored_by = self.model
        cache = self._scores
        if original in cache:
            cache.move_to_end(original)
            return cache[original]
        score = cache[original] = self.model.judge(match, original)
        if len(cache) > CACHE_TEXTS:
            cache.popitem(last=False)
        return score

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], model: ContentModel | None = None
    ) -> ContentDetector:
        """Build from the policy's ``[detectors.content]`` table; ``model`` overrides its path."""
        if model is None:
            path = settings.get("model") or ""
            model = ContentModel.load(path) if path else load_shipped_model()
        hold_at = settings.get("hold_at", 0.9)
        if isinstance(hold_at, bool) or not isinstance(hold_at, int | float):
            raise ValueError(f"detectors.content.hold_at must be a number, got {hold_at!r}")
        return cls(model, hold_at=float(hold_at))

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        if ctx.text is None:
            raise Abstain("no readable text (encrypted)")
        score = self._score(ctx.text.match, ctx.text.original)
        if isinstance(score, Abstention):
            raise Abstain(score.reason)
        p = score.p_spam
        if p >= self._spam_from:
            strength = min(MAX_STRENGTH, 0.6 + 0.1 * (_logit(p) - self._hold_logit))
            return (Hit("CONTENT_SPAM", strength, f"classifier p={p:.2f}"),)
        if p < HAM_BELOW:
            return (Hit("CONTENT_HAM", 1.0, f"classifier p={p:.2f}"),)
        return ()
