"""Content: what the words of a message say, judged by the trained text model.

Blind spots: a message with no word the model has seen (a new language, emoji
only, a bare link) gets no opinion at all, on purpose; a short friendly lure
("lol is this you? <link>") reads like ham, which is why links and behaviour
have their own detectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.learning.model import ContentModel
from spimguard.learning.shipped import load_shipped_model

__all__ = ["ContentDetector"]

#: Above this probability the message counts against its sender.
SPAM_FROM = 0.5
#: Below this probability the message counts in its favour.
HAM_BELOW = 0.05


class ContentDetector(DetectorBase):
    name = "content"
    signals = (
        SignalSpec("CONTENT_SPAM", 10.0,
                   "The text model finds the wording spam-like; strength rises from 0 at "
                   "p=0.5 to 1 at p=1."),
        SignalSpec("CONTENT_HAM", -1.0, "The text model is confident the wording is ordinary "
                   "chat (p < 0.05)."),
    )

    def __init__(self, model: ContentModel) -> None:
        self.model = model

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ContentDetector:
        path = settings.get("model") or ""
        model = ContentModel.load(path) if path else load_shipped_model()
        return cls(model)

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        if ctx.text is None:
            raise Abstain("no readable text (encrypted)")
        score = self.model.score(ctx.text.match)
        if score is None:
            raise Abstain("no word the model knows")
        p = score.p_spam
        if p >= SPAM_FROM:
            return (Hit("CONTENT_SPAM", (p - SPAM_FROM) / (1.0 - SPAM_FROM),
                        f"classifier p={p:.2f}"),)
        if p < HAM_BELOW:
            return (Hit("CONTENT_HAM", 1.0, f"classifier p={p:.2f}"),)
        return ()
