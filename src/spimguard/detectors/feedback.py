"""Recipient feedback: the people a sender wrote to block it or leave the room.

What recipients do needs no content: blocking a sender, or leaving the
direct chat it just wrote in, is a verdict from the only people who read the
message. It arrives minutes after the messages, so besides scoring the
sender's next messages it is what the engine's account escalation reads
when a ``feedback`` event comes in (see ``core.escalation``): a session
blocked by two of the people it wrote to is challenged without waiting for
its next message. Spam *reports* are the reputation detector's.

Per sender the store keeps the last day of (time, recipient, kind), each
recipient counted once; an ``unblock`` withdraws that recipient's block.
Strength 0.35 for one person, 0.7 for two, 1 from three.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.events import Event, FeedbackEvent, MessageEvent
from spimguard.core.signals import Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.state.feedback import OPS, feedback_key, negative_feedback, pack, read
from spimguard.state.packed import hash32

__all__ = ["FeedbackDetector"]

class FeedbackDetector(DetectorBase):
    name = "feedback"
    signals = (
        SignalSpec("RECIPIENT_FEEDBACK", 6.0, "People this sender wrote to blocked it or "
                   "left the chat in the last day (each person once): 0.35 for one, 0.7 for "
                   "two, 1 from three. Reads no text."),
    )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FeedbackDetector:
        for key in settings:
            raise ValueError(f"unknown setting detectors.feedback.{key}")
        return cls()

    def prefetch(self, message: MessageEvent) -> list[str]:
        return [feedback_key(message.sender)]

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        counts = negative_feedback(ctx.store, ctx.message.sender, ctx.now)
        n = counts["block"] + counts["leave"]
        if n == 0:
            return ()
        s = 1.0 if n >= 3 else 0.7 if n == 2 else 0.35
        labels = {"block": "blocked it", "leave": "left the chat"}
        parts = [f"{v} {labels[k]}" for k, v in counts.items() if v]
        return (Hit("RECIPIENT_FEEDBACK", s,
                    f"of the people it wrote to, {' and '.join(parts)} in the last day"),)

    def observe(self, event: Event, now: float) -> None:
        if not isinstance(event, FeedbackEvent) or self.store is None:
            return
        if event.user == event.sender:
            return
        entries = read(self.store, event.sender, now)
        user = hash32(event.user)
        if event.op == "unblock":
            entries = [e for e in entries if not (e[1] == user and e[2] == OPS["block"])]
        else:
            op = OPS[event.op]
            if any(u == user and o == op for _, u, o in entries):
                return
            entries.append((now, user, op))
        pack(self.store, event.sender, entries, now)
