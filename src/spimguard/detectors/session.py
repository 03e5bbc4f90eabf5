"""New session: a device the account never sent from, or a login from a new place.

A stolen password shows first as a new session: the attacker's device id,
client or network is one the owner never used. It is the one signal that
survives end-to-end encryption untouched, and the other metadata detectors
weigh their findings by it. Alone it is weak on purpose (people buy phones):
it never holds a message by itself.

Where the transport gives a device id per message (Matrix gives it for every
local event), the id decides and beats the user agent: two sessions of the
same client on the same network are still two sessions. Without one, the
latest login from a device, client or IP never seen stands in for it.

This detector also *owns* the metadata state (``state.sessions``): in
``observe`` it records each message's session and one outreach entry per
recipient, which the dormancy, burst and correlation detectors read.
Device ids that change on every message (a broken or hostile client) are
capped: past ``CHURN`` new sessions a day the signal stops growing and says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.events import Event, MessageEvent, UnlockEvent
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.metadata import (
    DAY,
    DIRECT_MAX,
    FRESH,
    MAX_LOOKED_AT,
    MetaFacts,
    facts,
)
from spimguard.state.packed import hash32
from spimguard.state.sessions import (
    ANSWER,
    DIRECT,
    DORMANT,
    MAX_REACHED,
    NEW_SESSION,
    OUTREACH_WINDOW,
    SESSION_TTL,
    OutreachEntry,
    SessionBook,
    outreach_key,
    session_key,
    sessions_of,
)

__all__ = ["SessionDetector"]

#: New sessions a day past which device ids are taken to churn.
CHURN = 4
#: Strength after the first FRESH hours, up to a day.
LATE = 0.6
#: PARALLEL_SESSION's strength when the login was new in device or network, not both.
PARALLEL_ONE_NEW = 0.2
#: NEW_SESSION's share when the message can be read (the text detectors judge it).
READABLE = 0.34
#: The session book is written again after this long (seconds) even when no session
#: was added: its times need no finer grain.
REWRITE_AFTER = 60.0
#: A login where only the device or only the network is new (a new phone at home).
ONE_NEW = 0.6
#: A device id first seen without any new login nearby (the login may predate the
#: engine, or the transport reports none): half strength.
UNCONFIRMED = 0.5


class SessionDetector(DetectorBase):
    name = "session"
    signals = (
        SignalSpec("PARALLEL_SESSION", 5.0, "A new session sends while one of the "
                   "account's old devices sent within the hour: 1 when the new session's "
                   "login was new in device and network, 0.2 when only in one of them. Needs "
                   "device ids."),
        SignalSpec("SESSION_REACH", 0.0, "A session whose login came from a new device on "
                   "a new network wrote to `detectors.session.reach` (6) or more people in "
                   "its first day, in messages it cannot read (encrypted; needs device "
                   "ids). No score: shipped with account.forced.SESSION_REACH = "
                   "\"challenge\", so the session must re-authenticate (a step-up "
                   "check, as for a sign-in from a new place)."),
        SignalSpec("NEW_SESSION", 3.0, "The message comes from a session the account never "
                   "used before: a new device id, or (without one) a login from a new device, "
                   "client or network in the last day. 1 in the first 2 hours, 0.6 up to a "
                   "day; times 0.6 when the login was new in device or network but not "
                   "both; half when no new login confirms the device; a third when the "
                   "text can be read; 0.25 when device ids change all the time. Never "
                   "holds a message alone."),
    )

    def __init__(self, reach: int = 6) -> None:
        self.reach = reach
        self._pending: tuple[str, MetaFacts] | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SessionDetector:
        for key in settings:
            if key != "reach":
                raise ValueError(f"unknown setting detectors.session.{key}")
        reach = settings.get("reach", 6)
        if isinstance(reach, bool) or not isinstance(reach, int) or not 2 <= reach <= 16:
            raise ValueError(f"detectors.session.reach must be an integer from 2 to 16, "
                             f"got {reach!r}")
        return cls(reach)

    def _verify(self, user: str, now: float) -> None:
        """An unlock is the owner's (or a moderator's) word: the account's sessions as they
        stand are its own, no longer new."""
        assert self.store is not None
        book = sessions_of(self.store, user, now)
        if book is None:
            return
        for s in book.sessions.values():
            s.new = False
            s.reached.clear()
        self.store.set(session_key(user), book.to_bytes(), now, SESSION_TTL)

    @staticmethod
    def _reach(f: MetaFacts, message: MessageEvent) -> int:
        """People this session wrote to in its first day, this message's included."""
        known = f.book.sessions.get(f.session) if f.book is not None and f.session else None
        reached = set(known.reached) if known is not None else set()
        reached.update(hash32(r) for r in message.recipients[:MAX_REACHED])
        return len(reached)

    def prefetch(self, message: MessageEvent) -> list[str]:
        return [session_key(message.sender), outreach_key(message.sender)]

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        f = facts(ctx)
        self._pending = (ctx.message.id, f)
        if not f.new_session:
            raise Abstain("not a new session")
        strength = 1.0 if f.session_age < FRESH else LATE
        device = ctx.message.device
        if device is not None and not f.new_login:
            strength *= UNCONFIRMED
        elif not f.new_everywhere:
            strength *= ONE_NEW
        where = f"device {device[:40]}" if device is not None else "login"
        detail = f"new {where}, first seen {int(f.session_age // 60)} min ago"
        if f.new_everywhere:
            detail += ", after a login from a new device and a new network"
        if ctx.text is not None:
            # readable text is judged by its words and links; the session only nudges (on
            # the dev seeds it mostly tipped an owner's borderline text into a hold)
            strength *= READABLE
        if f.churn >= CHURN:
            strength = 0.25
            detail += f" ({f.churn} new device ids in a day: ids churn)"
            return (Hit("NEW_SESSION", strength, detail),)
        hits = [Hit("NEW_SESSION", strength, detail)]
        reach = self._reach(f, ctx.message)
        # a blunt rule, for when nothing finer can be read: plaintext from such a session
        # is judged by its words and links instead (in the simulator the rule caught no
        # plaintext worm that the text detectors missed, and tripled the owners challenged)
        if ctx.text is None and f.new_everywhere and f.session_age < DAY and reach >= self.reach:
            hits.append(Hit("SESSION_REACH", 1.0, f"a session from a new device on a new "
                            f"network wrote to {reach} people in its first day"))
        if f.parallel:
            # the owner's own device is in use this hour while a device from a new
            # network writes too: two people on one account (a phone and a new laptop at
            # home is common, hence the small share when only one of them is new)
            hits.append(Hit("PARALLEL_SESSION", 1.0 if f.new_everywhere else PARALLEL_ONE_NEW,
                            "the account's own device sent within the hour too"
                            + (" (this session: new device on a new network)"
                               if f.new_everywhere else "")))
        return hits

    def observe(self, event: Event, now: float) -> None:
        if isinstance(event, UnlockEvent) and self.store is not None:
            self._verify(event.user, now)
            return
        if not isinstance(event, MessageEvent) or self.store is None:
            return
        pending, self._pending = self._pending, None
        store = self.store
        if pending is not None and pending[0] == event.id:
            f: MetaFacts | None = pending[1]
            book = f.book if f is not None else None
        else:  # not checked here (history): record the session, no outreach
            f, book = None, sessions_of(store, event.sender, now)
        book = book if book is not None else SessionBook()
        session = hash32(event.device) if event.device else 0
        changed = book.last_message is None or now - book.last_message >= REWRITE_AFTER
        if session:
            added = session not in book.sessions
            s = book.see(session, now)
            if s.messages == 0 and f is not None and f.new_session:
                s.new = True  # the account's first device id, right after a new login
            s.last_seen = now
            s.messages += 1
            changed = changed or added
            if s.new and now - s.first_seen < DAY and len(s.reached) < MAX_REACHED:
                before = len(s.reached)
                s.reached.update(hash32(r) for r in event.recipients[:MAX_REACHED])
                changed = changed or len(s.reached) != before
        if changed:  # the book's times are kept to the minute: most messages write nothing
            book.last_message = now
            store.set(session_key(event.sender), book.to_bytes(), now, SESSION_TTL)
        if f is None or not f.new_session:
            return  # the owner's own sessions: no outreach kept (see metadata.facts)
        flags = (NEW_SESSION if f.new_session else 0) | (
            DIRECT if len(event.recipients) <= DIRECT_MAX else 0)
        size = f.size or 0
        entries = []
        for r in event.recipients[:MAX_LOOKED_AT]:
            h = hash32(r)
            entries.append(OutreachEntry(now, h, size, session,
                                         flags | (DORMANT if h in f.dormant else 0)
                                         | (ANSWER if h in f.answering else 0)))
        out = f.everything
        out.add(entries, now)
        store.set(outreach_key(event.sender), out.to_bytes(), now, OUTREACH_WINDOW)
