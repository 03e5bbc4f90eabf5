"""Decoys: accounts no real person writes to (after HoneyIM, ACSAC 2007).

An operator creates a few accounts that nobody knows and places them where
only automation finds them: in contact lists harvested by malware, in
directories scraped by spammers. A message to one is spam by construction,
and its copies are on their way to everyone else: ``DECOY_HIT`` fires, and
the message seeds (or joins) a campaign that is confirmed at once, so every
later near-duplicate, from any sender, gets ``CAMPAIGN_TAKEDOWN`` from the
``campaigns`` detector. The decoy itself never needs to read anything.

Only direct messages count by default: a decoy in a room receives everyone's
messages, and ``include_rooms = true`` would lock every member who talks
there. A message too short to form a campaign ("hi") still gets DECOY_HIT
but seeds nothing. Encrypted messages get DECOY_HIT (recipients are
metadata) but seed nothing either: there is no text to match copies by.

Settings: ``decoys`` (list of user ids) and ``include_rooms``; decoys can
also be added and removed at run time (:meth:`DecoysDetector.add`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.campaigns.shared import CampaignState, campaigns_for
from spimguard.core.context import MessageContext
from spimguard.core.events import MessageEvent
from spimguard.core.signals import Hit, SignalSpec
from spimguard.core.verdicts import Verdict
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.shared import message_links

__all__ = ["DecoysDetector"]


class DecoysDetector(DetectorBase):
    name = "decoys"
    signals = (
        SignalSpec("DECOY_HIT", 10.0, "The message was sent to a decoy account that no real "
                   "person writes to; its campaign is confirmed at once."),
    )

    def __init__(self, decoys: Iterable[str] = (), state: CampaignState | None = None,
                 include_rooms: bool = False) -> None:
        """``state``: the same campaign state as the campaigns detector's (library
        use); ``None`` binds to the engine's store on first use."""
        self._decoys: set[str] = set(decoys)
        self._state = state
        self._fixed = state is not None
        self._store: object | None = None
        self.include_rooms = include_rooms

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> DecoysDetector:
        for key in settings:
            if key not in ("decoys", "include_rooms"):
                raise ValueError(f"unknown setting detectors.decoys.{key}")
        decoys = settings.get("decoys", [])
        if not isinstance(decoys, list) or not all(isinstance(d, str) and d for d in decoys):
            raise ValueError("detectors.decoys.decoys must be a list of user ids")
        rooms = settings.get("include_rooms", False)
        if not isinstance(rooms, bool):
            raise ValueError(f"detectors.decoys.include_rooms must be true or false, "
                             f"got {rooms!r}")
        return cls(decoys, include_rooms=rooms)

    @property
    def decoys(self) -> frozenset[str]:
        return frozenset(self._decoys)

    def add(self, user: str) -> None:
        """Register a decoy at run time (takes effect with the next message)."""
        if not user:
            raise ValueError("a decoy needs a user id")
        self._decoys.add(user)

    def remove(self, user: str) -> None:
        self._decoys.discard(user)

    def replace(self, users: Iterable[str], keep: Iterable[str] = ()) -> None:
        """Set the decoys to ``users`` plus ``keep`` (those of the policy), in one step."""
        self._decoys = {u for u in users if u} | set(keep)

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        msg = ctx.message
        if not self._decoys or (msg.room is not None and not self.include_rooms):
            return ()
        if self._decoys.isdisjoint(msg.recipients):
            return ()
        hit = sorted(self._decoys.intersection(msg.recipients))
        match = None
        if ctx.text is not None:
            ex = message_links(ctx)
            match = self._bind(ctx.store).mark_decoy(msg, ctx.text, hit[0], ctx.now,
                                                     ex.links if ex else None)
        more = f" and {len(hit) - 1} more" if len(hit) > 1 else ""
        return (Hit("DECOY_HIT", 1.0, f"sent to decoy account {hit[0]}{more}",
                    campaign=match.campaign if match is not None else None),)

    def on_verdict(self, message: MessageEvent, verdict: Verdict, now: float) -> None:
        if self._state is not None:
            self._state.record(message, verdict, now)

    def _bind(self, store: object) -> CampaignState:
        if self._state is None or (not self._fixed and self._store is not store):
            self._state = campaigns_for(store)
            self._store = store
        return self._state
