"""Uniform bursts: one message of the same size to many direct chats, in minutes.

Encryption hides the words, not the size: a lure pasted into twenty direct
chats makes twenty ciphertexts of nearly the same length within minutes.
People do write to several friends at once, but their messages differ in
length and arrive at human, uneven intervals. The detector counts distinct
direct-chat recipients in the last ``WINDOW`` whose message size is within
``SIMILAR`` of the burst's median (sizes are bytes of text, or of ciphertext
when the transport reports it), and adds when the gaps between sends are as
regular as a script's.

From a session under two hours old every direct chat counts, but answers to
people who wrote in the hour before (a thief's first minutes are spent
writing to the victim's friends; a new phone's are spent answering them):
0.35 from 2 chats in 10 minutes, 0.6 from 3, 0.8 from 5, 1 from 8; +0.2
when 3 or more have nearly the same size, +0.3 for clockwork timing (up to
1); half when the login was new in device or network but not both; then
+0.3 when the chats follow one another at machine pace (median gap under 3
s, whatever the login: a script's work).

From a session that is not new it is silent: a greeting to every friend from
one's own phone is ordinary (seen: eight short messages to eight friends in
a few minutes, whose sizes all fell within 16 bytes), and a script on an old
session is the rate limit's. (Not recording the owner's own sessions also
keeps the detector's cost off nearly every message.)
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.metadata import FRESH, facts
from spimguard.state.packed import hash32
from spimguard.state.sessions import ANSWER, DIRECT

__all__ = ["BurstDetector"]

WINDOW = 600.0
#: Sizes within this share of the median (or 16 bytes) are "the same".
SIMILAR = 0.2
#: Gaps whose coefficient of variation is under this are clockwork (>= 4 gaps).
REGULAR_CV = 0.25
SIZE_BONUS = 0.2
CLOCK_BONUS = 0.3
#: Direct chats written to this fast, one after another (median gap, seconds), are a
#: script's work: no person types into chat after chat at that pace.
MACHINE_GAP = 3.0
MACHINE_BONUS = 0.3


class BurstDetector(DetectorBase):
    name = "burst"
    signals = (
        SignalSpec("UNIFORM_BURST", 6.0, "A session under 2 hours old wrote to several "
                   "direct chats (not answers) within 10 minutes: 0.35 from 2, 0.6 "
                   "from 3, 0.8 from 5, 1 from 8; +0.2 "
                   "when 3 or more messages have nearly the same size (within 20%), +0.3 for "
                   "clockwork timing; half when the login was new in device or network, not "
                   "both; then +0.3 at machine pace (median gap under 3 s). Silent for "
                   "sessions that are not new."),
    )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> BurstDetector:
        for key in settings:
            raise ValueError(f"unknown setting detectors.burst.{key}")
        return cls()

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        f = facts(ctx)
        if not f.direct:
            raise Abstain("not a direct chat")
        if not f.new_session or f.session_age >= FRESH:
            raise Abstain("not a session under two hours old")
        # answers are conversations the other side started: not outreach
        recent = [e for e in f.outreach.since(ctx.now - WINDOW)
                  if e.flags & DIRECT and not e.flags & ANSWER]
        sends = [(e.ts, e.recipient, e.size) for e in recent]
        sends.extend((ctx.now, r, f.size or 0) for r in _hashes(ctx) if r not in f.answering)
        people = {r for _, r, _ in sends}
        if len(people) < 2:
            return ()
        alike = _alike(sends) if f.size else set()
        notes = []
        if alike and len(alike) >= 3:
            notes.append(f"{len(alike)} of nearly the same size")
        times = sorted({t for t, _, _ in sends})
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        clockwork = False
        if len(gaps) >= 4 and statistics.fmean(gaps) > 0:
            cv = statistics.pstdev(gaps) / statistics.fmean(gaps)
            if cv < REGULAR_CV:
                clockwork = True
                notes.append(f"clockwork timing (gap variation {cv:.2f})")
        machine = len(gaps) >= 2 and statistics.median(gaps) < MACHINE_GAP
        if machine:
            notes.append(f"at machine pace (median gap {statistics.median(gaps):.1f} s)")
        s = _new_session_strength(len(people))
        if len(alike) >= 3:
            s += SIZE_BONUS
        if clockwork:
            s += CLOCK_BONUS
        # no person writes to chat after chat within seconds, new phone or not
        s = min(1.0, s) * f.suspicion + (MACHINE_BONUS if machine else 0.0)
        notes.append("from a new session" if f.new_everywhere else
                     "from a new device (known network) or a new network (known device)")
        s = min(1.0, s)
        if s <= 0.0:
            return ()
        detail = f"{len(people)} direct chats in {int(WINDOW // 60)} min"
        return (Hit("UNIFORM_BURST", s, "; ".join([detail, *notes])),)


def _alike(sends: list[tuple[float, int, int]]) -> set[int]:
    """Recipients whose message size is within SIMILAR of the burst's median size."""
    sizes = [s for _, _, s in sends if s > 0]
    if not sizes:
        return set()
    mid = statistics.median(sizes)
    tol = max(16.0, SIMILAR * mid)
    return {r for _, r, s in sends if s > 0 and abs(s - mid) <= tol}


def _new_session_strength(n: int) -> float:
    if n >= 8:
        return 1.0
    if n >= 5:
        return 0.8
    if n >= 3:
        return 0.6
    if n >= 2:
        return 0.35
    return 0.0


def _hashes(ctx: MessageContext) -> list[int]:
    return [hash32(r) for r in ctx.message.recipients[:2]]
