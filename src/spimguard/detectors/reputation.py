"""Sender reputation from reports: the people who got a sender's messages call it spam.

Campaigns catch what many senders send alike; this catches one sender whose
recipients complain, e.g. a compromised friend writing to each contact in
its own words. A report names a message, not its sender, so the detector
remembers who sent each of the last ``remember`` messages (about 170 bytes
each: 100,000 cost ~17 MB); a report on an older message is not attributed.

Per reported sender the store keeps a score with a 7-day half-life and the
hashes of up to 16 reporters, so each person counts once per sender. A
report weighs its reporter's track record (0.5 for someone new; see
:class:`~spimguard.campaigns.ReporterTrust`): a moderator's verdict on a
reported message makes its reporters right or wrong, so someone who reports
their friends out of spite soon counts for little. A moderator's spam report
counts 3 at once; a moderator's "not spam" clears the sender.

``REPORTED_SENDER`` fires from a score of 1 (two new reporters), strength
score / 3 up to 1. Blind spot: a sender whose recipients never report.
"""

from __future__ import annotations

import math
import struct
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.campaigns.reporters import ReporterTrust
from spimguard.core.context import MessageContext
from spimguard.core.events import Event, MessageEvent, ReportEvent
from spimguard.core.signals import Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.state.packed import hash32, pack_u32, unpack_u32

__all__ = ["ReputationDetector"]

HALF_LIFE = 7 * 86400.0
#: Reporters remembered per sender (each counts once).
MAX_REPORTERS = 16
MODERATOR_WEIGHT = 3.0
#: About two new reporters (a little less, so that a day of decay does not undo them).
FIRES_FROM = 0.9
FULL_AT = 3.0
#: Kept after the last report (seconds); the score has decayed to ~1% by then.
TTL = 7 * HALF_LIFE
#: Score, time of the score, then reporter hashes.
_HEAD = struct.Struct("<dd")


def _key(sender: str) -> str:
    return f"rep:{sender}"


def _decayed(score: float, since: float, now: float) -> float:
    return score * math.pow(0.5, max(now - since, 0.0) / HALF_LIFE)


class ReputationDetector(DetectorBase):
    name = "reputation"
    signals = (
        SignalSpec("REPORTED_SENDER", 4.0, "People who received this sender's messages "
                   "reported them as spam, each weighted by their track record (0.5 when "
                   "new; a moderator counts 3); fires from 1, full at 3; halves every 7 days."),
    )

    def __init__(self, moderators: Iterable[str] = (), remember: int = 100_000) -> None:
        if remember < 1:
            raise ValueError("detectors.reputation.remember must be at least 1")
        self.moderators = frozenset(moderators)
        self.remember = remember
        self.trust = ReporterTrust()
        self._senders: OrderedDict[str, str] = OrderedDict()
        #: message id -> users who reported it as spam (for their track record)
        self._reporters: OrderedDict[str, list[str]] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ReputationDetector:
        for key in settings:
            if key not in ("moderators", "remember"):
                raise ValueError(f"unknown setting detectors.reputation.{key}")
        mods = settings.get("moderators", [])
        if not isinstance(mods, list) or not all(isinstance(m, str) and m for m in mods):
            raise ValueError("detectors.reputation.moderators must be a list of user ids")
        remember = settings.get("remember", 100_000)
        if isinstance(remember, bool) or not isinstance(remember, int) or remember < 1:
            raise ValueError(f"detectors.reputation.remember must be a positive integer, "
                             f"got {remember!r}")
        return cls(mods, remember)

    def prefetch(self, message: MessageEvent) -> list[str]:
        return [_key(message.sender)]

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        score, _ = self._read(ctx.message.sender, ctx.now)
        if score < FIRES_FROM:
            return ()
        return (Hit("REPORTED_SENDER", min(1.0, score / FULL_AT),
                    f"{ctx.message.sender} reported as spam (weight {score:.1f})"),)

    def observe(self, event: Event, now: float) -> None:
        if isinstance(event, MessageEvent):
            self._senders[event.id] = event.sender
            self._senders.move_to_end(event.id)
            if len(self._senders) > self.remember:
                self._senders.popitem(last=False)
        elif isinstance(event, ReportEvent):
            moderator = event.moderator or event.reporter in self.moderators
            self.report(event.reporter, event.message_id, event.label, now, moderator,
                        sender=event.sender)

    def report(self, reporter: str, message_id: str, label: str, now: float,
               moderator: bool = False, sender: str | None = None) -> bool:
        """Apply a report; False when the message's sender is not known (too old, unseen,
        and not named by the report)."""
        sender = self._senders.get(message_id) or sender
        if sender is None or self.store is None:
            return False
        if moderator:
            right = label == "spam"
            for r in self._reporters.pop(message_id, []):
                self.trust.adjust(r, right=1.0 if right else 0.0, wrong=0.0 if right else 1.0)
            if right:
                self._add(sender, reporter, MODERATOR_WEIGHT, now)
            else:
                self.store.delete(_key(sender))
            return True
        if label != "spam" or reporter == sender:
            return True
        if self._add(sender, reporter, self.trust.weight(reporter), now):
            who = self._reporters.setdefault(message_id, [])
            who.append(reporter)
            self._reporters.move_to_end(message_id)
            if len(self._reporters) > self.remember:
                self._reporters.popitem(last=False)
        return True

    # -- state -------------------------------------------------------------------

    def _read(self, sender: str, now: float) -> tuple[float, list[int]]:
        raw = self.store.get(_key(sender), now) if self.store is not None else None
        if not isinstance(raw, bytes) or len(raw) < _HEAD.size or (len(raw) - _HEAD.size) % 4:
            return 0.0, []
        score, since = _HEAD.unpack_from(raw)
        return _decayed(score, since, now), list(unpack_u32(raw, _HEAD.size))

    def _add(self, sender: str, reporter: str, weight: float, now: float) -> bool:
        """Add one reporter's weight to the sender; False if they had reported it already."""
        assert self.store is not None
        score, reporters = self._read(sender, now)
        h = hash32(reporter)
        if h in reporters:
            return False
        reporters = (reporters + [h])[-MAX_REPORTERS:]
        self.store.set(_key(sender), _HEAD.pack(score + weight, now) + pack_u32(reporters),
                       now, TTL)
        return True
