"""Base class for detectors; the contract itself is :class:`spimguard.core.detector.Detector`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from spimguard.core.context import MessageContext
from spimguard.core.detector import Detector
from spimguard.core.events import Event, MessageEvent
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.core.verdicts import Verdict
from spimguard.state.base import Store

__all__ = ["Abstain", "Detector", "DetectorBase"]


class DetectorBase:
    """Convenience base: detectors that keep no state need not write ``observe``."""

    name: str = ""
    signals: Sequence[SignalSpec] = ()
    #: The engine's store, given by the engine through :meth:`bind`; detectors
    #: that learn write to it in ``observe``.
    store: Store | None = None

    def bind(self, store: Store) -> None:
        self.store = store

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        raise NotImplementedError

    def observe(self, event: Event, now: float) -> None:
        return None

    def on_verdict(self, message: MessageEvent, verdict: Verdict, now: float) -> None:
        """Called after each verdict: learn what was delivered (e.g. campaign copies)."""
        return None

    # the engine skips hooks marked so (two calls per detector per message saved)
    observe.noop = True  # type: ignore[attr-defined]
    on_verdict.noop = True  # type: ignore[attr-defined]
