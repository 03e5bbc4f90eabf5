"""Dormant-contact wake-up: many people the account had not written to in weeks, at once.

A worm writes to the whole contact list; people write to the few they talk
to. Someone who had not written to a friend in a month writes again, but
seldom to five such friends within the hour, and almost never right after a
login from a new device. The detector counts, per account, the distinct
recipients it wrote to within the last hour whom it had not written to in
the 30 days before (or ever, as far as its profile remembers), leaving out
anyone who wrote first (a conversation being answered). Needs no text.

Strength 0.4 from 3 such people, 0.7 from 5, 1 from 8, from a new session
(half when its login was new in device or network but not both); a quarter
more (up to 1) when the account itself had sent nothing for two
weeks. From a session that is not new it fires only when the account itself
wakes up after two weeks' silence, at half strength: on a growing network
people write to new and half-forgotten acquaintances from their own phones
all the time (seen in the CollegeMsg simulation: 175 of its held ham). For
the same reason a recipient counts only if they had added the sender (an old
acquaintance). Blind spot: an account whose profile is younger than a few
messages (no history: the young-account signals judge those).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.metadata import DAY, IDLE, facts
from spimguard.detectors.shared import people_strength
from spimguard.state.sessions import DORMANT

__all__ = ["DormantDetector"]

WINDOW = 3600.0
IDLE_FACTOR = 1.25
#: Weight of the finding from a session that is not new.
KNOWN_SESSION = 0.5


class DormantDetector(DetectorBase):
    name = "dormant"
    signals = (
        SignalSpec("DORMANT_WAKEUP", 6.0, "Within an hour the account wrote to several "
                   "people it had not written to in 30 days (and who had not written "
                   "first): 0.4 from 3, 0.7 from 5, 1 from 8, from a new session (half when "
                   "new in device or network, not both); from an old "
                   "session only after two weeks' silence, at half; a quarter more when "
                   "the account had been silent two weeks."),
    )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> DormantDetector:
        for key in settings:
            raise ValueError(f"unknown setting detectors.dormant.{key}")
        return cls()

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        f = facts(ctx)
        if not f.dormant:
            raise Abstain("no dormant recipient")
        woken = {e.recipient for e in f.outreach.since(ctx.now - WINDOW)
                 if e.flags & DORMANT} | f.dormant
        s = people_strength(len(woken))
        if s == 0.0:
            return ()
        notes = []
        idle = f.idle is not None and f.idle >= IDLE
        if f.new_session:
            s *= f.suspicion
            notes.append("from a new session" if f.new_everywhere else
                         "from a new device or network")
        elif idle:
            s *= KNOWN_SESSION
        else:  # people on their own phone write to people they had lost touch with
            return ()
        if idle and f.idle is not None:
            s = min(1.0, s * IDLE_FACTOR)
            notes.append(f"first message in {int(f.idle // DAY)} days")
        detail = f"wrote to {len(woken)} people it had not written to in 30 days, within 1 h"
        return (Hit("DORMANT_WAKEUP", s, "; ".join([detail, *notes])),)
