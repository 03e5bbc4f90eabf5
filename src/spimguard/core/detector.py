"""The detector contract, as the engine sees it.

A detector is a small object with a ``name``, a table of the signals it can
emit, and ``check(ctx)`` returning hits. It never decides an action and never
imports another detector; combinations belong in the policy. Detectors that
learn from the event stream also implement ``observe`` (the engine calls it
for every event, messages included, after the verdict). It lives in the core
so the engine can type against it without importing any detector.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from spimguard.core.context import MessageContext
from spimguard.core.events import Event
from spimguard.core.signals import Hit, SignalSpec

__all__ = ["Detector"]


class Detector(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def signals(self) -> Sequence[SignalSpec]: ...

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        """Hits for this message; raise ``Abstain`` to record "no opinion"."""

    def observe(self, event: Event, now: float) -> None:
        """Learn from an event (ground truth never arrives here)."""
