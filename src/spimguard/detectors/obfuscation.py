"""Obfuscation: text that hides itself from filters is suspicious in itself.

Friends do not write "pаypal" with a Cyrillic а or put zero-width spaces
inside words. Only tricks that ordinary chat does not use count: leetspeak
("gr8", "4u") and fullwidth forms are common in real messages, so they are
undone by normalisation but not held against the sender.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.detectors.base import DetectorBase

__all__ = ["ObfuscationDetector"]

_COUNTED = {
    "invisible": "invisible characters",
    "bidi": "bidirectional controls",
    "confusable": "look-alike letters from another script",
    "mixed_script": "words mixing scripts",
    "math_alnum": "mathematical letter forms",
    "refang": "defanged link",
}


class ObfuscationDetector(DetectorBase):
    name = "obfuscation"
    signals = (
        SignalSpec("OBFUSCATED_TEXT", 2.0,
                   "The text uses tricks to evade filters (invisible characters, look-alike "
                   "letters, mixed scripts, defanged links); strength 0.5 per kind, up to 1."),
    )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ObfuscationDetector:
        return cls()

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        if ctx.text is None:
            raise Abstain("no readable text (encrypted)")
        seen = sorted(_COUNTED[t] for t in ctx.text.tricks if t in _COUNTED)
        if not seen:
            return ()
        return (Hit("OBFUSCATED_TEXT", min(1.0, 0.5 * len(seen)), "; ".join(seen)),)
