"""The detector contract.

A detector is a small object with a ``name``, a table of the signals it can
emit, and ``check(ctx)`` returning hits. It never decides an action and never
imports another detector; combinations belong in the policy. Detectors that
learn from the event stream (behaviour, later) also implement ``observe``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from spimguard.core.context import MessageContext
from spimguard.core.events import Event
from spimguard.core.signals import Abstain, Hit, SignalSpec

__all__ = ["Abstain", "Detector", "DetectorBase"]


class Detector(Protocol):
    name: str
    signals: Sequence[SignalSpec]

    def check(self, ctx: MessageContext) -> Iterable[Hit]: ...

    def observe(self, event: Event, now: float) -> None: ...


class DetectorBase:
    """Convenience base: detectors that keep no state need not write ``observe``."""

    name: str = ""
    signals: Sequence[SignalSpec] = ()

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        raise NotImplementedError

    def observe(self, event: Event, now: float) -> None:
        return None
