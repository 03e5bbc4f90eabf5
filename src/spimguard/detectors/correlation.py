"""Platform-wide correlation: many accounts, each in a new session, fanning out at once.

A worm seeded with a batch of phished passwords, or a botnet of bought
accounts, starts everywhere at the same time: several accounts, each just
logged in from a new device, each writing to a handful of people within
minutes. One such account is a person with a new phone; many at once is a
campaign even when no one can read a word of it.

The detector keeps, platform-wide, the accounts that "fanned out from a new
session" (3 or more distinct recipients within 15 minutes, from a session
under 2 hours old) in the last ``WINDOW``, and compares their number with
the platform's own usual rate: an exponentially averaged count per window,
so that a large platform, where dozens of people get new phones every half
hour, needs proportionally more. It fires from ``max(3, 3 x usual)``
accounts: 0.5 there, 0.8 two more, 1 at twice the threshold.

Shared state is one key (``corr:fanouts``); with several workers on Redis
two simultaneous updates may lose one entry (the count is a little low,
never high).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.events import Event, MessageEvent
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.metadata import FRESH, facts
from spimguard.state.packed import hash32

__all__ = ["CorrelationDetector"]

WINDOW = 1800.0
FANOUT_WINDOW = 900.0
FANOUT_MIN = 3
MIN_ACCOUNTS = 3
#: The usual count is averaged over about this many windows.
BASELINE_WINDOWS = 48
MAX_ENTRIES = 512
_KEY = "corr:fanouts"
#: Baseline, the start of its current window, the count in it; then (time, account) pairs.
_HEAD = struct.Struct("<ddI")
_PAIR = struct.Struct("<II")


class _Fanouts:
    __slots__ = ("baseline", "entries", "started", "count")

    def __init__(self, raw: Any, now: float) -> None:
        self.baseline, self.started, self.count = 0.0, now, 0
        self.entries: list[tuple[float, int]] = []
        if isinstance(raw, bytes | bytearray) and len(raw) >= _HEAD.size and \
                (len(raw) - _HEAD.size) % _PAIR.size == 0:
            self.baseline, self.started, self.count = _HEAD.unpack_from(raw)
            self.entries = [(float(t), a) for t, a in _PAIR.iter_unpack(raw[_HEAD.size:])]
        if not math.isfinite(self.baseline) or not math.isfinite(self.started):
            self.baseline, self.started, self.count = 0.0, now, 0
        self.entries = [(t, a) for t, a in self.entries if 0.0 <= now - t <= WINDOW]

    def accounts(self) -> set[int]:
        return {a for _, a in self.entries}

    def threshold(self) -> int:
        return max(MIN_ACCOUNTS, math.ceil(3.0 * self.baseline))

    def add(self, account: int, now: float) -> None:
        # roll the baseline window(s) forward: each finished window feeds the average
        while now - self.started >= WINDOW:
            a = 1.0 / BASELINE_WINDOWS
            self.baseline += a * (self.count - self.baseline)
            self.count = 0
            self.started += WINDOW
            if now - self.started > WINDOW * BASELINE_WINDOWS:  # long idle: jump ahead
                self.started = now
        if account in self.accounts():
            return
        self.count += 1
        self.entries.append((now, account))
        self.entries = self.entries[-MAX_ENTRIES:]

    def to_bytes(self) -> bytes:
        return _HEAD.pack(self.baseline, self.started, self.count) + b"".join(
            _PAIR.pack(min(max(int(t), 0), 0xFFFFFFFF), a) for t, a in self.entries)


class CorrelationDetector(DetectorBase):
    name = "correlation"
    signals = (
        SignalSpec("METADATA_CAMPAIGN", 8.0, "Many accounts at once, each from a session "
                   "under 2 hours old, wrote to 3 or more people within 15 minutes: fires "
                   "from max(3, 3 x the platform's usual number) in 30 minutes (0.5), 0.8 "
                   "two more, 1 at twice that. Reads no text."),
    )

    def __init__(self) -> None:
        self._pending: str | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> CorrelationDetector:
        for key in settings:
            raise ValueError(f"unknown setting detectors.correlation.{key}")
        return cls()

    def prefetch(self, message: MessageEvent) -> list[str]:
        return [_KEY]

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        self._pending = None
        f = facts(ctx)
        if not f.new_session or f.session_age >= FRESH:
            raise Abstain("not a fresh session")
        reached = {e.recipient for e in f.outreach.since(ctx.now - FANOUT_WINDOW)}
        reached.update(hash32(r) for r in ctx.message.recipients[:32])
        if len(reached) < FANOUT_MIN:
            return ()
        self._pending = ctx.message.id
        state = _Fanouts(ctx.store.get(_KEY, ctx.now), ctx.now)
        accounts = state.accounts() | {hash32(ctx.message.sender)}
        need = state.threshold()
        n = len(accounts)
        if n < need:
            return ()
        s = 1.0 if n >= 2 * need else 0.8 if n >= need + 2 else 0.5
        return (Hit("METADATA_CAMPAIGN", s,
                    f"{n} accounts fanned out from new sessions in {int(WINDOW // 60)} min "
                    f"(usual: {state.baseline:.1f})"),)

    def observe(self, event: Event, now: float) -> None:
        if not isinstance(event, MessageEvent) or self.store is None:
            return
        if self._pending != event.id:
            return
        self._pending = None
        state = _Fanouts(self.store.get(_KEY, now), now)
        state.add(hash32(event.sender), now)
        self.store.set(_KEY, state.to_bytes(), now, WINDOW * BASELINE_WINDOWS)
